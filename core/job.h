/*
 * job.h -- job definitions: one jobs/NAME.conf file per job (libconfig).
 *
 *     name        = "flights_daily";
 *     domain      = "ops";
 *     owner       = "ops-data@example.org";
 *     description = "...";
 *     schedule    = "@daily";     # none | @hourly | @daily | @weekly |
 *                                 # @monthly | @yearly  (cron: later)
 *     start       = "2001-01-01"; # first partition (optional)
 *     end         = "2001-04-01"; # partitions before this (optional)
 *     params      = { source = "../contrib/data/flights-20k.json"; };
 *     products    = ( { name = "ops.flights"; location = "..."; } );
 *     tasks = (
 *       { id = "extract"; plugin = "flights"; stage = "extract";
 *         retries = 2; retry_delay = 5; timeout = 300;
 *         params = { ... }; },
 *       { id = "check"; plugin = "flights"; stage = "check";
 *         after = [ "extract" ]; },
 *       { id = "publish"; plugin = "flights"; stage = "publish";
 *         after = [ "check" ]; product = "ops.flights"; }
 *     );
 *
 * A job loads whole or not at all: job_load_file() returns NULL if the file
 * has any error, and every error is in the errlist with file:line.  A job
 * set does not: each job is refused alone (struct job_broken), so that one
 * team's broken file stops only its own job (issue 11).
 */
#ifndef MESHD_JOB_H
#define MESHD_JOB_H

#include <stdint.h>

#include "config.h"
#include "errlist.h"

enum param_type { PARAM_INT, PARAM_DOUBLE, PARAM_BOOL, PARAM_STRING };

struct param {
	char		*key;
	enum param_type	 type;
	int64_t		 i;		/* PARAM_INT, PARAM_BOOL (0/1) */
	double		 d;		/* PARAM_DOUBLE */
	char		*s;		/* PARAM_STRING */
};

struct paramset {
	struct param	*v;
	size_t		 n;
};

const char		*param_type_name(enum param_type);
/* "an int", "a double", "a bool (true or false)", "a string": for
 * messages. */
const char		*param_type_phrase(enum param_type);
/*
 * Read `value` as type `t` into *out, with job-file syntax: an int is
 * decimal with an optional sign, or 0x hex; a double any finite decimal
 * number; a bool true or false in any case; a string as it is.  out->key
 * and out->s borrow `key` and `value`.  0, or -1 if it is not one.
 */
int			 param_from_string(enum param_type t, const char *key,
			    const char *value, struct param *out);
/*
 * Is `value` short enough for a string parameter (LIMIT_PARAM_MAX bytes,
 * limit.h)?  0, or -1 with cause.  param_from_string() refuses a longer
 * value too; this says why.  For `meshctl trigger --param`, whose keys a
 * job may not declare.  Since 0.4.0.
 */
int			 param_check_value(const char *key, const char *value,
			    char **cause);
const struct param	*paramset_get(const struct paramset *, const char *key);
/* Set (replace or add) a copy of `p`. */
void			 paramset_set(struct paramset *, const struct param *p);
void			 paramset_free(struct paramset *);

struct task_def {
	char		 *id;
	int		  line;		/* line of the task in the job file */
	char		 *plugin;	/* as written */
	char		 *plugin_path;	/* resolved path to the .so */
	int		  stage;	/* enum meshd_stage */
	char		**after;	/* ids this task runs after */
	int		 *after_lines;
	size_t		  nafter;
	struct paramset	  params;	/* job params overlaid by task params */
	char		 *product;	/* optional: product this task builds */
	int		  retries;	/* extra tries after the first; default 0 */
	int64_t		  retry_delay_us; /* default 10 s */
	int64_t		  timeout_us;	/* default 1 h; 0 = none */
	double		  retry_backoff; /* delay multiplier per try, >= 1 */
	int64_t		  retry_delay_max_us; /* cap on the delay; 0 = none */
	double		  retry_jitter;	/* +- this fraction of the delay */
	char		 *pool;		/* named pool it draws a slot from */
	int		  pool_index;	/* in cfg->pools, or -1 */
	char		 *executor;	/* executor = "hpc", or NULL */
	int		  executor_index; /* 0 local, k + 1: cfg->executors[k]
					 * (from the task or its pool) */
};

/* Delay before try `tries + 1` of a task that has made `tries` attempts:
 * retry_delay * retry_backoff^(tries - 1), at most retry_delay_max, then
 * moved by up to +- retry_jitter of itself (`rnd` in [0, 1)). */
int64_t	task_retry_delay(const struct task_def *, int tries, double rnd);

struct product_override {
	char	*name;			/* "domain.product" */
	char	*location;		/* NULL: the descriptor's */
	int	 line;
};

/* An input: a product of any domain this job reads, and which of its
 * partitions a run of partition K needs. */
struct job_input {
	char	*product;		/* "domain.product" */
	enum input_map {
		INPUT_SAME,		/* partition K of the product */
		INPUT_LATEST,		/* its newest published partition */
		INPUT_WINDOW		/* K and the window - 1 before it, on the
					 * producing job's schedule */
	}	 map;
	int	 window;		/* INPUT_WINDOW */
	int	 line;
	long	 producer;		/* the job building it, in the jobset
					 * (set by jobs_load); -1 */
};

struct cron;
struct tz;

struct job_def {
	char			*name;
	char			*file;		/* path of the job file */
	char			*domain;
	char			*owner;
	char			*description;	/* may be NULL */
	char			*schedule;	/* "none" if absent */
	char			*start;		/* partition key or NULL */
	char			*end;		/* partition key or NULL */
	struct paramset		 params;	/* job-level params */
	struct task_def		*tasks;
	size_t			 ntasks;
	struct product_override	*products;
	size_t			 nproducts;
	struct dag		*dag;		/* built and validated */
	/* What the daemon does with intervals missed while it was down or
	 * the job was paused: none, the latest only (default), all, or the
	 * last N (catchup = "last 3"). */
	enum catchup { CATCHUP_NONE, CATCHUP_LATEST, CATCHUP_ALL,
	    CATCHUP_LAST } catchup;
	int			 catchup_n;	/* CATCHUP_LAST */
	/* The schedule, when it is a cron expression or not in UTC: the
	 * macros in UTC use the partition module's grains instead (cron is
	 * NULL then).  tz is the job's `timezone` (NULL: UTC), dst its
	 * enum cron_dst, keyfmt the precision of its partition keys. */
	struct cron		*cron;
	struct tz		*tz;
	int			 dst;
	int			 keyfmt;
	int			 max_active_runs; /* default 16 */
	int			 max_active_tasks; /* across its runs; 0 = none */
	int64_t			 run_timeout_us;	/* 0 = none */
	/* Scheduled runs start up to this long after their interval ends:
	 * a fixed offset per job (from its name), or a new random one for
	 * each run with jitter_random, so that many jobs on one schedule do
	 * not all start at the same instant. */
	int64_t			 jitter_us;
	int			 jitter_random;
	/* Data-aware scheduling: the products this job reads.  A run
	 * starts only once they are published; with schedule = "on_inputs"
	 * runs are created when its first `same` input is published.  When
	 * an input it read is republished, its outputs become stale and are
	 * run again (on_upstream_change = "rerun") or only marked. */
	struct job_input	*inputs;
	size_t			 ninputs;
	int			 on_inputs;
	int			 upstream_rerun;
	/* on_failure, on_quarantine, on_retry, on_recovery (alert.h);
	 * NULL: none set here, meshd.conf's apply. */
	struct alert_hooks	*alerts;
};

/* Does the job have a time schedule (not "none" or "on_inputs")? */
int		 job_has_schedule(const struct job_def *);
/* The index of the task building `product`, or -1. */
int		 job_builds(const struct job_def *, const char *product);

/*
 * A job refused from a set: by errors in its own file, by a policy or its
 * plugins' descriptors (policy.c), or with other jobs, every one of which
 * is refused and named: a product built by two jobs, an input nobody
 * builds, a cycle between jobs through their products.
 */
struct job_broken {
	char		*name;		/* the file's name without .conf, which
					 * a valid job's name must be */
	char		*file;
	struct errlist	 errs;		/* its errors (and warnings), in order */
	int		 previous;	/* meshd runs its last valid version
					 * (jobs_keep_previous()) */
	/* A previous version refused again (by new policies, or beside a
	 * new job): not freed by jobset_refuse(), since meshd may still be
	 * running it; meshd hands it back to the old set, which is retired
	 * and freed once no run uses it (else jobset_free() frees it). */
	struct job_def	*parked;
};

struct jobset {
	struct job_def	**v;
	size_t		  n;
	/* Name index (open addressing, slot = index + 1, 0 empty), built by
	 * jobs_load(): daemons with 10,000 jobs look names up a lot. */
	size_t		 *hidx;
	size_t		  hcap;
	/* The refused jobs, in file name order; not in v[]. */
	struct job_broken *broken;
	size_t		  nbroken;
};

const char	*stage_name(int stage);
/* "extract" -> MESHD_STAGE_EXTRACT; -1 if unknown. */
int		 stage_from_name(const char *);

/*
 * Load one job file: parse, check every key and type, resolve plugins
 * along the config's plugin path, build the DAG.  Returns NULL if the file
 * has any error (all of them are in errs); warnings alone do not refuse.
 */
struct job_def	*job_load_file(const struct meshd_config *, const char *path,
		    struct errlist *errs);
void		 job_free(struct job_def *);

/*
 * Load every *.conf of cfg->jobs_dir, in name order, each on its own, then
 * link inputs to the jobs that build them (jobs_link()).  A refused job is
 * left out of v[] and recorded in out->broken with its errors; a name used
 * by two files is an error in the second.  Every diagnostic is in errs too.
 * Returns 0 if no file had an error, else -1 (the good jobs are still in
 * `out`, and are what meshd runs).
 */
int		 jobs_load(const struct meshd_config *, struct jobset *out,
		    struct errlist *errs);
/* jobs_load() without jobs_link(): each file alone, the inputs unlinked
 * (meshd's reload puts previous versions in before it links). */
int		 jobs_load_files(const struct meshd_config *, struct jobset *out,
		    struct errlist *errs);
/*
 * Link each input to the job of the set that builds its product.  Refuses
 * (jobset_refuse()) a job reading a product nobody builds, and the jobs of
 * a cycle through their products (each told the cycle, `a -> b -> a`),
 * then the jobs left reading a refused job's product, until none is left.
 * Returns the number of jobs refused.
 */
size_t		 jobs_link(struct jobset *, struct errlist *errs);
/* jobs_link(), with the products `ext` built outside the set: their readers
 * are not refused, and their producer stays -1.  For meshctl, where meshd
 * runs previous versions of jobs whose files are broken now. */
size_t		 jobs_link_ext(struct jobset *, struct errlist *errs,
		    const char *const *ext, size_t next);
/*
 * Take the jobs flagged in bad[] (by position) out of v[], free them and
 * record them as broken, each with the diagnostics of errs from index
 * `from` on that are at its file.  Rebuilds the name index; the caller
 * links the inputs again.
 */
void		 jobset_refuse(struct jobset *, const unsigned char *bad,
		    const struct errlist *errs, size_t from);
/* Record a broken job file (or add diagnostics to its record): those of
 * errs from index `from` at `file`. */
struct job_broken *jobset_add_broken(struct jobset *, const char *file,
		    const struct errlist *errs, size_t from);
/* The broken record of job `name`, or NULL. */
struct job_broken *jobset_broken(const struct jobset *, const char *name);
/*
 * meshd's reload: each broken job of `js` that `old` runs keeps running
 * its last valid version.  Its job_def moves from old into js (old's v[]
 * shrinks, so a retired set never frees it) and its record is marked
 * `previous`.  Returns how many moved; the caller links and judges the
 * set again (positions and producers changed).
 */
size_t		 jobs_keep_previous(struct jobset *js, struct jobset *old);
struct job_def	*jobset_find(const struct jobset *, const char *name);
/* The position of a job in the set, or -1. */
long		 jobset_pos(const struct jobset *, const char *name);
/* Build the name index again after jobs were taken out of v[]. */
void		 jobset_reindex(struct jobset *);
void		 jobset_free(struct jobset *);

/* Index of a task by id, or -1. */
int		 job_task_index(const struct job_def *, const char *id);
/* The job file's location override for a product, or NULL. */
const char	*job_product_location(const struct job_def *, const char *product);

#endif
