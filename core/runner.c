/* runner.c -- placeholder until implemented */
#include "runner.h"
