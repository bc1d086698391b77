/* state.c -- placeholder until implemented */
#include "state.h"
