/*
 * slurm-agent-run.c -- the Slurm agent alone, serving descriptor 3, for
 * tests/e2e-slurm-agent.sh (meshd-worker --agent does the same once it
 * is wired in).
 */
#include "../core/slurm.h"

int
main(void)
{
	return slurm_agent_main(3);
}
