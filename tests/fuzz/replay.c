/*
 * replay.c -- run a fuzz target over files, without libFuzzer.
 *
 * Linked with one fuzz-NAME.c by the normal build, it is a `make check`
 * test: with no arguments it feeds every file of
 * $top_srcdir/tests/fuzz/corpus/NAME/ (FUZZ_NAME) to the target once, so
 * that the seeds and every input that once crashed (kept there) are run
 * under the suite's sanitizers and valgrind.  With arguments, it runs those
 * files or directories instead (to reproduce a crash from make fuzz under
 * gdb without clang).  A target reports a failure by crashing; exit 0
 * means every input passed.
 */
#include <dirent.h>

#include "fuzz.h"

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
run_file(const char *path)
{
	struct stat	 sb;
	uint8_t		*buf;
	ssize_t		 n;
	size_t		 got = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &sb) == -1)
		fuzz_die(path);
	/* One byte more than the size, so that an empty file is a valid
	 * buffer too. */
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL)
		fuzz_die("malloc");
	while (got < (size_t)sb.st_size) {
		if ((n = read(fd, buf + got, (size_t)sb.st_size - got)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			fuzz_die(path);
		}
		got += (size_t)n;
	}
	close(fd);
	LLVMFuzzerTestOneInput(buf, got);
	free(buf);
}

/* Run `path`, or each file of it in name order; returns the count. */
static size_t
run_path(const char *path)
{
	struct stat	  sb;
	struct dirent	 *de;
	DIR		 *d;
	char		**names = NULL, buf[4096];
	size_t		  n = 0, i;

	if (stat(path, &sb) == -1)
		fuzz_die(path);
	if (!S_ISDIR(sb.st_mode)) {
		run_file(path);
		return 1;
	}
	if ((d = opendir(path)) == NULL)
		fuzz_die(path);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((names = realloc(names, (n + 1) * sizeof *names)) == NULL ||
		    (names[n] = strdup(de->d_name)) == NULL)
			fuzz_die("malloc");
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, cmp);
	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof buf, "%s/%s", path, names[i]);
		run_file(buf);
		free(names[i]);
	}
	free(names);
	return n;
}

int
main(int argc, char **argv)
{
	const char	*top = getenv("top_srcdir");
	char		 buf[4096];
	size_t		 n = 0;
	int		 i;

	if (argc > 1) {
		for (i = 1; i < argc; i++)
			n += run_path(argv[i]);
	} else {
		snprintf(buf, sizeof buf, "%s/tests/fuzz/corpus/%s",
		    top != NULL ? top : ".", FUZZ_NAME);
		n = run_path(buf);
		if (n == 0) {
			fprintf(stderr, "replay-%s: %s is empty\n", FUZZ_NAME,
			    buf);
			return 1;
		}
	}
	printf("replay-%s: %zu input%s passed\n", FUZZ_NAME, n,
	    n == 1 ? "" : "s");
	return 0;
}
