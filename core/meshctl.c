#include "meshctl.h"
int main(void) { return 0; }
