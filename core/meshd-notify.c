/* meshd-notify.c -- what meshd tells systemd each loop pass (notify.h). */
#include <stdio.h>

#include "engine.h"
#include "notify.h"
#include "meshd.h"

static const char *
daemon_notify_line(struct daemon *d, char *buf, size_t len)
{
	size_t	run = d->engine != NULL ? engine_running_tasks(d->engine) : 0;

	/* What an operator asks first: is it working, is anything stuck
	 * waiting, and did it load the jobs. */
	char	broken[48] = "";

	if (d->jobs.nbroken > 0)
		snprintf(broken, sizeof broken, " (%zu broken)",
		    d->jobs.nbroken);
	snprintf(buf, len, "running %zu attempt%s, %zu queued, %zu job%s%s%s",
	    run, run == 1 ? "" : "s", d->nq, d->jobs.n, d->jobs.n == 1 ? "" :
	    "s", broken, d->health != NULL && !daemon_health_may_schedule(d) ?
	    "; launching paused (meshctl status says why)" : "");
	return buf;
}

void
daemon_notify(struct daemon *d)
{
	char	line[256];

	if (!notify_active())
		return;
	notify_status("%s", daemon_notify_line(d, line, sizeof line));
	notify_tick();
}

/* Start-up is over (state open, recovery done, jobs loaded, the requests
 * made while it was down taken), or a reload is. */
void
daemon_notify_ready(struct daemon *d)
{
	char	line[256];

	notify_ready(daemon_notify_line(d, line, sizeof line));
}

void
daemon_notify_stopping(struct daemon *d)
{
	char	line[64];
	size_t	run = engine_running_tasks(d->engine);

	snprintf(line, sizeof line, "stopping: %zu attempt%s to finish", run,
	    run == 1 ? "" : "s");
	notify_stopping(line);
}
