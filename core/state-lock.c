/*
 * state-lock.c -- who holds a state database's write lock, for the
 * message of a wait given up (state_busy_message()).
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state.h"
#include "util.h"

/*
 * The WAL write lock: SQLite's unix VFS takes it as a POSIX (fcntl) lock
 * on one byte of the -shm file.  The shm's eight lock bytes start at
 * offset 120 (UNIX_SHM_BASE in os_unix.c, WALINDEX_LOCK_OFFSET in wal.c;
 * see "the 8 bytes of the shm file starting at offset 120" in
 * https://www.sqlite.org/walformat.html): write, checkpoint, recover,
 * then the five read marks.
 */
#define STATE_SHM_LOCK_BASE	120
#define STATE_SHM_WRITE_LOCK	STATE_SHM_LOCK_BASE
#define STATE_SHM_NLOCK		8

/*
 * Who holds the WAL write lock of the database at `path`: its pid (and
 * its name from /proc/PID/comm into `name`), or 0 when nobody does or it
 * cannot be told.  /proc/locks lists every POSIX lock with the holder's
 * pid, the file's device and inode and the byte range; the shm file is
 * never opened here, because closing any descriptor of a file drops every
 * POSIX lock this process holds on it (SQLite's own included).
 */
pid_t
state_wal_writer(const char *path, char *name, size_t len)
{
	struct stat	 sb;
	FILE		*f;
	char		*shm, line[256], cls[16], adv[16], type[16], end[32];
	char		*p, *nl;
	unsigned	 maj, mino;
	unsigned long	 ino;
	long		 pid, best = 0, other = 0;
	long long	 start, stop;

	if (len > 0)
		*name = '\0';
	shm = xasprintf("%s-shm", path);
	if (stat(shm, &sb) == -1) {
		free(shm);
		return 0;
	}
	free(shm);
	if ((f = fopen("/proc/locks", "re")) == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL) {
		/* "7: POSIX  ADVISORY  WRITE 1234 08:01:5678 120 120"; a
		 * line with "->" is a waiter, not a holder. */
		if ((p = strchr(line, ':')) == NULL || strstr(p, "->") != NULL)
			continue;
		if (sscanf(p + 1, "%15s %15s %15s %ld %x:%x:%lu %lld %31s",
		    cls, adv, type, &pid, &maj, &mino, &ino, &start, end) != 9)
			continue;
		if (strcmp(type, "WRITE") != 0 || pid <= 0 || pid == getpid() ||
		    ino != (unsigned long)sb.st_ino || maj != major(sb.st_dev) ||
		    mino != minor(sb.st_dev))
			continue;
		stop = strcmp(end, "EOF") == 0 ? start + STATE_SHM_NLOCK +
		    STATE_SHM_LOCK_BASE : strtoll(end, NULL, 10);
		if (start <= STATE_SHM_WRITE_LOCK &&
		    stop >= STATE_SHM_WRITE_LOCK)
			best = pid;
		else if (start < STATE_SHM_LOCK_BASE + STATE_SHM_NLOCK &&
		    stop >= STATE_SHM_LOCK_BASE)
			other = pid;	/* checkpoint or recovery */
	}
	fclose(f);
	if (best == 0)
		best = other;
	if (best != 0 && len > 0) {
		shm = xasprintf("/proc/%ld/comm", best);
		if ((f = fopen(shm, "re")) != NULL) {
			if (fgets(name, (int)len, f) == NULL)
				*name = '\0';
			if ((nl = strchr(name, '\n')) != NULL)
				*nl = '\0';
			fclose(f);
		}
		free(shm);
	}
	return (pid_t)best;
}

char *
state_busy_message(const char *path, int64_t waited_us)
{
	char	name[64], dur[32], who[96];
	pid_t	pid;

	if (waited_us < 10 * 1000000LL)
		snprintf(dur, sizeof dur, "%.1f s", (double)waited_us / 1e6);
	else
		snprintf(dur, sizeof dur, "%lld s",
		    (long long)((waited_us + 500000) / 1000000));
	pid = state_wal_writer(path, name, sizeof name);
	if (pid > 0 && *name != '\0')
		snprintf(who, sizeof who, " (pid %ld, %s)", (long)pid, name);
	else if (pid > 0)
		snprintf(who, sizeof who, " (pid %ld)", (long)pid);
	else
		*who = '\0';
	return xasprintf("%s: the state is busy: another process has held its "
	    "write lock for %s%s", path, dur, who);
}

