#include "meshctl.h"
