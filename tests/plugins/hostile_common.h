/*
 * hostile_common.h -- helpers shared by the hostile test plugins: write a
 * pidfile (the tests check with kill -0 that its process is gone once the
 * attempt has ended).
 */
#ifndef HOSTILE_COMMON_H
#define HOSTILE_COMMON_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Write our pid into DIR/NAME.pid (DIR: the "piddir" parameter). */
static inline void
hostile_pidfile(const char *dir, const char *name)
{
	char	path[4096], buf[32];
	int	fd, n;

	if (dir == NULL || *dir == '\0')
		return;
	snprintf(path, sizeof path, "%s/%s.%ld.pid", dir, name,
	    (long)getpid());
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		return;
	n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		/* the test will see no pid: it fails there */
	}
	close(fd);
}

#endif
