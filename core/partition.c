/* partition.c -- placeholder until implemented */
#include "partition.h"
