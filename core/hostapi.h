/* hostapi.h -- placeholder until implemented */
#ifndef MESHD_HOSTAPI_H
#define MESHD_HOSTAPI_H
#endif
