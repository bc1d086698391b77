/*
 * fuzz-config.c -- meshd.conf: config_load() of the input, written to
 * meshd.conf in a private directory (relative paths resolve there; nothing
 * is created or changed by loading).
 */
#include "fuzz.h"

#include "config.h"
#include "errlist.h"

static char	*conffile;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct errlist		 errs = ERRLIST_INIT;
	struct meshd_config	*cfg;

	if (conffile == NULL)
		conffile = fuzz_file(fuzz_tmpdir(), "meshd.conf", "");
	fuzz_write(conffile, data, size);
	if ((cfg = config_load(conffile, &errs)) != NULL)
		config_free(cfg);
	errlist_free(&errs);
	return 0;
}
