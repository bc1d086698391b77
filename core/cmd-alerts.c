/*
 * cmd-alerts.c -- meshctl alerts: the alerts meshd raised (failure,
 * quarantine, retry, recovery, late) and how their delivery went, newest
 * first, from the read layer's question `alerts`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshctl.h"
#include "read.h"

static int	cmd_alerts_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_alerts_entry = {
	.name = "alerts",
	.args = "[--job J] [--state pending|delivered|failed] [--limit N] "
	    "[--cursor C] [--json]",
	.summary = "list alerts to the owning teams and their delivery",
	.help =
	"An alert is raised when a run fails (failure), an error check\n"
	"quarantines a partition (quarantine), an attempt will be retried\n"
	"(retry, opt-in), a failing job succeeds again (recovery) or a\n"
	"partition misses its freshness SLO (late), if the job (or meshd.conf)\n"
	"has a hook for it: see meshd-job(5) and meshd.conf(5), ALERTS.\n"
	"\n"
	"States: pending (not delivered yet: NEXT TRY says when it is tried\n"
	"again), delivered, failed (not delivered within alert_give_up,\n"
	"default 24 h, after which it is no longer tried).  ERROR is the last\n"
	"try's error.  Times are in the job's zone (UTC with -u).\n"
	"\n"
	"  -j, --job J        only the alerts of job J\n"
	"  -s, --state S      only alerts in state S (pending, delivered,\n"
	"                     failed)\n"
	"  -n, --limit N      at most N alerts (default 50, at most 10000); a\n"
	"                     last line gives the --cursor of the next page\n"
	"      --cursor C     the page after the one that printed C\n"
	"      --json         the document of GET /api/v1/alerts: {alerts:\n"
	"                     [{seq, event_id, event, job, partition, run_id,\n"
	"                     state, attempts, created_us, next_try_us,\n"
	"                     delivered_us, *_local, last_error, hook}],\n"
	"                     counts: {pending, delivered, failed},\n"
	"                     next_cursor}\n"
	"\n"
	"Exit status: 0 listed; 2 usage; 3 the state cannot be read.\n",
	.exec = cmd_alerts_exec,
};

static const char *
alerts_when(const json_t *a, char *buf, size_t len)
{
	const char	*s = json_string_value(json_object_get(a, "state"));
	const char	*v;

	(void)buf;
	(void)len;
	v = json_string_value(json_object_get(a, s != NULL &&
	    strcmp(s, "delivered") == 0 ? "delivered_local" :
	    "next_try_local"));
	return v != NULL ? v : "-";
}

static const char *
alerts_error(const json_t *a, char *buf, size_t len)
{
	const char	*s = json_string_value(json_object_get(a, "state"));
	const char	*v = json_string_value(json_object_get(a,
			    "last_error"));

	(void)buf;
	(void)len;
	if (s != NULL && strcmp(s, "delivered") == 0)
		return "";
	return v != NULL ? v : "";
}

static const struct ctl_column alerts_columns[] = {
	{ "SEQ", "seq", CTL_COL_RIGHT, NULL },
	{ "EVENT", "event", 0, NULL },
	{ "JOB", "job", 0, NULL },
	{ "PARTITION", "partition", 0, NULL },
	{ "STATE", "state", CTL_COL_STATE, NULL },
	{ "TRIES", "attempts", CTL_COL_RIGHT, NULL },
	{ "DELIVERED/NEXT TRY", "next_try_local", 0, alerts_when },
	{ "ERROR", "last_error", 0, alerts_error },
	{ NULL, NULL, 0, NULL }
};

static int
cmd_alerts_exec(struct ctl *ctl, int argc, char **argv)
{
	struct read_args args = { 0 };
	const char	*job = NULL;
	json_t		*doc, *counts;
	int		 c, json = 0, rc;
	static const struct option longopts[] = {
		CTL_LIST_LONGOPTS,
		{ "job", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, CTL_LIST_SHORTOPTS "j:J:h",
	    longopts, NULL)) != -1) {
		if (ctl_list_opt(c, optarg, &args, &json))
			continue;
		switch (c) {
		case 'j':
		case 'J':
			job = optarg;
			read_args_add(&args, "job", optarg);
			break;
		case 'h':
			return ctl_help(ctl);
		default:
			return ctl_usage(ctl);
		}
	}
	if (argc != optind)
		return ctl_usage(ctl);
	if ((rc = ctl_ask(ctl, "alerts", &args, &doc)) != CTL_EXIT_OK)
		return rc;
	if (json) {
		ctl_json_out(json_incref(doc));
		ctl_list_more(ctl, doc, json, "alerts");
		json_decref(doc);
		return CTL_EXIT_OK;
	}
	if (json_array_size(json_object_get(doc, "alerts")) == 0)
		printf("(no alerts)\n");
	else
		ctl_table(ctl, json_object_get(doc, "alerts"), alerts_columns);
	ctl_list_more(ctl, doc, json, "alerts");
	counts = json_object_get(doc, "counts");
	printf("%lld pending, %lld delivered, %lld failed%s\n",
	    (long long)json_integer_value(json_object_get(counts, "pending")),
	    (long long)json_integer_value(json_object_get(counts,
	    "delivered")),
	    (long long)json_integer_value(json_object_get(counts, "failed")),
	    job != NULL ? " (this job)" : "");
	json_decref(doc);
	return CTL_EXIT_OK;
}
