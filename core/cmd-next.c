/* cmd-next.c -- meshctl next: a job's upcoming fire times and the
 * partitions they close. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "meshctl.h"
#include "schedule.h"
#include "tz.h"

static int	cmd_next_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_next_entry = {
	.name = "next",
	.args = "JOB [--count N] [--from TIME] [--json]",
	.summary = "show a job's next fire times and the partitions they close",
	.help =
	"Each fire closes the data interval that began at the previous fire;\n"
	"its run is created then, with the interval start as partition key.\n"
	"Times are shown in the job's time zone and in UTC.\n"
	"\n"
	"  -n, --count N   how many fires (default 5)\n"
	"      --from TIME start after TIME (2024-03-30T00:00:00Z; default now)\n"
	"      --json      JSON array of {fire_utc, fire_local, partition}\n",
	.exec = cmd_next_exec,
};

static const char *
local_time(const struct job_def *job, int64_t us, char *buf, size_t len)
{
	if (job->tz == NULL)
		return fmt_utc(us, buf, len);
	return tz_format(job->tz, us, buf, len);
}

static int
cmd_next_exec(struct ctl *ctl, int argc, char **argv)
{
	struct jobset	 js;
	struct job_def	*job;
	struct tm	 tm;
	json_t		*arr = NULL;
	char		*end, *key, a[64], b[32];
	int		 c, json = 0, rc = CTL_EXIT_OK, i;
	long		 count = 5;
	int64_t		 t = now_us(), f, p, hi = 0, dummy;
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "from", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, "n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (ctl_number("count", optarg, 1, 100000,
			    &count) != 0)
				return CTL_EXIT_USAGE;
			break;
		case 'f':
			memset(&tm, 0, sizeof tm);
			end = strptime(optarg, "%Y-%m-%dT%H:%M:%S", &tm);
			if (end == NULL || (*end != '\0' && strcmp(end, "Z"))) {
				ctl_error("--from: '%s' is not a UTC time like "
				    "2024-03-30T00:00:00Z", optarg);
				return CTL_EXIT_USAGE;
			}
			t = (int64_t)timegm(&tm) * 1000000;
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
	if (argc - optind != 1)
		return ctl_usage(ctl);
	if ((job = ctl_load_job(ctl, &js, argv[optind])) == NULL) {
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if (!job_has_schedule(job)) {
		printf("%s is not scheduled: it runs when triggered\n",
		    job->name);
		goto out;
	}
	if (job->end != NULL && job_parse_key(job, job->end, &hi, &dummy,
	    &key, NULL) == 0)
		free(key);
	if (json)
		arr = json_array();
	else
		printf("%-26s %-20s  %s\n", "FIRE (LOCAL)", "FIRE (UTC)",
		    "CLOSES PARTITION");
	for (i = 0; i < count; i++) {
		if ((f = job_next_fire(job, t)) < 0)
			break;
		t = f;
		/* The interval this fire closes began at the previous one
		 * (none only at the ends of time: no key, not 1970-01-01). */
		p = job_prev_fire(job, f);
		key = p >= 0 ? job_key(job, p) : xstrdup("-");
		if (hi != 0 && p >= hi) {
			free(key);
			break;
		}
		local_time(job, f, a, sizeof a);
		fmt_utc(f, b, sizeof b);
		if (json)
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s}",
			    "fire_utc", b, "fire_local", a, "partition", key));
		else
			printf("%-26s %-20s  %s\n", a, b, key);
		free(key);
	}
	if (json)
		ctl_json_out(arr);
	else if (i == 0)
		printf("(no more fires: the job has ended)\n");
out:
	jobset_free(&js);
	return rc;
}
