/*
 * fuzz-elf.c -- the plugin lint's ELF reader (core/elfcheck.c) on any
 * bytes: a plugin file is tenant input.  Reading gives a result or a
 * cause naming the input, never a crash; the warnings of a result are
 * single lines (names with control characters are shown as '?').
 */
#include "fuzz.h"

#include "elfcheck.h"

static int
none(void *arg, const char *name)
{
	(void)arg;
	return name[0] == 'a';	/* some resolve, some do not */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elfcheck	 ec;
	char		*cause = NULL, **w = NULL;
	size_t		 n, i;

	if (elfcheck_read_mem(data, size, "fuzz.so", &ec, &cause) != 0) {
		if (cause == NULL || strncmp(cause, "fuzz.so: ", 9) != 0)
			abort();
		free(cause);
		return 0;
	}
	if (cause != NULL)
		abort();
	n = elfcheck_warnings("fuzz.so", &ec, none, NULL, &w);
	for (i = 0; i < n; i++) {
		if (strchr(w[i], '\n') != NULL)
			abort();
		free(w[i]);
	}
	free(w);
	elfcheck_free(&ec);
	return 0;
}
