/* util.c -- allocation wrappers, causes, clocks and paths. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include "util.h"

static void
oom(size_t n)
{
	fprintf(stderr, "meshd: out of memory allocating %zu bytes\n", n);
	abort();
}

void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		oom(n);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL)
		oom(n * size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n == 0 ? 1 : n)) == NULL)
		oom(n);
	return p;
}

void *
xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size) {
		fprintf(stderr, "meshd: allocation overflow (%zu x %zu)\n",
		    n, size);
		abort();
	}
	return xrealloc(p, n * size);
}

char *
xstrdup(const char *s)
{
	size_t	 n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

int
str_same(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

char *
xstrdup_null(const char *s)
{
	return s == NULL ? NULL : xstrdup(s);
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;
	size_t	 len = strnlen(s, n);

	p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	va_list	 aq;
	int	 n;
	char	*p;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0) {
		fprintf(stderr, "meshd: bad format string \"%s\"\n", fmt);
		abort();
	}
	p = xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

void
sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	for (;;) {
		if (b->cap - b->len < 2) {
			b->cap = b->cap < 64 ? 128 : b->cap * 2;
			b->buf = xrealloc(b->buf, b->cap);
		}
		va_start(ap, fmt);
		n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			fprintf(stderr, "meshd: bad format string \"%s\"\n",
			    fmt);
			abort();
		}
		if ((size_t)n < b->cap - b->len)
			break;
		b->cap = b->len + (size_t)n + 1 > b->cap * 2 ?
		    b->len + (size_t)n + 1 : b->cap * 2;
		b->buf = xrealloc(b->buf, b->cap);
	}
	b->len += (size_t)n;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*p;

	va_start(ap, fmt);
	p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

void
set_cause(char **cause, const char *fmt, ...)
{
	va_list	 ap;

	if (cause == NULL)
		return;
	free(*cause);
	va_start(ap, fmt);
	*cause = xvasprintf(fmt, ap);
	va_end(ap);
}

int64_t
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
mono_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

char *
fmt_utc(int64_t us, char *buf, size_t len)
{
	time_t		t = (time_t)(us / 1000000);
	struct tm	tm;

	if (us < 0 && us % 1000000 != 0)
		t--;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

char *
fmt_duration(int64_t us, char *buf, size_t len)
{
	int64_t	s;

	if (us < 0)
		us = 0;
	s = us / 1000000;
	if (us < 1000)
		snprintf(buf, len, "%dus", (int)us);
	else if (us < 1000000)
		snprintf(buf, len, "%dms", (int)(us / 1000));
	else if (s < 60)
		snprintf(buf, len, "%.2fs", (double)us / 1e6);
	else if (s < 3600)
		snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)(s % 60));
	else
		snprintf(buf, len, "%dh%02dm", (int)(s / 3600),
		    (int)(s % 3600 / 60));
	return buf;
}

int
mkdir_p(const char *path, int mode, char **cause)
{
	char	*p, *s;
	int	 rc = -1;

	struct stat	sb;

	/* Usually it exists: a stat walks the path without locking the
	 * parent, as mkdir does even to say EEXIST. */
	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return 0;
	/* Usually the parent exists: one mkdir instead of one per level. */
	if (mkdir(path, (mode_t)mode) == 0 || errno == EEXIST)
		return 0;
	p = xstrdup(path);
	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		{
			char	c = *s;

			*s = '\0';
			if (mkdir(p, (mode_t)mode) == -1 && errno != EEXIST) {
				set_cause(cause, "%s: cannot create directory: %s",
				    p, strerror(errno));
				goto out;
			}
			*s = c;
		}
		if (*s == '\0')
			break;
	}
	rc = 0;
out:
	free(p);
	return rc;
}

char *
path_join(const char *dir, const char *rel)
{
	size_t	n;

	if (rel[0] == '/' || dir == NULL || dir[0] == '\0')
		return xstrdup(rel);
	n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 1 && dir[0] == '.')
		return xstrdup(rel);
	return xasprintf("%.*s/%s", (int)n, dir, rel);
}

char *
path_dirname(const char *path)
{
	const char	*s = strrchr(path, '/');

	if (s == NULL)
		return xstrdup(".");
	if (s == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(s - path));
}

/* The parent and process group of `pid` from /proc/PID/stat.  -1 if it
 * is gone. */
int
proc_stat(pid_t pid, pid_t *ppid, pid_t *pgrp)
{
	char		 path[64], buf[512], *p;
	ssize_t		 n;
	int		 fd;
	long		 pp, pg;
	char		 state;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The name may hold spaces and parentheses: skip to the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %c %ld %ld", &state, &pp, &pg) != 3)
		return -1;
	*ppid = (pid_t)pp;
	*pgrp = (pid_t)pg;
	return 0;
}
