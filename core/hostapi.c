/* hostapi.c -- placeholder until implemented */
#include "hostapi.h"
