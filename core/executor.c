/* executor.c -- placeholder until implemented */
#include "executor.h"
