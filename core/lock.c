/* lock.c -- one writer per state database, by flock on a lock file. */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lock.h"
#include "util.h"

int
state_lock(const char *state_db, pid_t *holder, char **cause)
{
	char	*path, *dir, buf[32];
	int	 fd;
	ssize_t	 n;

	*holder = 0;
	dir = path_dirname(state_db);
	if (mkdir_p(dir, 0750, cause) != 0) {
		free(dir);
		return -1;
	}
	free(dir);
	path = xasprintf("%s.lock", state_db);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) == -1) {
		set_cause(cause, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			n = pread(fd, buf, sizeof buf - 1, 0);
			buf[n > 0 ? n : 0] = '\0';
			*holder = (pid_t)strtol(buf, NULL, 10);
			if (*holder > 0)
				set_cause(cause, "%s is in use by pid %ld "
				    "(lock %s)", state_db, (long)*holder, path);
			else
				set_cause(cause, "%s is in use by another "
				    "process (lock %s)", state_db, path);
		} else
			set_cause(cause, "%s: flock: %s", path,
			    strerror(errno));
		close(fd);
		free(path);
		return -1;
	}
	snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 ||
	    pwrite(fd, buf, strlen(buf), 0) != (ssize_t)strlen(buf)) {
		set_cause(cause, "%s: %s", path, strerror(errno));
		close(fd);
		free(path);
		return -1;
	}
	free(path);
	return fd;
}

pid_t
state_lock_holder(const char *state_db)
{
	char	*path = xasprintf("%s.lock", state_db), buf[32];
	int	 fd;
	ssize_t	 n;
	pid_t	 pid;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd == -1)
		return 0;
	/* A lock we can take is a lock nobody holds. */
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		close(fd);
		return 0;
	}
	n = pread(fd, buf, sizeof buf - 1, 0);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	pid = (pid_t)strtol(buf, NULL, 10);
	return pid > 0 ? pid : -1;
}

void
state_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}
