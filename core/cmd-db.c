/*
 * cmd-db.c -- meshctl db clean | backup | check: the state database
 * itself.  clean deletes old history by hand (housekeep.h: the sweep
 * meshd runs with history_retention); backup copies the database with
 * SQLite's online backup API, consistent while meshd writes; check runs
 * integrity_check and foreign_key_check.  Each works whether or not
 * meshd runs: clean and backup hold the database only for short
 * transactions (one batch, or a read snapshot that never blocks meshd's
 * writes in WAL mode), and every wait is bounded by --timeout.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "housekeep.h"
#include "meshctl.h"

static int	cmd_db_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_db_entry = {
	.name = "db",
	.args = "clean --older-than DURATION [--dry-run] [--json] | "
	    "backup FILE [--force] [--json] | check [FILE] [--json]",
	.summary = "clean old history, back up or check the state database",
	.help =
	"db clean --older-than DURATION [--dry-run] [--json]\n"
	"  Delete the finished runs that ended more than DURATION ago (90d,\n"
	"  12h, 2w, 30m, 45s, or seconds), with their task instances,\n"
	"  attempts, check results, metrics and run inputs, and remove their\n"
	"  attempts' log files under log_dir; also remove the logs of older\n"
	"  runs that are kept, and delete finished backfills, done requests\n"
	"  and delivered or failed alerts older than that.  Kept whatever\n"
	"  their age: queued or running runs, runs a published (or stale)\n"
	"  catalog partition names (which run published it, what it was\n"
	"  built from, its checks), a quarantined rerun beside one,\n"
	"  each job's newest scheduled run (the scheduler resumes from it),\n"
	"  runs of a kept backfill, runs a pending request names or that a\n"
	"  trigger asked meshd to run again.  meshd does the same on its own\n"
	"  with history_retention and log_retention (meshd.conf(5)).  Safe\n"
	"  while meshd runs: batches of 200 runs, each its own short\n"
	"  transaction.\n"
	"      --older-than DURATION  what is old (required, more than 0)\n"
	"      --dry-run              delete nothing; count what would go\n"
	"      --json                 {dry_run, older_than_s, cutoff_us, runs,\n"
	"                             task_instances, attempts, check_results,\n"
	"                             metrics, run_inputs, backfills,\n"
	"                             backfill_partitions, requests, alerts,\n"
	"                             log_files, log_bytes, kept: {live,\n"
	"                             catalog, watermark, backfill, request}}\n"
	"\n"
	"db backup FILE [--force] [--json]\n"
	"  Copy the state database to FILE with SQLite's online backup API,\n"
	"  from one read snapshot (meshd goes on writing meanwhile), through\n"
	"  FILE.tmp, which is checked with integrity_check, synced and renamed.\n"
	"  Restore: meshd(8), BACKUP AND RESTORE.\n"
	"      --force  replace FILE if it exists (refused otherwise)\n"
	"      --json   {path, state_db, pages, bytes, integrity}\n"
	"\n"
	"db check [FILE] [--json]\n"
	"  PRAGMA integrity_check and foreign_key_check of the state database\n"
	"  (or of FILE, e.g. a backup).  Exit 1 and what is wrong if either\n"
	"  finds a problem.\n"
	"      --json   {path, ok, integrity: [...], foreign_keys: [{table,\n"
	"               rowid, parent, fkid}]}\n"
	"\n"
	"Exit status: 0 done (clean, backup) or sound (check); 1 the check or\n"
	"the backup failed; 2 usage; 3 the state cannot be opened or is busy.\n",
	.exec = cmd_db_exec,
};

static void
clean_text(const struct house_counts *c, int dry, const char *older,
    const char *cutoff)
{
	const char	*verb = dry ? "would delete" : "deleted";

	printf("%s %lld run%s (%lld task instances, %lld attempts, %lld check "
	    "results, %lld metrics, %lld run inputs) that ended before %s "
	    "(older than %s)\n", verb, (long long)c->runs, c->runs == 1 ? "" :
	    "s", (long long)c->task_instances, (long long)c->attempts,
	    (long long)c->check_results, (long long)c->metrics,
	    (long long)c->run_inputs, cutoff, older);
	printf("%s %lld backfill%s (%lld partitions), %lld request%s, %lld "
	    "alert%s\n", verb, (long long)c->backfills, c->backfills == 1 ?
	    "" : "s", (long long)c->backfill_partitions,
	    (long long)c->requests, c->requests == 1 ? "" : "s",
	    (long long)c->alerts, c->alerts == 1 ? "" : "s");
	printf("%s %lld log file%s (%lld bytes)\n", dry ? "would remove" :
	    "removed", (long long)c->log_files, c->log_files == 1 ? "" : "s",
	    (long long)c->log_bytes);
	printf("kept %lld old run%s: %lld in the catalog, %lld scheduler "
	    "watermark%s, %lld of a backfill, %lld named by a request, "
	    "%lld live\n", (long long)(c->kept_catalog + c->kept_watermark +
	    c->kept_backfill + c->kept_request + c->kept_live),
	    c->kept_catalog + c->kept_watermark + c->kept_backfill +
	    c->kept_request + c->kept_live == 1 ? "" : "s",
	    (long long)c->kept_catalog, (long long)c->kept_watermark,
	    c->kept_watermark == 1 ? "" : "s", (long long)c->kept_backfill,
	    (long long)c->kept_request, (long long)c->kept_live);
}

static int
db_clean(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "older-than", required_argument, NULL, 'o' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct house_ops	 ops;
	struct house_plain	 pl;
	struct house		*h;
	struct state		*st;
	struct stat		 sb;
	const char		*older = NULL;
	char			*cause = NULL, buf[64];
	int64_t			 secs, cutoff;
	int			 c, json = 0, dry = 0, rc;
	json_t			*doc;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			older = optarg;
			break;
		case 'n':
			dry = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			return ctl_help(ctl);
		default:
			return ctl_usage(ctl);
		}
	}
	if (optind != argc) {
		ctl_error("db clean: unexpected '%s'", argv[optind]);
		return ctl_usage(ctl);
	}
	if (older == NULL) {
		ctl_error("db clean: --older-than is required (e.g. "
		    "--older-than 90d)");
		return CTL_EXIT_USAGE;
	}
	if (house_duration(older, &secs, &cause) != 0) {
		ctl_error("--older-than: %s", cause);
		free(cause);
		return CTL_EXIT_USAGE;
	}
	if (secs == 0) {
		ctl_error("--older-than: must be more than 0 (0 would delete "
		    "every finished run)");
		return CTL_EXIT_USAGE;
	}
	if (ctl_config(ctl) == NULL)
		return CTL_EXIT_USAGE;
	/* Never create a state to clean it. */
	if (stat(ctl->cfg->state_db, &sb) != 0) {
		ctl_error("%s: no state database (%s)", ctl->cfg->state_db,
		    strerror(errno));
		return CTL_EXIT_STATE;
	}
	if ((st = ctl_state(ctl, dry ? STATE_RDONLY : STATE_RDWR)) == NULL)
		return CTL_EXIT_STATE;
	/* Many short transactions: each wait is bounded by --timeout, not
	 * the whole clean. */
	state_set_deadline(st, 0);
	cutoff = now_us() - secs * 1000000;
	house_ops_plain(&ops, &pl, state_sqlite(st), dry);
	h = house_new(state_sqlite(st), &ops, ctl->cfg->log_dir, cutoff,
	    cutoff, dry);
	while ((rc = house_step(h, &cause)) > 0)
		;
	if (rc < 0) {
		ctl_error("db clean: %s", cause);
		free(cause);
		/* What was done stays done: the counts so far. */
		if (json)
			fprintf(stderr, "meshctl: done before the error: %lld "
			    "runs, %lld log files\n", (long long)
			    house_counts(h)->runs,
			    (long long)house_counts(h)->log_files);
		house_free(h);
		state_close(st);
		return CTL_EXIT_STATE;
	}
	if (json) {
		doc = house_counts_json(house_counts(h));
		json_object_set_new(doc, "dry_run", json_boolean(dry));
		json_object_set_new(doc, "older_than_s", json_integer(secs));
		json_object_set_new(doc, "cutoff_us", json_integer(cutoff));
		ctl_json_out(doc);
	} else
		clean_text(house_counts(h), dry, older,
		    ctl_time(cutoff, buf, sizeof buf));
	house_free(h);
	state_close(st);
	return CTL_EXIT_OK;
}

/* Subcommands in their own file: cmd-db-backup.c. */
int	cmd_db_backup(struct ctl *, int, char **);
int	cmd_db_check(struct ctl *, int, char **);

static int
cmd_db_exec(struct ctl *ctl, int argc, char **argv)
{
	const char	*sub;

	if (argc < 2)
		return ctl_usage(ctl);
	sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)
		return ctl_help(ctl);
	/* The subcommand's options start after it. */
	argc--;
	argv++;
	if (strcmp(sub, "clean") == 0)
		return db_clean(ctl, argc, argv);
	if (strcmp(sub, "backup") == 0)
		return cmd_db_backup(ctl, argc, argv);
	if (strcmp(sub, "check") == 0)
		return cmd_db_check(ctl, argc, argv);
	ctl_error("db: unknown subcommand '%s' (clean, backup or check)",
	    sub);
	return ctl_usage(ctl);
}
