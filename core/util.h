/*
 * util.h -- allocation wrappers, error causes and time, shared by all of core.
 *
 * Allocation wrappers abort on out-of-memory (there is nothing sensible a
 * scheduler can do without memory, and checking every allocation hides the
 * real error paths).  Fallible functions in core return -1 or NULL and
 * explain through a `char **cause` out-parameter set with set_cause(); the
 * caller frees *cause.
 */
#ifndef MESHD_UTIL_H
#define MESHD_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#if defined(__GNUC__)
#define PRINTFLIKE(f, a) __attribute__((format(printf, f, a)))
#define UNUSED __attribute__((unused))
#else
#define PRINTFLIKE(f, a)
#define UNUSED
#endif

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
/* xreallocarray(p, n, size): realloc to n*size, aborting on overflow. */
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
/* xstrdup of NULL is NULL. */
char	*xstrdup_null(const char *);
/* Whether two strings, either of which may be NULL, are the same. */
int	 str_same(const char *, const char *);
char	*xstrndup(const char *, size_t);
char	*xasprintf(const char *, ...) PRINTFLIKE(1, 2);
char	*xvasprintf(const char *, va_list);
/* A growing string: zero it to start, sbuf_printf() to append; buf is the
 * caller's to free.  Never NULL once appended to. */
struct sbuf {
	char	*buf;
	size_t	 len, cap;
};
void	 sbuf_printf(struct sbuf *, const char *, ...) PRINTFLIKE(2, 3);

/* Set *cause to a new formatted message, unless cause is NULL.  An earlier
 * message in *cause is freed and replaced. */
void	 set_cause(char **cause, const char *, ...) PRINTFLIKE(2, 3);

/* Wall clock, microseconds since the Unix epoch, UTC.  Every time stored by
 * meshd uses this unit. */
int64_t	 now_us(void);
/* Monotonic clock in microseconds, for timeouts and durations. */
int64_t	 mono_us(void);
/* Format a UTC time as "2001-01-02T03:04:05Z" into buf (>= 32 bytes). */
char	*fmt_utc(int64_t us, char *buf, size_t len);
/* Format a duration as "1.23s", "4m05s", "2h03m" into buf (>= 32 bytes). */
char	*fmt_duration(int64_t us, char *buf, size_t len);

/* mkdir -p with the given mode; 0 or -1 with cause. */
int	 mkdir_p(const char *path, int mode, char **cause);
/* Join a directory and a relative path; an absolute `rel` is returned as a
 * copy.  Always a new string. */
char	*path_join(const char *dir, const char *rel);
/* Directory part of a path, as a new string ("." if none). */
char	*path_dirname(const char *path);

/* The parent and process group of `pid`, from /proc/PID/stat (workers
 * and the supervisor walk the process tree with it).  0, or -1 if the
 * process is gone. */
int	proc_stat(pid_t pid, pid_t *ppid, pid_t *pgrp);

#endif
