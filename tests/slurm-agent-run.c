/*
 * slurm-agent-run.c -- the Slurm agent alone, for tests/e2e-slurm-agent.sh
 * (meshd-worker does the same once the agent is wired in):
 *
 *   slurm-agent-run                    the agent, serving descriptor 3
 *                                      (meshd-worker --agent)
 *   slurm-agent-run --pilot --connect ADDR --secret-file F --slots N
 *                                      a pilot (meshd-worker --pilot)
 *   slurm-agent-run --request DIR ID PLUGIN
 *                                      write the request of attempt ID,
 *                                      the extract stage of PLUGIN, in DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/executor.h"
#include "../core/pilot.h"
#include "../core/slurm.h"
#include "../core/taskfile.h"
#include "../core/util.h"
#include "meshd/plugin.h"

static int
request(const char *dir, long long id, const char *plugin)
{
	struct executor_opts	 o;
	struct task_req		 r;
	struct paramset		 ps;
	char			*path, *key, *stage, *log, *cause = NULL;

	memset(&ps, 0, sizeof ps);
	memset(&o, 0, sizeof o);
	o.workers = 1;
	o.kill_grace_s = 2;
	o.heartbeat_timeout_s = 10;
	key = xasprintf("k%lld", id);
	stage = xasprintf("%s/stage", dir);
	log = xasprintf("%s/log", dir);
	memset(&r, 0, sizeof r);
	r.attempt_id = id;
	r.job = "agentjob";
	r.task_id = "t";
	r.plugin_path = plugin;
	r.stage = MESHD_STAGE_EXTRACT;
	r.attempt = 1;
	r.partition_key = key;
	r.staging_dir = stage;
	r.attempt_dir = dir;
	r.log_path = log;
	r.params = &ps;
	path = taskfile_path(dir, TASKFILE_REQUEST);
	if (taskfile_write_request(path, &r, &o, &cause) != 0) {
		fprintf(stderr, "slurm-agent-run: %s\n", cause);
		return 1;
	}
	free(path);
	free(key);
	free(stage);
	free(log);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 8 && strcmp(argv[1], "--pilot") == 0 &&
	    strcmp(argv[2], "--connect") == 0 &&
	    strcmp(argv[4], "--secret-file") == 0 &&
	    strcmp(argv[6], "--slots") == 0)
		return pilot_client_main(argv[3], argv[5], atoi(argv[7]));
	if (argc == 5 && strcmp(argv[1], "--request") == 0)
		return request(argv[2], atoll(argv[3]), argv[4]);
	if (argc != 1) {
		fprintf(stderr, "usage: slurm-agent-run [--pilot --connect "
		    "ADDR --secret-file F --slots N | --request DIR ID "
		    "PLUGIN]\n");
		return 2;
	}
	return slurm_agent_main(3);
}
