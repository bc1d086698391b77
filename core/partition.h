/* partition.h -- placeholder until implemented */
#ifndef MESHD_PARTITION_H
#define MESHD_PARTITION_H
#endif
