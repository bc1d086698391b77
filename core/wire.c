/* wire.c -- placeholder until implemented */
#include "wire.h"
