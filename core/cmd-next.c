/* cmd-next.c -- meshctl next: a job's upcoming fire times and the
 * partitions they close, from the read layer's question `next`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshctl.h"
#include "read.h"

static int	cmd_next_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_next_entry = {
	.name = "next",
	.args = "JOB [--count N] [--from TIME] [--cursor C] [--json]",
	.summary = "show a job's next fire times and the partitions they close",
	.help =
	"Each fire closes the data interval that began at the previous fire;\n"
	"its run is created then, with the interval start as partition key.\n"
	"Times are shown in the job's time zone (UTC with -u) and in UTC.\n"
	"\n"
	"  -n, --count N   how many fires (default 5, at most 10000); also\n"
	"                  --limit\n"
	"      --from TIME start after TIME (2024-03-30T00:00:00Z; default now)\n"
	"      --cursor C  the fires after the page that printed C\n"
	"      --json      the document of GET /api/v1/next: {job, timezone,\n"
	"                  scheduled, fires: [{fire_us, fire_local,\n"
	"                  partition}], next_cursor}\n",
	.exec = cmd_next_exec,
};

static int
cmd_next_exec(struct ctl *ctl, int argc, char **argv)
{
	struct read_args args = { 0 };
	json_t		*doc, *fires, *f;
	char		 b[32];
	size_t		 i;
	int		 c, json = 0, rc;
	static const struct option longopts[] = {
		CTL_LIST_LONGOPTS,
		{ "count", required_argument, NULL, CTL_OPT_LIMIT },
		{ "from", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, CTL_LIST_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (ctl_list_opt(c, optarg, &args, &json))
			continue;
		if (c == 'f') {
			read_args_add(&args, "from", optarg);
			continue;
		}
		if (c == 'h')
			return ctl_help(ctl);
		return ctl_usage(ctl);
	}
	if (argc - optind != 1)
		return ctl_usage(ctl);
	read_args_add(&args, "job", argv[optind]);
	if ((rc = ctl_ask(ctl, "next", &args, &doc)) != CTL_EXIT_OK)
		return rc;
	fires = json_object_get(doc, "fires");
	if (json)
		ctl_json_out(json_incref(doc));
	else if (!json_is_true(json_object_get(doc, "scheduled")))
		printf("%s is not scheduled: it runs when triggered\n",
		    json_string_value(json_object_get(doc, "job")));
	else if (json_array_size(fires) == 0)
		printf("(no more fires: the job has ended)\n");
	else {
		printf("%-26s %-20s  %s\n", "FIRE (LOCAL)", "FIRE (UTC)",
		    "CLOSES PARTITION");
		json_array_foreach(fires, i, f)
			printf("%-26s %-20s  %s\n", json_string_value(
			    json_object_get(f, "fire_local")), fmt_utc(
			    json_integer_value(json_object_get(f, "fire_us")),
			    b, sizeof b), json_string_value(json_object_get(f,
			    "partition")));
	}
	ctl_list_more(ctl, doc, json, "fires");
	json_decref(doc);
	return CTL_EXIT_OK;
}
