/*
 * loader.h -- loading plugins, and describing them without loading them
 * into the calling process.
 *
 * dlopen() only ever happens in worker processes (and in the short-lived
 * child of loader_probe()), never in the daemon or in meshctl: a plugin
 * whose constructor crashes costs a child, not the caller.
 *
 * Before any plugin code runs, the loader checks, as sshd's StrictModes
 * does:
 *  - the file's real path (symlinks resolved): the file and every
 *    directory from / down to it are owned by root or by the effective
 *    user (the daemon's user) and are neither group- nor world-writable
 *    (a sticky bit does not help); for a symlink, the directories down to
 *    the link as well.  The file is then opened by its real path;
 *  - the entry function MESHD_PLUGIN_ENTRY exists (dlsym);
 * and after calling the entry function (the only plugin code run before
 * the checks end), before init or any stage:
 *  - magic, size >= the 1.0 size, abi_major == MESHD_ABI_MAJOR,
 *    product_size >= the 1.0 size;
 *  - required fields: name, version, domain, owner; every product named.
 * Every refusal names the file and what is wrong, with both values for a
 * version mismatch:
 *   "plugins/x.so: ABI major 2 is not supported (this meshd: 1)".
 */
#ifndef MESHD_LOADER_H
#define MESHD_LOADER_H

#include "../sdk/meshd/plugin.h"

struct loaded_plugin {
	char				*path;
	void				*handle;	/* dlopen handle */
	const struct meshd_plugin	*desc;
	int				 initialized;	/* init ran and was OK */
	char				*init_error;	/* init failed: why */
};

/*
 * Check the ownership and permissions of `path` and of every directory
 * above it (see above).  0, or -1 with a cause that names the file, the
 * offending file or directory, its mode and owner, and a hint:
 *   "/x/p.so: refusing plugin: directory '/x' is world-writable (mode
 *    0777, owner root): every directory from / to a plugin must be
 *    writable by its owner alone; hint: chmod go-w '/x', or install the
 *    plugin elsewhere"
 * With MESHD_INSECURE_PLUGIN_PATHS=1 in the environment (the test suite
 * only), a sticky world-writable directory (/tmp) may stand above the
 * plugin's own directory.
 */
int	loader_check_file(const char *path, char **cause);
/* The same, also giving the resolved path to load (*real, to free). */
int	loader_check_path(const char *path, char **real, char **cause);
/* Check a descriptor already obtained (exposed for tests). */
int	loader_check_desc(const char *path, const struct meshd_plugin *,
	    char **cause);
/* Worker side: dlopen(RTLD_NOW|RTLD_LOCAL) + all checks.  Does not call
 * init.  NULL with cause. */
struct loaded_plugin *loader_open(const char *path, char **cause);
/* Call fini if init ran, dlclose, free. */
void	loader_close(struct loaded_plugin *);
/* The stage callback of a descriptor, or NULL if it lacks the stage. */
meshd_stage_fn loader_stage_fn(const struct meshd_plugin *, int stage);

/* A plain copy of a descriptor, safe to keep after the plugin is gone. */
struct plugin_info {
	char	*path;
	int	 abi_major, abi_minor;
	char	*name, *version, *domain, *owner, *description;
	int	 has_stage[3];		/* indexed by enum meshd_stage */
	int	 has_init, has_fini;
	struct plugin_product_info {
		char	*name, *description, *owner, *contract_version;
		char	*tags, *location;
		long long freshness_seconds;
	} *products;
	size_t	 nproducts;
	/* loader_probe_warn() only: what elfcheck.h finds (exports beyond
	 * the entry, symbols no linked library defines); NULL otherwise. */
	char	**warnings;
	size_t	  nwarnings;
};

/*
 * Describe a plugin: fork a child that runs loader_open() and sends back a
 * struct plugin_info over a pipe.  The child is killed after 10 seconds.
 * A crash in the child is reported as the cause ("plugins/x.so: killed by
 * signal 11 (SIGSEGV) while loading").  NULL with cause on refusal.
 */
struct plugin_info *loader_probe(const char *path, char **cause);
/*
 * The same, and the child also lints the plugin's ELF file (elfcheck.h),
 * resolving its undefined symbols against its own link map: the warnings
 * are in pi->warnings.  For meshctl plugin info and validate; the daemon
 * does not need them.
 */
struct plugin_info *loader_probe_warn(const char *path, char **cause);
void	plugin_info_free(struct plugin_info *);

#endif
