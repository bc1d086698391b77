/*
 * schema.c -- the DDL of the state database, as forward migration steps.
 *
 * steps[v] takes a database from user_version v to v + 1; steps[0] builds
 * version 1 from an empty file.  state_open() runs each missing step in its
 * own transaction and bumps user_version in the same transaction, so a
 * crash mid-migration leaves the file at the last complete version.
 *
 * To add version N + 1: append one string to steps[] and raise
 * STATE_SCHEMA_VERSION in state.h.  Never edit a step that has shipped:
 * databases in the field were built by it.
 *
 * Column names "trigger" and "rows" are SQL keywords, hence quoted.
 * Measured values (check_results.observed, metrics.value) are doubles in
 * the API but NUMERIC here, not REAL: a whole number such as a row count
 * is then stored and shown as 20000, not 20000.0, to anyone querying the
 * file; reading it back as a double gives the same value.  They may be
 * NULL (a NaN is bound as NULL).
 * task_instances(run_id) and metrics(attempt_id) need no index of their
 * own: the unique indexes that start with those columns serve lookups by
 * them.
 */
#include <stddef.h>

#include "state.h"
#include "util.h"

static const char *const steps[] = {
	/* version 1 */
	"CREATE TABLE jobs (\n"
	"	id		INTEGER PRIMARY KEY,\n"
	"	name		TEXT NOT NULL UNIQUE,\n"
	"	domain		TEXT NOT NULL DEFAULT '',\n"
	"	owner		TEXT NOT NULL DEFAULT '',\n"
	"	description	TEXT,\n"
	"	file		TEXT,\n"
	"	schedule	TEXT NOT NULL DEFAULT 'none',\n"
	"	paused		INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),\n"
	"	created_us	INTEGER NOT NULL,\n"
	"	updated_us	INTEGER NOT NULL\n"
	");\n"
	"CREATE TABLE runs (\n"
	"	id		INTEGER PRIMARY KEY,\n"
	"	job_id		INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,\n"
	"	partition_key	TEXT NOT NULL,\n"
	"	interval_start_us INTEGER,\n"
	"	interval_end_us	INTEGER,\n"
	"	\"trigger\"	TEXT NOT NULL DEFAULT 'schedule',\n"
	"	state		TEXT NOT NULL DEFAULT 'queued' CHECK (state IN\n"
	"			    ('queued', 'running', 'success', 'failed',\n"
	"			    'cancelled')),\n"
	"	created_us	INTEGER NOT NULL,\n"
	"	started_us	INTEGER,\n"
	"	ended_us	INTEGER\n"
	");\n"
	"CREATE UNIQUE INDEX runs_job_partition ON runs(job_id, partition_key);\n"
	"CREATE INDEX runs_state ON runs(state);\n"
	"CREATE INDEX runs_job_created ON runs(job_id, created_us);\n"
	"CREATE TABLE task_instances (\n"
	"	id		INTEGER PRIMARY KEY,\n"
	"	run_id		INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"	task_id		TEXT NOT NULL,\n"
	"	stage		TEXT NOT NULL,\n"
	"	state		TEXT NOT NULL DEFAULT 'pending' CHECK (state IN\n"
	"			    ('pending', 'queued', 'running', 'success',\n"
	"			    'failed', 'skipped', 'up_for_retry',\n"
	"			    'upstream_failed', 'cancelled')),\n"
	"	try_number	INTEGER NOT NULL DEFAULT 0,\n"
	"	max_tries	INTEGER NOT NULL DEFAULT 1,\n"
	"	reason		TEXT,\n"
	"	started_us	INTEGER,\n"
	"	ended_us	INTEGER\n"
	");\n"
	"CREATE UNIQUE INDEX task_instances_run_task ON task_instances(run_id, task_id);\n"
	"CREATE TABLE attempts (\n"
	"	id		INTEGER PRIMARY KEY,\n"
	"	task_instance_id INTEGER NOT NULL REFERENCES task_instances(id)\n"
	"			    ON DELETE CASCADE,\n"
	"	try_number	INTEGER NOT NULL,\n"
	"	state		TEXT NOT NULL DEFAULT 'running' CHECK (state IN\n"
	"			    ('running', 'success', 'failed', 'retry',\n"
	"			    'skipped')),\n"
	"	started_us	INTEGER NOT NULL,\n"
	"	ended_us	INTEGER,\n"
	"	worker_pid	INTEGER,\n"
	"	log_path	TEXT,\n"
	"	reason		TEXT,\n"
	"	message		TEXT\n"
	");\n"
	"CREATE INDEX attempts_task_instance ON attempts(task_instance_id);\n"
	"CREATE TABLE check_results (\n"
	"	id		INTEGER PRIMARY KEY,\n"
	"	attempt_id	INTEGER NOT NULL REFERENCES attempts(id) ON DELETE CASCADE,\n"
	"	name		TEXT NOT NULL,\n"
	"	severity	INTEGER NOT NULL CHECK (severity >= 0),\n"
	"	passed		INTEGER NOT NULL CHECK (passed IN (0, 1)),\n"
	"	observed	NUMERIC,\n"
	"	expectation	TEXT,\n"
	"	recorded_us	INTEGER NOT NULL\n"
	");\n"
	"CREATE INDEX check_results_attempt ON check_results(attempt_id);\n"
	"CREATE TABLE metrics (\n"
	"	id		INTEGER PRIMARY KEY,\n"
	"	attempt_id	INTEGER NOT NULL REFERENCES attempts(id) ON DELETE CASCADE,\n"
	"	name		TEXT NOT NULL,\n"
	"	value		NUMERIC\n"
	");\n"
	"CREATE UNIQUE INDEX metrics_attempt_name ON metrics(attempt_id, name);\n"
	"CREATE TABLE products (\n"
	"	id		INTEGER PRIMARY KEY,\n"
	"	name		TEXT NOT NULL UNIQUE,\n"
	"	domain		TEXT NOT NULL DEFAULT '',\n"
	"	owner		TEXT NOT NULL DEFAULT '',\n"
	"	description	TEXT,\n"
	"	contract_version TEXT,\n"
	"	tags		TEXT,\n"
	"	location	TEXT,\n"
	"	freshness_s	INTEGER NOT NULL DEFAULT 0,\n"
	"	plugin		TEXT,\n"
	"	job_id		INTEGER REFERENCES jobs(id) ON DELETE SET NULL\n"
	");\n"
	"CREATE TABLE product_partitions (\n"
	"	id		INTEGER PRIMARY KEY,\n"
	"	product_id	INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,\n"
	"	partition_key	TEXT NOT NULL,\n"
	"	state		TEXT NOT NULL CHECK (state IN\n"
	"			    ('missing', 'building', 'published',\n"
	"			    'quarantined', 'stale')),\n"
	"	run_id		INTEGER REFERENCES runs(id) ON DELETE SET NULL,\n"
	"	attempt_id	INTEGER REFERENCES attempts(id) ON DELETE SET NULL,\n"
	"	published_us	INTEGER,\n"
	"	updated_us	INTEGER NOT NULL,\n"
	"	\"rows\"		INTEGER,\n"
	"	version		INTEGER NOT NULL DEFAULT 0\n"
	");\n"
	"CREATE UNIQUE INDEX product_partitions_product_key\n"
	"	ON product_partitions(product_id, partition_key);\n"
	"CREATE INDEX product_partitions_state ON product_partitions(state);\n",

	/* Version 2: operators' requests, written by meshctl whether or not
	 * the daemon is up, and carried out by the daemon. */
	"CREATE TABLE requests (\n"
	"	id		INTEGER PRIMARY KEY,\n"
	"	kind		TEXT NOT NULL CHECK (kind IN ('trigger', 'backfill',\n"
	"			    'clear', 'cancel', 'pause', 'unpause')),\n"
	"	job		TEXT NOT NULL,\n"
	"	partition_key	TEXT,\n"
	"	args		TEXT,\n"
	"	state		TEXT NOT NULL DEFAULT 'pending' CHECK (state IN\n"
	"			    ('pending', 'done', 'failed')),\n"
	"	created_us	INTEGER NOT NULL,\n"
	"	created_by	TEXT,\n"
	"	done_us		INTEGER,\n"
	"	result		TEXT\n"
	");\n"
	"CREATE INDEX requests_state ON requests(state, id);\n",

	/* Version 3: backfills, each with its partitions created whole by
	 * meshctl in one transaction, and run parameters (trigger --param). */
	"CREATE TABLE backfills (\n"
	"	id		INTEGER PRIMARY KEY,\n"
	"	job		TEXT NOT NULL,\n"
	"	from_key	TEXT NOT NULL,\n"
	"	to_key		TEXT NOT NULL,\n"
	"	reprocess	TEXT NOT NULL CHECK (reprocess IN ('missing',\n"
	"			    'failed', 'all')),\n"
	"	max_active_runs	INTEGER NOT NULL CHECK (max_active_runs > 0),\n"
	"	reverse		INTEGER NOT NULL DEFAULT 0 CHECK (reverse IN (0, 1)),\n"
	"	state		TEXT NOT NULL DEFAULT 'pending' CHECK (state IN\n"
	"			    ('pending', 'running', 'cancelling', 'success',\n"
	"			    'failed', 'cancelled')),\n"
	"	total		INTEGER NOT NULL,\n"
	"	n_running	INTEGER NOT NULL DEFAULT 0,\n"
	"	n_success	INTEGER NOT NULL DEFAULT 0,\n"
	"	n_failed	INTEGER NOT NULL DEFAULT 0,\n"
	"	n_skipped	INTEGER NOT NULL DEFAULT 0,\n"
	"	n_cancelled	INTEGER NOT NULL DEFAULT 0,\n"
	"	request_id	INTEGER REFERENCES requests(id) ON DELETE SET NULL,\n"
	"	created_us	INTEGER NOT NULL,\n"
	"	created_by	TEXT,\n"
	"	started_us	INTEGER,\n"
	"	ended_us	INTEGER,\n"
	"	result		TEXT\n"
	");\n"
	"CREATE INDEX backfills_state ON backfills(state, id);\n"
	"CREATE INDEX backfills_job ON backfills(job, id);\n"
	"CREATE TABLE backfill_partitions (\n"
	"	backfill_id	INTEGER NOT NULL REFERENCES backfills(id)\n"
	"			    ON DELETE CASCADE,\n"
	"	seq		INTEGER NOT NULL,\n"
	"	partition_key	TEXT NOT NULL,\n"
	"	interval_start_us INTEGER,\n"
	"	interval_end_us	INTEGER,\n"
	"	state		TEXT NOT NULL DEFAULT 'pending' CHECK (state IN\n"
	"			    ('pending', 'running', 'success', 'failed',\n"
	"			    'skipped', 'cancelled')),\n"
	"	run_id		INTEGER,\n"
	"	reason		TEXT,\n"
	"	PRIMARY KEY (backfill_id, seq)\n"
	") WITHOUT ROWID;\n"
	"CREATE INDEX backfill_partitions_state\n"
	"	ON backfill_partitions(backfill_id, state, seq);\n"
	"ALTER TABLE runs ADD COLUMN params TEXT;\n",

	/* Version 4: `meshctl runs` walks a job's runs newest interval first,
	 * and `catalog` counts each product's partitions by state, from an
	 * index rather than by sorting or reading the rows. */
	"CREATE INDEX runs_job_interval\n"
	"	ON runs(job_id, interval_start_us, partition_key);\n"
	"CREATE INDEX product_partitions_product_state\n"
	"	ON product_partitions(product_id, state);\n",

	/* Version 5: the data-mesh layer.  run_inputs: every product
	 * partition (and its version) a run consumed, for exact lineage and
	 * staleness; runs.waiting_for: the inputs a queued run waits for,
	 * for operators to see.  lineage_outbox: OpenLineage events written
	 * in the transaction of the change they report, delivered in order
	 * by seq; lineage_sinks: how far each sink has acknowledged.
	 * Freshness: when each partition is due and when it was found late,
	 * and a count of late partitions per product. */
	"CREATE TABLE run_inputs (\n"
	"	run_id		INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"	product_id	INTEGER NOT NULL REFERENCES products(id)\n"
	"			    ON DELETE CASCADE,\n"
	"	partition_key	TEXT NOT NULL,\n"
	"	version		INTEGER NOT NULL,\n"
	"	recorded_us	INTEGER NOT NULL,\n"
	"	PRIMARY KEY (run_id, product_id, partition_key)\n"
	") WITHOUT ROWID;\n"
	"CREATE INDEX run_inputs_product ON run_inputs(product_id, partition_key);\n"
	"ALTER TABLE runs ADD COLUMN waiting_for TEXT;\n"
	"CREATE TABLE lineage_outbox (\n"
	"	seq		INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"	event		TEXT NOT NULL,\n"
	"	created_us	INTEGER NOT NULL\n"
	");\n"
	"CREATE TABLE lineage_sinks (\n"
	"	name		TEXT PRIMARY KEY,\n"
	"	acked_seq	INTEGER NOT NULL DEFAULT 0,\n"
	"	failures	INTEGER NOT NULL DEFAULT 0,\n"
	"	next_try_us	INTEGER NOT NULL DEFAULT 0,\n"
	"	last_error	TEXT\n"
	");\n"
	"ALTER TABLE product_partitions ADD COLUMN due_us INTEGER;\n"
	"ALTER TABLE product_partitions ADD COLUMN late_us INTEGER;\n"
	"ALTER TABLE products ADD COLUMN late_count INTEGER NOT NULL DEFAULT 0;\n",

	/* Version 6: a rerun of a published partition whose checks fail
	 * never reaches publish (write-audit-publish), so the published
	 * version stays what consumers read: the partition stays
	 * 'published', and the quarantined rerun is recorded beside it
	 * (its run, its failed check attempt, when), until a later publish
	 * replaces the version. */
	"ALTER TABLE product_partitions ADD COLUMN rerun_run_id INTEGER;\n"
	"ALTER TABLE product_partitions ADD COLUMN rerun_attempt_id INTEGER;\n"
	"ALTER TABLE product_partitions ADD COLUMN rerun_us INTEGER;\n"
	/* Partitions quarantined after a publication (version > 0) under
	 * the old rule: their published rows are still there.  Which run
	 * published them was overwritten, so it is left unknown. */
	"UPDATE product_partitions SET state = 'published',\n"
	"	rerun_run_id = run_id, rerun_attempt_id = attempt_id,\n"
	"	rerun_us = updated_us, run_id = NULL, attempt_id = NULL\n"
	"	WHERE state = 'quarantined' AND version > 0;\n",

	/* Version 7: alerts to the owning team (alert.h).  alert_outbox:
	 * one row per alert, written in the transaction of the change it
	 * reports, with its document and its hook, delivered in seq order
	 * per job and marked delivered (or failed) there.  jobs.
	 * failing_since_us: set by a failed run, cleared by a successful
	 * one, which is then a recovery. */
	"CREATE TABLE alert_outbox (\n"
	"	seq		INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"	event_id	TEXT NOT NULL UNIQUE,\n"
	"	event		TEXT NOT NULL CHECK (event IN ('failure',\n"
	"			    'quarantine', 'retry', 'recovery', 'late')),\n"
	"	job		TEXT NOT NULL,\n"
	"	partition_key	TEXT,\n"
	"	run_id		INTEGER,\n"
	"	hook		TEXT NOT NULL,\n"
	"	document	TEXT NOT NULL,\n"
	"	state		TEXT NOT NULL DEFAULT 'pending' CHECK (state IN\n"
	"			    ('pending', 'delivered', 'failed')),\n"
	"	attempts	INTEGER NOT NULL DEFAULT 0,\n"
	"	next_try_us	INTEGER NOT NULL DEFAULT 0,\n"
	"	last_error	TEXT,\n"
	"	created_us	INTEGER NOT NULL,\n"
	"	give_up_us	INTEGER NOT NULL,\n"
	"	delivered_us	INTEGER\n"
	");\n"
	"CREATE INDEX alert_outbox_pending ON alert_outbox(state, job, seq);\n"
	"CREATE INDEX alert_outbox_job ON alert_outbox(job, seq);\n"
	"ALTER TABLE jobs ADD COLUMN failing_since_us INTEGER;\n",

	/* Version 8: runs.scheduled -- the scheduler made (or took over)
	 * this run.  A rerun now records its own trigger (manual, trigger,
	 * clear), so the trigger no longer says whether meshd's schedule
	 * reached the interval; the watermark it resumes from reads this. */
	"ALTER TABLE runs ADD COLUMN scheduled INTEGER NOT NULL DEFAULT 0;\n"
	"UPDATE runs SET scheduled = 1 WHERE \"trigger\" = 'schedule';\n",
	/* Version 9: the read layer's product questions walk an index from
	 * their cursor, O(page): a product's partitions newest first in one
	 * state (`product --state`, the catalog's quarantined ones) by
	 * (product_id, state, partition_key), which also answers the
	 * counts by state the older (product_id, state) index did; the
	 * published partitions whose rerun was quarantined by a partial
	 * index; the catalog by (domain, name). */
	"DROP INDEX product_partitions_product_state;\n"
	"CREATE INDEX product_partitions_product_state_key\n"
	"	ON product_partitions(product_id, state, partition_key);\n"
	"CREATE INDEX product_partitions_rerun\n"
	"	ON product_partitions(product_id, partition_key)\n"
	"	WHERE rerun_run_id IS NOT NULL;\n"
	"CREATE INDEX products_domain_name ON products(domain, name);\n",

	/* Version 10: /metrics counts the runs that ended since its last
	 * scrape (a rerun ends again with a newer ended_us), a range of
	 * this index instead of a scan of every run. */
	"CREATE INDEX runs_ended ON runs(ended_us);\n",

	/* Version 11: executors (issue 13).  An attempt on a remote
	 * executor records where it runs before it is submitted: the
	 * executor's name (NULL: the local pool), the Slurm job name it
	 * will get and its index in a job array, so that a restarted meshd
	 * finds and adopts it instead of submitting it twice; then the
	 * Slurm job id and state as they become known. */
	"ALTER TABLE attempts ADD COLUMN executor TEXT;\n"
	"ALTER TABLE attempts ADD COLUMN ext_name TEXT;\n"
	"ALTER TABLE attempts ADD COLUMN ext_index INTEGER;\n"
	"ALTER TABLE attempts ADD COLUMN ext_id TEXT;\n"
	"ALTER TABLE attempts ADD COLUMN ext_state TEXT;\n",

	/* Version 12 (issue 14): scale.  runs_state_ended: staging
	 * retention walks the finished runs of one state in (ended_us, id)
	 * order from where it stopped, a range of this index.
	 * product_counts: each product's partitions by state (how many,
	 * their rows, how many were found late), kept by triggers in the
	 * transaction of every change, so that `products`, the catalog
	 * and a product's card read a few rows instead of counting a
	 * million partitions (a count over an index is still a walk of
	 * it).  The triggers fire only when a counted column changes; a
	 * REPLACE is never used on product_partitions (it would delete
	 * without its trigger).  The counts start from the rows there
	 * are. */
	"CREATE INDEX runs_state_ended ON runs(state, ended_us);\n"
	"CREATE TABLE product_counts (\n"
	"	product_id	INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,\n"
	"	state		TEXT NOT NULL,\n"
	"	n		INTEGER NOT NULL DEFAULT 0,\n"
	"	\"rows\"		INTEGER NOT NULL DEFAULT 0,\n"
	"	late		INTEGER NOT NULL DEFAULT 0,\n"
	"	PRIMARY KEY (product_id, state)\n"
	") WITHOUT ROWID;\n"
	"INSERT INTO product_counts (product_id, state, n, \"rows\", late)\n"
	"	SELECT product_id, state, count(*), coalesce(sum(\"rows\"), 0),\n"
	"	    count(late_us) FROM product_partitions\n"
	"	    GROUP BY product_id, state;\n"
	"CREATE TRIGGER product_counts_insert AFTER INSERT ON product_partitions\n"
	"BEGIN\n"
	"	INSERT INTO product_counts (product_id, state, n, \"rows\", late)\n"
	"	    VALUES (NEW.product_id, NEW.state, 1, coalesce(NEW.\"rows\", 0),\n"
	"	    NEW.late_us IS NOT NULL)\n"
	"	    ON CONFLICT (product_id, state) DO UPDATE SET n = n + 1,\n"
	"	    \"rows\" = \"rows\" + excluded.\"rows\", late = late + excluded.late;\n"
	"END;\n"
	"CREATE TRIGGER product_counts_delete AFTER DELETE ON product_partitions\n"
	"BEGIN\n"
	"	UPDATE product_counts SET n = n - 1,\n"
	"	    \"rows\" = \"rows\" - coalesce(OLD.\"rows\", 0),\n"
	"	    late = late - (OLD.late_us IS NOT NULL)\n"
	"	    WHERE product_id = OLD.product_id AND state = OLD.state;\n"
	"END;\n"
	"CREATE TRIGGER product_counts_update\n"
	"	AFTER UPDATE OF product_id, state, \"rows\", late_us ON product_partitions\n"
	"	WHEN OLD.product_id IS NOT NEW.product_id OR OLD.state IS NOT NEW.state\n"
	"	    OR OLD.\"rows\" IS NOT NEW.\"rows\"\n"
	"	    OR (OLD.late_us IS NULL) <> (NEW.late_us IS NULL)\n"
	"BEGIN\n"
	"	UPDATE product_counts SET n = n - 1,\n"
	"	    \"rows\" = \"rows\" - coalesce(OLD.\"rows\", 0),\n"
	"	    late = late - (OLD.late_us IS NOT NULL)\n"
	"	    WHERE product_id = OLD.product_id AND state = OLD.state;\n"
	"	INSERT INTO product_counts (product_id, state, n, \"rows\", late)\n"
	"	    VALUES (NEW.product_id, NEW.state, 1, coalesce(NEW.\"rows\", 0),\n"
	"	    NEW.late_us IS NOT NULL)\n"
	"	    ON CONFLICT (product_id, state) DO UPDATE SET n = n + 1,\n"
	"	    \"rows\" = \"rows\" + excluded.\"rows\", late = late + excluded.late;\n"
	"END;\n",
};

_Static_assert(nitems(steps) == STATE_SCHEMA_VERSION,
    "one migration step per schema version");

static const char *const *cur_steps = steps;
static size_t		  cur_nsteps = nitems(steps);

size_t
state_schema_nsteps(void)
{
	return cur_nsteps;
}

const char *
state_schema_step(size_t i)
{
	return i < cur_nsteps ? cur_steps[i] : NULL;
}

void
state_schema_set_steps(const char *const *v, size_t n)
{
	if (v == NULL) {
		cur_steps = steps;
		cur_nsteps = nitems(steps);
	} else {
		cur_steps = v;
		cur_nsteps = n;
	}
}
