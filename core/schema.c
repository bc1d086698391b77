/* schema.c -- placeholder until implemented */
#include "state.h"
