/*
 * meshd/plugin.h -- the meshd plugin SDK, ABI 1.
 *
 * This is the only header a plugin includes, and the host includes the same
 * file.  It needs nothing but the C library.
 *
 * A plugin is a shared object that exports exactly one function,
 * meshd_plugin_descriptor(), which returns a pointer to a constant
 * struct meshd_plugin.  Write it with the MESHD_PLUGIN() macro:
 *
 *     static meshd_status extract(meshd_ctx *ctx) { ... return MESHD_OK; }
 *
 *     MESHD_PLUGIN(
 *         .name     = "flights",
 *         .version  = "1.0.0",
 *         .domain   = "ops",
 *         .owner    = "ops-data@example.org",
 *         .products = products,
 *         .extract  = extract,
 *     );
 *
 * The host checks the descriptor (size, ABI major, required fields) before it
 * calls any plugin code, and refuses a mismatch with a message naming the
 * file, the field and both values.  Plugins never link against meshd: every
 * host service is reached through the function table carried by the context
 * (see struct meshd_api), so one binary runs under any meshd of the same ABI
 * major.
 *
 * Compatibility rules (libuv and SQLite style):
 *  - a new ABI minor only ever appends members: to struct meshd_api, to
 *    struct meshd_plugin (before its reserved tail is used up) and to
 *    struct meshd_product;
 *  - every struct that crosses the boundary starts with its size, or ends
 *    with reserved space, so either side can tell what the other knows;
 *  - a change that breaks old plugins bumps MESHD_ABI_MAJOR, and the host
 *    then refuses old plugins by name rather than crashing in them.
 *
 * Ownership, in one sentence: the host owns every pointer it hands a plugin
 * (strings, the context, the api table) and they stay valid until the
 * callback returns; the plugin owns its descriptor and everything the
 * descriptor points to, which must stay valid while the object is loaded
 * (use static storage).
 *
 * Plugins never call exit(), abort() or longjmp() out of a callback: report
 * failure by returning MESHD_FAILED after meshd_set_error().  If a plugin
 * does crash or exit anyway, only the worker process running it is lost: the
 * attempt fails with the reason and the daemon carries on.
 *
 * What a stage leaves behind does not outlive its attempt.  When the
 * callback returns (or the attempt is stopped), every process the plugin
 * started, including double-forked and setsid() ones, is killed; the
 * signal mask and the dispositions of signals 1 to 31 are reset (those of
 * real-time signals every 16 tasks); the worker's socket is
 * close-on-exec, so a program the plugin runs never holds it.  A stage
 * must therefore wait for the programs it runs.  Output on stdout and
 * stderr goes to the attempt's log up to log_max_bytes (meshd.conf); the
 * rest is dropped and one line says how much.
 */
#ifndef MESHD_PLUGIN_H
#define MESHD_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABI version of this header.  Same major: binary compatible. */
#define MESHD_ABI_MAJOR 1
#define MESHD_ABI_MINOR 0

/* Name of the single exported entry function, as a string for dlsym(). */
#define MESHD_PLUGIN_ENTRY "meshd_plugin_descriptor"

/* Magic number at the head of the descriptor: "MESH". */
#define MESHD_PLUGIN_MAGIC 0x4d455348u

#if defined(__GNUC__)
#define MESHD_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define MESHD_EXPORT __attribute__((visibility("default")))
#else
#define MESHD_PRINTF(f, a)
#define MESHD_EXPORT
#endif

/* What a stage callback returns. */
typedef enum meshd_status {
	MESHD_OK = 0,		/* the stage did its work */
	MESHD_FAILED = 1,	/* failed for good; retries are not used */
	MESHD_RETRY = 2,	/* transient failure: try again if retries remain */
	MESHD_SKIPPED = 3	/* nothing to do for this partition; counts as done */
} meshd_status;

/* Log levels, most severe first. */
typedef enum meshd_log_level {
	MESHD_LOG_ERROR = 0,
	MESHD_LOG_WARN = 1,
	MESHD_LOG_INFO = 2,
	MESHD_LOG_DEBUG = 3
} meshd_log_level;

/* Severity of a quality check.  A failed error-level check fails the check
 * stage and quarantines the partition; a failed warning is recorded and
 * shown, and does not block the publish. */
typedef enum meshd_severity {
	MESHD_SEV_ERROR = 0,
	MESHD_SEV_WARN = 1
} meshd_severity;

/* The stages a plugin may provide. */
typedef enum meshd_stage {
	MESHD_STAGE_EXTRACT = 0,
	MESHD_STAGE_CHECK = 1,
	MESHD_STAGE_PUBLISH = 2
} meshd_stage;

/*
 * The context handed to every callback.  Opaque: its only public member is
 * the pointer to the host's function table, which is always the first
 * member.  Use the meshd_*() inline wrappers below rather than the table.
 * Owned by the host, valid until the callback returns; never keep it.
 */
typedef struct meshd_ctx meshd_ctx;

/*
 * The host's function table.  Append-only: members are only ever added at
 * the end, and `size` tells a plugin which members this host has (a plugin
 * built against a newer minor checks MESHD_API_HAS() before using a new
 * member; the inline wrappers do it for members added after 1.0).
 *
 * Unless a member says otherwise, it may be called from any stage callback
 * and from init, on the thread that called the callback, and returned
 * strings are owned by the host and valid until the callback returns.
 */
struct meshd_api {
	uint32_t size;		/* sizeof(struct meshd_api) in the host */
	uint16_t abi_major;	/* the host's MESHD_ABI_MAJOR */
	uint16_t abi_minor;	/* the host's MESHD_ABI_MINOR */

	/* Write a line to this attempt's log, prefixed with level, plugin and
	 * task.  A trailing newline is optional. (1.0) */
	void (*vlog)(meshd_ctx *ctx, meshd_log_level level, const char *fmt,
	    va_list ap);

	/* Task parameters, from the job file (the task's `params` over the
	 * job's `params`), with the run's own parameters on top (`meshctl
	 * trigger --param KEY=VALUE`, read as the type the job file gives
	 * KEY, else as a string).  A missing key yields `dflt`.  A key present with
	 * another type logs a warning naming the key and both types and yields
	 * `dflt`: an int is accepted where a double is asked for.  Not
	 * available in init (yields dflt). (1.0) */
	const char *(*param_string)(meshd_ctx *ctx, const char *key,
	    const char *dflt);
	int64_t (*param_int)(meshd_ctx *ctx, const char *key, int64_t dflt);
	double (*param_double)(meshd_ctx *ctx, const char *key, double dflt);
	int (*param_bool)(meshd_ctx *ctx, const char *key, int dflt);
	/* 1 if the key is set (any type), else 0. (1.0) */
	int (*param_exists)(meshd_ctx *ctx, const char *key);

	/* The partition this attempt builds: its key (the interval start,
	 * e.g. "2001-01-02" for a daily job, or the key given to a trigger)
	 * and its data interval [start, end) in microseconds since the Unix
	 * epoch, UTC.  A partition without an interval has start == end == 0.
	 * NULL / 0 in init. (1.0) */
	const char *(*partition_key)(meshd_ctx *ctx);
	int64_t (*interval_start)(meshd_ctx *ctx);
	int64_t (*interval_end)(meshd_ctx *ctx);

	/* The staging area of this partition's run: one directory shared by
	 * the extract, check and publish stages of one run (write, audit,
	 * publish).  Created by the host when a stage first asks for it
	 * (an attempt that never asks costs no directory); kept after a
	 * failed check for inspection.  NULL in init, or if the host cannot
	 * create it: the attempt then fails with the host's reason, whatever
	 * the callback returns. (1.0) */
	const char *(*staging_dir)(meshd_ctx *ctx);
	/* A private, empty directory for this attempt only, created on the
	 * first call as staging_dir is.  NULL in init or as above. (1.0) */
	const char *(*attempt_dir)(meshd_ctx *ctx);
	/* Where `product` is published: the job file's `location` for it if
	 * set, else the product's location in the descriptor.  `product` NULL
	 * means the task's product (the task's `product` key, else the
	 * plugin's first product).  NULL if there is none. (1.0)
	 * In the publish stage, a location that is an absolute path and
	 * does not exist yet is created first as a directory (with its
	 * parents, mode 0755 less the umask); NULL if it cannot be, and the
	 * attempt then fails with the host's reason, as for staging_dir. */
	const char *(*output_location)(meshd_ctx *ctx, const char *product);

	/* Record a quality-check result.  `observed` is the measured value;
	 * `expectation` is a short human text such as "<= 480" (copied; may
	 * be NULL).  A failed MESHD_SEV_ERROR result makes the check stage
	 * fail whatever the callback returns.  Only in the check stage: it
	 * returns -1 elsewhere.  A severity other than MESHD_SEV_ERROR or
	 * MESHD_SEV_WARN is not recorded, returns -1 and fails the attempt
	 * ("check 'x': unknown severity 7").  Returns 0 when recorded.
	 * A name recorded twice keeps its last result, except that a failed
	 * MESHD_SEV_ERROR result stands: a later result under the same name
	 * is recorded beside it and the attempt still fails.  A check stage
	 * that records no check at all fails ("check stage recorded no
	 * checks (empty_check = "fail")") unless meshd.conf says
	 * empty_check = "pass". (1.0) */
	int (*check_result)(meshd_ctx *ctx, const char *name,
	    meshd_severity severity, int passed, double observed,
	    const char *expectation);

	/* Record a metric of this attempt, e.g. ("rows", 212).  A name
	 * recorded twice keeps the last value.  The "rows" metric of a
	 * successful publish stage becomes the partition's row count in the
	 * catalog.  Returns 0, or -1 on a NULL or empty name. (1.0) */
	int (*metric)(meshd_ctx *ctx, const char *name, double value);

	/* Set the message shown with a failed or retried attempt.  The last
	 * call wins. (1.0) */
	void (*set_error)(meshd_ctx *ctx, const char *fmt, va_list ap);

	/* Non-zero once the host wants this attempt to stop (timeout,
	 * cancel, shutdown).  Long loops should poll it and return
	 * MESHD_FAILED or MESHD_RETRY soon after. (1.0) */
	int (*cancelled)(meshd_ctx *ctx);

	/* Names of what is running: the job, the task id, and the attempt
	 * number (1 for the first try).  There is no stage accessor: each
	 * stage has its own callback, which knows which one it is. (1.0) */
	const char *(*job_name)(meshd_ctx *ctx);
	const char *(*task_id)(meshd_ctx *ctx);
	int (*attempt)(meshd_ctx *ctx);
};

/* True if the host's table has `member` (for members added after 1.0). */
#define MESHD_API_HAS(api, member) \
	((api)->size >= offsetof(struct meshd_api, member) + \
	    sizeof(((struct meshd_api *)0)->member))

/* The public head of every context. */
struct meshd_ctx_head {
	const struct meshd_api *api;
};

static inline const struct meshd_api *
meshd_api(meshd_ctx *ctx)
{
	return ((const struct meshd_ctx_head *)(const void *)ctx)->api;
}

/*
 * A data product built by a plugin.  The descriptor points to an array of
 * these ended by an entry whose name is NULL.  Members are only appended,
 * and the descriptor's product_size says the host how large each entry is.
 */
struct meshd_product {
	const char *name;		/* "domain.product", required */
	const char *description;	/* one line */
	const char *owner;		/* NULL: the plugin's owner */
	const char *contract_version;	/* schema/contract version, e.g. "1.0" */
	const char *tags;		/* comma-separated, e.g. "pii,finance" */
	const char *location;		/* default output location (the job
					 * file may override it) */
	int64_t freshness_seconds;	/* SLO: published within this long after
					 * the interval ends; 0 = none */
	const void *reserved[4];	/* zero */
};

/* Optional: called once when a worker loads the plugin, before any stage.
 * May log and set_error; parameters and partition are not available.
 * Return MESHD_OK, or MESHD_FAILED to refuse to run (every stage of this
 * plugin then fails with the message). */
typedef meshd_status (*meshd_init_fn)(meshd_ctx *ctx);
/* Optional: called once before the worker unloads the plugin or exits
 * normally.  Not called after a crash. */
typedef void (*meshd_fini_fn)(void);
/* A stage callback: extract, check or publish one partition. */
typedef meshd_status (*meshd_stage_fn)(meshd_ctx *ctx);

/*
 * The descriptor.  Fill it with MESHD_PLUGIN(); never by hand, so that
 * size, magic and ABI are always right.
 */
struct meshd_plugin {
	uint32_t magic;			/* MESHD_PLUGIN_MAGIC */
	uint32_t size;			/* sizeof(struct meshd_plugin) */
	uint16_t abi_major;		/* MESHD_ABI_MAJOR built against */
	uint16_t abi_minor;		/* MESHD_ABI_MINOR built against */
	uint32_t product_size;		/* sizeof(struct meshd_product) */

	const char *name;		/* plugin name, required: [a-z0-9_-]+ */
	const char *version;		/* plugin version, required */
	const char *domain;		/* owning domain, required */
	const char *owner;		/* owning team contact, required */
	const char *description;	/* one line, optional */

	const struct meshd_product *products;	/* NULL-name-terminated,
						 * optional */

	meshd_init_fn init;		/* optional */
	meshd_fini_fn fini;		/* optional */
	meshd_stage_fn extract;		/* optional */
	meshd_stage_fn check;		/* optional */
	meshd_stage_fn publish;		/* optional */

	const void *reserved[8];	/* zero */
};

/* The entry function every plugin exports. */
typedef const struct meshd_plugin *(*meshd_plugin_entry_fn)(void);

/*
 * Define the plugin's entry function and descriptor.  The arguments are
 * designated initializers for struct meshd_plugin (name, version, domain,
 * owner, products, stage callbacks...).
 */
#define MESHD_PLUGIN(...)						\
	MESHD_EXPORT const struct meshd_plugin *meshd_plugin_descriptor(void); \
	MESHD_EXPORT const struct meshd_plugin *meshd_plugin_descriptor(void) \
	{								\
		static const struct meshd_plugin meshd_descriptor_ = {	\
			.magic = MESHD_PLUGIN_MAGIC,			\
			.size = sizeof(struct meshd_plugin),		\
			.abi_major = MESHD_ABI_MAJOR,			\
			.abi_minor = MESHD_ABI_MINOR,			\
			.product_size = sizeof(struct meshd_product),	\
			__VA_ARGS__					\
		};							\
		return &meshd_descriptor_;				\
	}

/*
 * Convenience wrappers over the table.  Each has the contract of the table
 * member of the same name.
 */
static inline void meshd_log(meshd_ctx *ctx, meshd_log_level level,
    const char *fmt, ...) MESHD_PRINTF(3, 4);
static inline void
meshd_log(meshd_ctx *ctx, meshd_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	meshd_api(ctx)->vlog(ctx, level, fmt, ap);
	va_end(ap);
}

static inline void meshd_set_error(meshd_ctx *ctx, const char *fmt, ...)
    MESHD_PRINTF(2, 3);
static inline void
meshd_set_error(meshd_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	meshd_api(ctx)->set_error(ctx, fmt, ap);
	va_end(ap);
}

static inline const char *
meshd_param_string(meshd_ctx *ctx, const char *key, const char *dflt)
{
	return meshd_api(ctx)->param_string(ctx, key, dflt);
}

static inline int64_t
meshd_param_int(meshd_ctx *ctx, const char *key, int64_t dflt)
{
	return meshd_api(ctx)->param_int(ctx, key, dflt);
}

static inline double
meshd_param_double(meshd_ctx *ctx, const char *key, double dflt)
{
	return meshd_api(ctx)->param_double(ctx, key, dflt);
}

static inline int
meshd_param_bool(meshd_ctx *ctx, const char *key, int dflt)
{
	return meshd_api(ctx)->param_bool(ctx, key, dflt);
}

static inline int
meshd_param_exists(meshd_ctx *ctx, const char *key)
{
	return meshd_api(ctx)->param_exists(ctx, key);
}

static inline const char *
meshd_partition_key(meshd_ctx *ctx)
{
	return meshd_api(ctx)->partition_key(ctx);
}

static inline int64_t
meshd_interval_start(meshd_ctx *ctx)
{
	return meshd_api(ctx)->interval_start(ctx);
}

static inline int64_t
meshd_interval_end(meshd_ctx *ctx)
{
	return meshd_api(ctx)->interval_end(ctx);
}

static inline const char *
meshd_staging_dir(meshd_ctx *ctx)
{
	return meshd_api(ctx)->staging_dir(ctx);
}

static inline const char *
meshd_attempt_dir(meshd_ctx *ctx)
{
	return meshd_api(ctx)->attempt_dir(ctx);
}

static inline const char *
meshd_output_location(meshd_ctx *ctx, const char *product)
{
	return meshd_api(ctx)->output_location(ctx, product);
}

static inline int
meshd_check(meshd_ctx *ctx, const char *name, meshd_severity severity,
    int passed, double observed, const char *expectation)
{
	return meshd_api(ctx)->check_result(ctx, name, severity, passed,
	    observed, expectation);
}

static inline int
meshd_metric(meshd_ctx *ctx, const char *name, double value)
{
	return meshd_api(ctx)->metric(ctx, name, value);
}

static inline int
meshd_cancelled(meshd_ctx *ctx)
{
	return meshd_api(ctx)->cancelled(ctx);
}

static inline const char *
meshd_job_name(meshd_ctx *ctx)
{
	return meshd_api(ctx)->job_name(ctx);
}

static inline const char *
meshd_task_id(meshd_ctx *ctx)
{
	return meshd_api(ctx)->task_id(ctx);
}

static inline int
meshd_attempt(meshd_ctx *ctx)
{
	return meshd_api(ctx)->attempt(ctx);
}

#ifdef __cplusplus
}
#endif

#endif /* MESHD_PLUGIN_H */
