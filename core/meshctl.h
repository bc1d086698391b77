#ifndef MESHCTL_H
#define MESHCTL_H
#endif
