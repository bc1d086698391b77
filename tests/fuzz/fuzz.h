/*
 * fuzz.h -- what the libFuzzer targets of tests/fuzz/ share.
 *
 * Each fuzz-NAME.c defines LLVMFuzzerTestOneInput().  Built with clang
 * -fsanitize=fuzzer by `make fuzz`, libFuzzer drives it; built with the
 * project's compiler against replay.c, `make check` runs it once over each
 * file of corpus/NAME/ so that every input that once crashed stays fixed.
 *
 * Targets that parse files write the input into a private temporary
 * directory made once per process and removed at exit.
 */
#ifndef MESHD_FUZZ_H
#define MESHD_FUZZ_H

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * LeakSanitizer's built-in suppressions, for libFuzzer and for the replay
 * tests of the sanitizer build alike.  libconfig 1.5 (Debian 12) leaks the
 * text of a string token that its parser refuses: its grammar has no
 * %destructor, so on a syntax error such as `plugin"= "y";` the token's
 * buffer (strbuf_append, or a calloc(1) in the scanner for "") is never
 * freed.  A few bytes per refused file, inside libconfig; nothing in meshd
 * holds the pointer.  Weak: replay.c includes this file too.
 */
const char	*__lsan_default_suppressions(void);
__attribute__((weak)) const char *
__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

/* Stop the process: a harness that cannot set itself up finds nothing. */
static inline void	fuzz_die(const char *) __attribute__((noreturn));
static inline void
fuzz_die(const char *what)
{
	fprintf(stderr, "fuzz: %s: %s\n", what, strerror(errno));
	abort();
}

/* Write `len` bytes of `data` to `path`, replacing it. */
static inline void
fuzz_write(const char *path, const void *data, size_t len)
{
	const unsigned char	*p = data;
	ssize_t			 n;
	int			 fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		fuzz_die(path);
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			fuzz_die(path);
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) == -1)
		fuzz_die(path);
}

/* A string of `len` bytes of `data`, NUL-terminated (new). */
static inline char *
fuzz_str(const uint8_t *data, size_t len)
{
	char	*s;

	if ((s = malloc(len + 1)) == NULL)
		fuzz_die("malloc");
	memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

/* Files made under the temporary directory, removed at exit (rmdir of
 * the directories last, so they are listed after their files). */
static char	*fuzz_paths[16];
static int	 fuzz_npaths;

static inline void
fuzz_cleanup(void)
{
	int	i;

	for (i = fuzz_npaths - 1; i >= 0; i--) {
		if (unlink(fuzz_paths[i]) == -1)
			rmdir(fuzz_paths[i]);
		free(fuzz_paths[i]);
	}
	fuzz_npaths = 0;
}

/* Remember `path` (a file, or a directory made before its files) for
 * removal at exit; returns a copy. */
static inline char *
fuzz_track(const char *path)
{
	char	*p;

	if (fuzz_npaths == (int)(sizeof fuzz_paths / sizeof fuzz_paths[0]) ||
	    (p = strdup(path)) == NULL)
		fuzz_die("fuzz_track");
	if (fuzz_npaths == 0)
		atexit(fuzz_cleanup);
	fuzz_paths[fuzz_npaths++] = p;
	return p;
}

/* A new private directory under $TMPDIR (tracked). */
static inline char *
fuzz_tmpdir(void)
{
	const char	*tmp = getenv("TMPDIR");
	char		 buf[4096];

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(buf, sizeof buf, "%s/meshd-fuzz-XXXXXX", tmp);
	if (mkdtemp(buf) == NULL)
		fuzz_die(buf);
	return fuzz_track(buf);
}

/* dir/name, made as a directory (tracked). */
static inline char *
fuzz_mkdir(const char *dir, const char *name)
{
	char	buf[4096];

	snprintf(buf, sizeof buf, "%s/%s", dir, name);
	if (mkdir(buf, 0755) == -1 && errno != EEXIST)
		fuzz_die(buf);
	return fuzz_track(buf);
}

/* dir/name, a file holding `text` (tracked). */
static inline char *
fuzz_file(const char *dir, const char *name, const char *text)
{
	char	buf[4096];

	snprintf(buf, sizeof buf, "%s/%s", dir, name);
	fuzz_write(buf, text, strlen(text));
	return fuzz_track(buf);
}

#endif
