/* meshctl.c -- the operator's CLI: global options, the verb table, and
 * what every verb shares. */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "meshd/plugin.h"
#include "ctl-broken.h"
#include "meshctl.h"

static const struct cmd_entry *const cmd_table[] = {
	&cmd_run_entry,
	&cmd_test_entry,
	&cmd_trigger_entry,
	&cmd_backfill_entry,
	&cmd_backfills_entry,
	&cmd_clear_entry,
	&cmd_pause_entry,
	&cmd_unpause_entry,
	&cmd_cancel_entry,
	&cmd_status_entry,
	&cmd_jobs_entry,
	&cmd_runs_entry,
	&cmd_tasks_entry,
	&cmd_logs_entry,
	&cmd_catalog_entry,
	&cmd_products_entry,
	&cmd_product_entry,
	&cmd_checks_entry,
	&cmd_lineage_entry,
	&cmd_alerts_entry,
	&cmd_next_entry,
	&cmd_dag_entry,
	&cmd_validate_entry,
	&cmd_plugin_entry,
	&cmd_db_entry,
};

void
ctl_error(const char *fmt, ...)
{
	va_list	ap;

	fputs("meshctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
ctl_usage(struct ctl *ctl)
{
	fprintf(stderr, "usage: meshctl %s %s\n", ctl->entry->name,
	    ctl->entry->args);
	fprintf(stderr, "Try 'meshctl %s --help'.\n", ctl->entry->name);
	return CTL_EXIT_USAGE;
}

int
ctl_number(const char *name, const char *arg, long min, long max, long *out)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || errno != 0 || v < min ||
	    v > max) {
		ctl_error("--%s: '%s' is not a number from %ld to %ld", name,
		    arg, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int
ctl_help(struct ctl *ctl)
{
	printf("usage: meshctl %s %s\n\n%s.\n\n%s", ctl->entry->name,
	    ctl->entry->args, ctl->entry->summary, ctl->entry->help);
	return CTL_EXIT_OK;
}

static void
usage_all(FILE *f)
{
	size_t	i;

	fprintf(f, "usage: meshctl [-c FILE] VERB [ARGS...]\n\n"
	    "Operate meshd: run partitions, inspect runs, validate jobs and "
	    "plugins.\n\nVerbs:\n");
	for (i = 0; i < nitems(cmd_table); i++)
		fprintf(f, "  %-9s %-40s %s\n", cmd_table[i]->name,
		    cmd_table[i]->args, cmd_table[i]->summary);
	fprintf(f, "\nGlobal options:\n"
	    "  -c, --config FILE  meshd.conf to use (default: $MESHD_CONFIG, "
	    "else %s)\n"
	    "  -h, --help         this help; 'meshctl VERB --help' for a "
	    "verb\n"
	    "  -t, --timeout SECONDS\n"
	    "                     give up waiting for a busy state database "
	    "after\n"
	    "                     SECONDS in total (default: $MESHCTL_TIMEOUT, "
	    "else %d;\n"
	    "                     also accepted after the verb)\n"
	    "  -u, --utc          show times in UTC, not in each job's zone\n"
	    "  -V, --version      print the version\n"
	    "\nExit codes: 0 ok, 1 what was asked about failed, 2 usage or "
	    "input error,\n3 cannot reach the state database (or it stayed "
	    "busy for --timeout);\nstatus: 0 meshd up, 3 down, 4 unknown "
	    "(the state cannot be read).\n",
	    config_default_path(), CTL_TIMEOUT_DEFAULT);
}

struct meshd_config *
ctl_config(struct ctl *ctl)
{
	struct errlist	errs = ERRLIST_INIT;

	if (ctl->cfg != NULL)
		return ctl->cfg;
	ctl->cfg = config_load(ctl->config_path, &errs);
	errlist_print(&errs, stderr);
	errlist_free(&errs);
	return ctl->cfg;
}

struct state *
ctl_state_cause(struct ctl *ctl, enum state_mode mode, char **cause)
{
	struct state	*st;
	struct passwd	*pw;
	int64_t		 wait_ms;

	if (ctl_config(ctl) == NULL) {
		set_cause(cause, "cannot read %s", ctl->config_path);
		return NULL;
	}
	/* Say "permission denied" plainly, before SQLite says something
	 * vaguer ("attempt to write a readonly database"). */
	if (access(ctl->cfg->state_db, R_OK) != 0 && errno == EACCES) {
		pw = getpwuid(geteuid());
		set_cause(cause, "permission denied: user %s cannot read %s "
		    "(members of meshd.conf's state_group may)", pw != NULL ?
		    pw->pw_name : "?", ctl->cfg->state_db);
		return NULL;
	}
	if (mode == STATE_RDWR && config_check_write(ctl->cfg, cause) != 0)
		return NULL;
	/* One deadline for the whole command, however many times it opens
	 * the state (a verb may read, then record a request). */
	if (ctl->deadline_us == 0)
		ctl->deadline_us = mono_us() + (int64_t)ctl->timeout_ms * 1000;
	wait_ms = (ctl->deadline_us - mono_us()) / 1000;
	if (wait_ms < 0)
		wait_ms = 0;
	if ((st = state_open_wait(ctl->cfg->state_db, mode, (int)wait_ms,
	    cause)) == NULL)
		return NULL;
	/* Later waits: each bounded by --timeout, all by the deadline. */
	state_set_wait(st, ctl->timeout_ms);
	state_set_deadline(st, ctl->deadline_us);
	return st;
}

struct state *
ctl_state(struct ctl *ctl, enum state_mode mode)
{
	struct state	*st;
	char		*cause = NULL;

	if (ctl_config(ctl) == NULL)
		return NULL;
	if ((st = ctl_state_cause(ctl, mode, &cause)) == NULL) {
		ctl_error("%s", cause);
		free(cause);
	}
	return st;
}

/*
 * The diagnostics of a job load, less those of broken job files: another
 * team's broken job is not this command's business (issue 11).  One line
 * says which jobs are left out; meshctl jobs and validate say why.
 */
static void
ctl_jobs_diags(const struct jobset *js, const struct errlist *errs)
{
	struct errlist	 rest = ERRLIST_INIT;
	const struct diag *dg;
	size_t		 i, k;

	for (i = 0; i < errs->n; i++) {
		dg = &errs->v[i];
		for (k = 0; dg->file != NULL && k < js->nbroken; k++)
			if (strcmp(js->broken[k].file, dg->file) == 0)
				break;
		if (dg->file == NULL || k == js->nbroken)
			errlist_add(&rest, dg->level, dg->file, dg->line, "%s",
			    dg->msg);
	}
	errlist_print(&rest, stderr);
	errlist_free(&rest);
	if (js->nbroken == 0)
		return;
	fprintf(stderr, "meshctl: %zu broken job%s left out:", js->nbroken,
	    js->nbroken == 1 ? "" : "s");
	for (i = 0; i < js->nbroken; i++)
		fprintf(stderr, "%s %s", i == 0 ? "" : ",", js->broken[i].name);
	fprintf(stderr, " (meshctl jobs says why)\n");
}

int
ctl_jobs(struct ctl *ctl, struct jobset *js, int partial)
{
	struct errlist	errs = ERRLIST_INIT;
	int		rc;

	memset(js, 0, sizeof *js);
	if (ctl_config(ctl) == NULL)
		return -1;
	rc = jobs_load(ctl->cfg, js, &errs);
	ctl_jobs_diags(js, &errs);
	errlist_free(&errs);
	if (rc != 0 && !partial) {
		jobset_free(js);
		memset(js, 0, sizeof *js);
	}
	return rc;
}

struct job_def *
ctl_find_job(const struct jobset *js, const char *name)
{
	struct job_def		*job;
	const struct job_broken	*b;
	size_t			 i, len = 0;
	char			*names;

	if ((job = jobset_find(js, name)) != NULL)
		return job;
	if ((b = jobset_broken(js, name)) != NULL) {
		/* Asked about it by name: every error of it. */
		errlist_print(&b->errs, stderr);
		ctl_error("unknown job '%s': its file %s is broken, and meshd "
		    "refuses it (errors above)", name, b->file);
		return NULL;
	}
	for (i = 0; i < js->n; i++)
		len += strlen(js->v[i]->name) + 2;
	names = xcalloc(1, len + 1);
	for (i = 0; i < js->n; i++) {
		if (i > 0)
			strcat(names, ", ");
		strcat(names, js->v[i]->name);
	}
	ctl_error("unknown job '%s' (jobs: %s)", name,
	    js->n > 0 ? names : "none");
	free(names);
	return NULL;
}

struct job_def *
ctl_load_job(struct ctl *ctl, struct jobset *js, const char *name)
{
	if (ctl_jobs(ctl, js, 1) != 0 && ctl->cfg == NULL)
		return NULL;
	return ctl_find_job(js, name);
}

void
ctl_json_out(json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(v);
}

const char *
ctl_col(sqlite3_stmt *stmt, int i)
{
	const unsigned char	*s = sqlite3_column_text(stmt, i);

	return s != NULL ? (const char *)s : "";
}

const char *
ctl_time(int64_t us, char *buf, size_t len)
{
	if (us == 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	return fmt_utc(us, buf, len);
}

const char *
ctl_color_on(struct ctl *ctl, const char *state)
{
	const char	*c;

	if (!ctl->color || (c = ctl_state_color(state)) == NULL)
		return "";
	/* The same colours as the tables' (ctl_table()). */
	if (strcmp(c, "green") == 0)
		return "\033[32m";
	if (strcmp(c, "red") == 0)
		return "\033[31m";
	return "\033[33m";
}

const char *
ctl_color_off(struct ctl *ctl)
{
	return ctl->color ? "\033[0m" : "";
}

/* Set the timeout from a number of seconds; -1 after saying why. */
static int
ctl_timeout(const char *name, const char *arg, struct ctl *ctl)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || errno != 0 || v < 0 ||
	    v > CTL_TIMEOUT_MAX) {
		ctl_error("%s: '%s' is not a number of seconds from 0 to %d",
		    name, arg, CTL_TIMEOUT_MAX);
		return -1;
	}
	ctl->timeout_ms = (int)v * 1000;
	return 0;
}

/*
 * --timeout is global, but it is natural to add it at the end
 * (`meshctl trigger job --timeout 5`): take it out of the verb's
 * arguments, up to a "--", before the verb parses them.  The new argc, or
 * -1 after saying why.
 */
static int
ctl_verb_timeout(struct ctl *ctl, int argc, char **argv)
{
	int	i, j, n;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--timeout") == 0) {
			if (i + 1 >= argc) {
				ctl_error("--timeout needs a number of "
				    "seconds");
				return -1;
			}
			if (ctl_timeout("--timeout", argv[i + 1], ctl) != 0)
				return -1;
			n = 2;
		} else if (strncmp(argv[i], "--timeout=", 10) == 0) {
			if (ctl_timeout("--timeout", argv[i] + 10, ctl) != 0)
				return -1;
			n = 1;
		} else
			continue;
		for (j = i; j + n <= argc; j++)
			argv[j] = argv[j + n];
		argc -= n;
		i--;
	}
	return argc;
}

int
main(int argc, char **argv)
{
	struct ctl	 ctl;
	size_t		 i;
	int		 c, rc, told;
	const char	*nc, *env, *busy;
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "timeout", required_argument, NULL, 't' },
		{ "utc", no_argument, NULL, 'u' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};

	memset(&ctl, 0, sizeof ctl);
	ctl.config_path = config_default_path();
	nc = getenv("NO_COLOR");
	ctl.color = isatty(STDOUT_FILENO) && (nc == NULL || *nc == '\0');

	ctl.timeout_ms = CTL_TIMEOUT_DEFAULT * 1000;
	if ((env = getenv("MESHCTL_TIMEOUT")) != NULL && *env != '\0') {
		if (ctl_timeout("MESHCTL_TIMEOUT", env, &ctl) != 0)
			return CTL_EXIT_USAGE;
	}

	/* Global options stop at the verb. */
	while ((c = getopt_long(argc, argv, "+c:ht:uV", longopts, NULL)) !=
	    -1) {
		switch (c) {
		case 'c':
			ctl.config_path = optarg;
			break;
		case 't':
			if (ctl_timeout("--timeout", optarg, &ctl) != 0)
				return CTL_EXIT_USAGE;
			break;
		case 'h':
			usage_all(stdout);
			return CTL_EXIT_OK;
		case 'u':
			ctl.utc = 1;
			break;
		case 'V':
			printf("meshctl %s (plugin ABI %d.%d)\n", PACKAGE_VERSION,
			    MESHD_ABI_MAJOR, MESHD_ABI_MINOR);
			return CTL_EXIT_OK;
		default:
			usage_all(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage_all(stderr);
		return CTL_EXIT_USAGE;
	}
	for (i = 0; i < nitems(cmd_table); i++)
		if (strcmp(argv[optind], cmd_table[i]->name) == 0)
			break;
	if (i == nitems(cmd_table)) {
		ctl_error("unknown verb '%s'", argv[optind]);
		usage_all(stderr);
		return CTL_EXIT_USAGE;
	}
	ctl.entry = cmd_table[i];
	argc -= optind;
	argv += optind;
	if ((argc = ctl_verb_timeout(&ctl, argc, argv)) == -1)
		return CTL_EXIT_USAGE;
	optind = 0;	/* reset getopt for the verb (glibc) */
	rc = ctl.entry->exec(&ctl, argc, argv);
	if (ctl.cfg != NULL)
		config_free(ctl.cfg);
	/* A verb that failed because the state stayed busy says so and
	 * exits 3, whatever it printed itself. */
	if (rc != CTL_EXIT_OK && rc < 128 &&
	    (busy = state_gave_up(&told)) != NULL) {
		if (!told)
			ctl_error("%s", busy);
		rc = CTL_EXIT_STATE;
	}
	return rc;
}
