/*
 * fuzz-job.c -- the job file loader, as `meshctl validate` runs it.
 *
 * The input is written to jobs/x.conf of a private directory whose
 * meshd.conf sets a plugin path holding empty files named like the
 * plugins the seeds use, so that a job can load whole.  jobs_load() only
 * stats plugins: nothing is dlopen()ed and no process is started.  (The
 * rest of validate, plugin and policy checks, probes each plugin in a
 * child process: not a parser, and left out.)
 */
#include "fuzz.h"

#include "config.h"
#include "errlist.h"
#include "job.h"

static struct meshd_config	*cfg;
static char			*jobfile;

static void
setup(void)
{
	static const char *const plugins[] = { "flights.so", "airports.so",
	    "analytics.so", "ok.so", "fails.so", "badcheck.so", "x.so" };
	struct errlist	 errs = ERRLIST_INIT;
	char		*dir, *jobs, *pdir, *conf;
	size_t		 i;

	dir = fuzz_tmpdir();
	jobs = fuzz_mkdir(dir, "jobs");
	pdir = fuzz_mkdir(dir, "plugins");
	for (i = 0; i < sizeof plugins / sizeof plugins[0]; i++)
		fuzz_file(pdir, plugins[i], "");
	conf = fuzz_file(dir, "meshd.conf",
	    "jobs_dir = \"jobs\";\n"
	    "plugin_path = [ \"plugins\" ];\n"
	    "state_db = \"state/state.db\";\n"
	    "pools = { warehouse = 2; };\n");
	if ((cfg = config_load(conf, &errs)) == NULL) {
		errlist_print(&errs, stderr);
		abort();
	}
	errlist_free(&errs);
	jobfile = fuzz_file(jobs, "x.conf", "");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct errlist	errs = ERRLIST_INIT;
	struct jobset	js;

	if (cfg == NULL)
		setup();
	fuzz_write(jobfile, data, size);
	memset(&js, 0, sizeof js);
	jobs_load(cfg, &js, &errs);
	jobset_free(&js);
	errlist_free(&errs);
	return 0;
}
