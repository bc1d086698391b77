/* dag.c -- placeholder until implemented */
#include "dag.h"
