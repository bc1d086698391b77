/* wire.h -- placeholder until implemented */
#ifndef MESHD_WIRE_H
#define MESHD_WIRE_H
#endif
