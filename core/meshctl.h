/*
 * meshctl.h -- the operator's CLI: one file per verb (cmd-*.c), each
 * defining a const struct cmd_entry; the table in meshctl.c drives both
 * dispatch and --help.
 */
#ifndef MESHCTL_H
#define MESHCTL_H

#include <sys/types.h>

#include <stdio.h>

#include <jansson.h>

#include "config.h"
#include "job.h"
#include "state.h"
#include "util.h"

/* Exit codes, documented in meshctl(1). */
#define CTL_EXIT_OK	0	/* done; the thing asked about succeeded */
#define CTL_EXIT_FAILED	1	/* the thing asked about failed */
#define CTL_EXIT_USAGE	2	/* usage or input error */
#define CTL_EXIT_STATE	3	/* cannot reach the state */

struct ctl;
struct sqlite3_stmt;

struct cmd_entry {
	const char	*name;
	const char	*args;		/* usage after the verb */
	const char	*summary;	/* one line for `meshctl --help` */
	const char	*help;		/* options and details */
	int		 (*exec)(struct ctl *, int argc, char **argv);
};

struct ctl {
	const char		*config_path;	/* -c/--config, or default */
	const struct cmd_entry	*entry;		/* the verb running */
	int			 color;		/* stdout is a terminal */
	int			 utc;		/* -u/--utc: times in UTC */
	struct meshd_config	*cfg;		/* loaded on demand */
	int			 timeout_ms;	/* --timeout: waits on the state */
	int64_t			 deadline_us;	/* first ctl_state() + timeout */
};

/* --timeout's default, in seconds, and its largest value. */
#define CTL_TIMEOUT_DEFAULT	30
#define CTL_TIMEOUT_MAX		86400

/* Print "meshctl: message" to stderr. */
void	 ctl_error(const char *, ...) PRINTFLIKE(1, 2);
/* Print the verb's usage to stderr and return CTL_EXIT_USAGE. */
int	 ctl_usage(struct ctl *);
/* Parse a whole number option into *out within [min, max], or print
 * "--NAME: 'x' is not a number from MIN to MAX" and return -1. */
int	 ctl_number(const char *name, const char *arg, long min, long max,
	    long *out);
/* Print the verb's full help to stdout and return CTL_EXIT_OK. */
int	 ctl_help(struct ctl *);
/* Load meshd.conf (printing every diagnostic); NULL on error. */
struct meshd_config *ctl_config(struct ctl *);
/*
 * Open the state database; prints the cause on failure.  Every wait for
 * another process's lock, from the open to the last statement, ends
 * within --timeout in total (the state is busy: exit CTL_EXIT_STATE).  A
 * verb that goes on for long (run, --follow, --wait) calls
 * state_set_deadline(st, 0) after its first reads: then each wait alone
 * is bounded by --timeout.
 */
struct state	*ctl_state(struct ctl *, enum state_mode);
/* The same, quiet: NULL with *cause. */
struct state	*ctl_state_cause(struct ctl *, enum state_mode, char **cause);
/* Load every job; prints diagnostics.  Returns 0, or -1 if any job had an
 * error (loaded jobs are still in `js` when `partial` is set). */
int	 ctl_jobs(struct ctl *, struct jobset *js, int partial);
/* Load the jobs (printing diagnostics) and find one; NULL after saying
 * why.  `js` is always safe to jobset_free() afterwards. */
struct job_def *ctl_load_job(struct ctl *, struct jobset *js,
	    const char *name);
/* Find a job or print "unknown job 'x' (jobs: a, b)". */
struct job_def *ctl_find_job(const struct jobset *, const char *name);
/* Look a job up in the state (*id); if it has never run, *id is 0 and the
 * job must exist in the configuration, else "unknown job" is printed and
 * -1 returned.  Defined in cmd-runs.c. */
int	 ctl_state_job(struct ctl *, struct state *, const char *name,
	    int64_t *id);
/*
 * Do write action `name` (act.h) with the jobs `js` (NULL: none needed),
 * for a verb that parsed its options into `args`: opens the state
 * read-write (a dry run: read-only, or none if there is no state yet),
 * asks act_do() and closes it.  The document (the caller owns it), or
 * NULL after printing the error, one "meshctl: " line per line of it,
 * with *rc set to read_exit_code() of its status, or to `conflict_rc` for
 * a 409.  Defined in ctl-act.c.
 */
struct read_args;
json_t	*ctl_act(struct ctl *, const struct jobset *js, const char *name,
	    const struct read_args *args, int dry, int conflict_rc, int *rc);
/* "meshd was told" / "recorded; meshd is not running ..." for the
 * "meshd" field of an action's document. */
const char *ctl_act_fate(const json_t *doc);
/* read_args_add(), or print "too many options" and return -1. */
int	 ctl_act_arg(struct read_args *, const char *name, const char *value);
/* Print a JSON value to stdout, indented, with a newline; steals it. */
void	 ctl_json_out(json_t *);
/* A SQL text column as a C string ("" for NULL). */
const char *ctl_col(struct sqlite3_stmt *, int);
/* Format microseconds UTC for display ("-" for 0). */
const char *ctl_time(int64_t us, char *buf, size_t len);
/* The same on the wall clock of the job's zone, "2026-11-28 13:05:00 CET";
 * in UTC ("... UTC") with -u or when job is NULL or has no zone.  Defined
 * in ctl-time.c. */
const char *ctl_time_job(struct ctl *, const struct job_def *, int64_t us,
	    char *buf, size_t len);
/* The colour of a state word, as libsmartcols names it ("green", "red",
 * "yellow"), or NULL; in ctl-read.c. */
const char *ctl_state_color(const char *state);
/* Colour escapes for a state word, "" when colour is off. */
const char *ctl_color_on(struct ctl *, const char *state);

/* The progress lines of run and test (ctl-progress.c): `arg` of the
 * runner's task_start and task_end observers points at (or starts with)
 * a struct ctl_progress; quiet (--json) prints nothing.  The signal
 * handler stops the run at the runner's next poll. */
struct ctl_progress {
	struct ctl	*ctl;
	int		 quiet;
};
struct job_def;
void	ctl_progress_task_start(void *, const struct job_def *, const char *,
	    int64_t, const char *, int, pid_t);
void	ctl_progress_task_end(void *, const struct job_def *, const char *,
	    int64_t, const char *, int, const char *, const char *, int64_t);
void	ctl_progress_signal(int);
const char *ctl_color_off(struct ctl *);

/* Follow backfill `id` until it ends: a live bar on a terminal, else a
 * line at most every `interval` seconds.  CTL_EXIT_OK if it succeeded,
 * CTL_EXIT_FAILED if it failed or was cancelled.  In cmd-backfills.c. */
int	 ctl_backfill_wait(struct ctl *, int64_t id, int interval);

/*
 * The read layer from the command line (ctl-read.c).  ctl_ask() asks
 * question `q` of read.h with `args` (adding utc=1 under -u): CTL_EXIT_OK
 * and a new *doc, or the error printed ("meshctl: --limit: ...") and its
 * exit code.
 */
struct read_args;
int	 ctl_ask(struct ctl *, const char *q, struct read_args *args,
	    json_t **doc);
/* The options list verbs share: --json, -n/--limit N, -s/--state S,
 * -S/--since WHEN, --cursor C.  Put CTL_LIST_LONGOPTS in the verb's
 * longopts and CTL_LIST_SHORTOPTS in its optstring; ctl_list_opt() takes
 * one of them into args (or *json) and returns 1, or returns 0. */
enum {
	CTL_OPT_JSON = 0x100, CTL_OPT_CURSOR,
	CTL_OPT_LIMIT = 'n', CTL_OPT_STATE = 's', CTL_OPT_SINCE = 'S'
};
#define CTL_LIST_SHORTOPTS	"n:s:S:"
#define CTL_LIST_LONGOPTS						\
	{ "json", no_argument, NULL, CTL_OPT_JSON },			\
	{ "limit", required_argument, NULL, CTL_OPT_LIMIT },		\
	{ "state", required_argument, NULL, CTL_OPT_STATE },		\
	{ "since", required_argument, NULL, CTL_OPT_SINCE },		\
	{ "cursor", required_argument, NULL, CTL_OPT_CURSOR }
int	 ctl_list_opt(int c, const char *arg, struct read_args *args,
	    int *json);
/* "(more WHAT: meshctl VERB ... --cursor C)" when the document has a
 * next_cursor; on stderr with --json. */
void	 ctl_list_more(struct ctl *, const json_t *doc, int json,
	    const char *what);
/*
 * A table of `rows` (a JSON array of objects), one column per entry of
 * `cols` (ending with { NULL }): the member `key` as text, or fmt(row)
 * when set.  CTL_COL_STATE colours the cell by the state word on a
 * terminal; CTL_COL_OPTIONAL hides the column unless some row has `key`.
 */
struct ctl_column {
	const char	*header;
	const char	*key;
	int		 flags;
	const char	*(*fmt)(const json_t *row, char *buf, size_t len);
};
#define CTL_COL_STATE		0x1
#define CTL_COL_RIGHT		0x2
#define CTL_COL_OPTIONAL	0x4
int	 ctl_table(struct ctl *, const json_t *rows,
	    const struct ctl_column *cols);

extern const struct cmd_entry cmd_validate_entry;
extern const struct cmd_entry cmd_plugin_entry;
extern const struct cmd_entry cmd_run_entry;
extern const struct cmd_entry cmd_test_entry;
extern const struct cmd_entry cmd_runs_entry;
extern const struct cmd_entry cmd_tasks_entry;
extern const struct cmd_entry cmd_logs_entry;
extern const struct cmd_entry cmd_catalog_entry;
extern const struct cmd_entry cmd_next_entry;
extern const struct cmd_entry cmd_trigger_entry;
extern const struct cmd_entry cmd_jobs_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_dag_entry;
extern const struct cmd_entry cmd_pause_entry;
extern const struct cmd_entry cmd_unpause_entry;
extern const struct cmd_entry cmd_cancel_entry;
extern const struct cmd_entry cmd_backfill_entry;
extern const struct cmd_entry cmd_backfills_entry;
extern const struct cmd_entry cmd_clear_entry;
extern const struct cmd_entry cmd_lineage_entry;
extern const struct cmd_entry cmd_products_entry;
extern const struct cmd_entry cmd_product_entry;
extern const struct cmd_entry cmd_checks_entry;
extern const struct cmd_entry cmd_alerts_entry;
extern const struct cmd_entry cmd_db_entry;

#endif
