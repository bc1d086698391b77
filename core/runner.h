/* runner.h -- placeholder until implemented */
#ifndef MESHD_RUNNER_H
#define MESHD_RUNNER_H
#endif
