/* loader.c -- placeholder until implemented */
#include "loader.h"
