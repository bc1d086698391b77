/*
 * cmd-alerts.c -- meshctl alerts: the alerts meshd raised (failure,
 * quarantine, retry, recovery, late) and how their delivery went, newest
 * first, from the read layer's alert_list().
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "meshctl.h"

static int	cmd_alerts_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_alerts_entry = {
	.name = "alerts",
	.args = "[--job J] [--state pending|delivered|failed] [--limit N] "
	    "[--json]",
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
	"try's error.\n"
	"\n"
	"  -j, --job J        only the alerts of job J\n"
	"  -s, --state S      only alerts in state S (pending, delivered,\n"
	"                     failed)\n"
	"  -n, --limit N      at most N alerts (default 50)\n"
	"      --json         {\"alerts\": [...], \"counts\": {...}} with every\n"
	"                     field, times in UTC\n"
	"\n"
	"Exit status: 0 listed; 2 usage; 3 the state cannot be read.\n",
	.exec = cmd_alerts_exec,
};

static const char *
js(json_t *o, const char *k)
{
	const char	*v = json_string_value(json_object_get(o, k));

	return v != NULL ? v : "-";
}

static int
cmd_alerts_exec(struct ctl *ctl, int argc, char **argv)
{
	struct state	*st;
	const char	*job = NULL, *state = NULL;
	char		*cause = NULL;
	int		 c, json = 0;
	long		 limit = 50;
	json_t		*doc, *v, *a, *counts;
	size_t		 i;
	static const struct option longopts[] = {
		{ "job", required_argument, NULL, 'J' },
		{ "state", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, "J:s:n:h", longopts, NULL)) !=
	    -1) {
		switch (c) {
		case 'J':
			job = optarg;
			break;
		case 's':
			state = optarg;
			break;
		case 'n':
			if (ctl_number("limit", optarg, 1, 1000000,
			    &limit) != 0)
				return CTL_EXIT_USAGE;
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
	if (argc != optind)
		return ctl_usage(ctl);
	if (state != NULL && strcmp(state, "pending") != 0 &&
	    strcmp(state, "delivered") != 0 && strcmp(state, "failed") != 0) {
		ctl_error("--state: unknown alert state '%s' (pending, "
		    "delivered, failed)", state);
		return CTL_EXIT_USAGE;
	}
	if (ctl_config(ctl) == NULL)
		return CTL_EXIT_USAGE;
	if ((st = ctl_state(ctl, STATE_RDONLY)) == NULL)
		return CTL_EXIT_STATE;
	doc = alert_list(st, job, state, (int)limit, &cause);
	state_close(st);
	if (doc == NULL) {
		ctl_error("%s", cause);
		free(cause);
		return CTL_EXIT_STATE;
	}
	if (json) {
		ctl_json_out(doc);
		return CTL_EXIT_OK;
	}
	v = json_object_get(doc, "alerts");
	if (json_array_size(v) == 0)
		printf("(no alerts)\n");
	else
		printf("%-6s %-10s %-20s %-19s %-9s %5s %-20s %s\n", "SEQ",
		    "EVENT", "JOB", "PARTITION", "STATE", "TRIES",
		    "DELIVERED/NEXT TRY", "ERROR");
	json_array_foreach(v, i, a) {
		const char *s = js(a, "state");

		printf("%-6lld %-10s %-20s %-19s %s%-9s%s %5lld %-20s %s\n",
		    (long long)json_integer_value(json_object_get(a, "seq")),
		    js(a, "event"), js(a, "job"), js(a, "partition"),
		    ctl_color_on(ctl, strcmp(s, "delivered") == 0 ? "success" :
		    strcmp(s, "pending") == 0 ? "queued" : "failed"), s,
		    ctl_color_off(ctl),
		    (long long)json_integer_value(json_object_get(a,
		    "attempts")), strcmp(s, "delivered") == 0 ?
		    js(a, "delivered_utc") : js(a, "next_try_utc"),
		    strcmp(s, "delivered") == 0 ? "" : js(a, "last_error"));
	}
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
