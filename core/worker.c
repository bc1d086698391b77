/* worker.c -- placeholder until implemented */
#include "worker.h"
