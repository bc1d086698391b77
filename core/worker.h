/* worker.h -- placeholder until implemented */
#ifndef MESHD_WORKER_H
#define MESHD_WORKER_H
#endif
