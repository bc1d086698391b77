/*
 * elfcheck.h -- lint a plugin's ELF file: what it exports and what it
 * uses without linking it.
 *
 * A plugin should export its entry function (MESHD_PLUGIN_ENTRY) and
 * nothing else: any other default-visibility symbol can interpose on, or
 * be interposed by, another plugin's or a library's.  And each symbol it
 * uses must come from a library it links (DT_NEEDED): a plugin that calls
 * sqlite3_open() without -lsqlite3 loads today only because meshd has
 * already loaded SQLite, and breaks the day it does not.
 *
 * The file is tenant input: it is read with libelf, every index is
 * checked, and a truncated or malformed file gives a cause, never a crash.
 * Reading runs no plugin code; resolving (elfcheck_warnings) asks a
 * callback, which the probe child answers with dlsym() on the plugin's own
 * handle (core/loader.c), never meshctl or the daemon.
 */
#ifndef MESHD_ELFCHECK_H
#define MESHD_ELFCHECK_H

#include <stddef.h>

struct elfcheck {
	char	**exports;	/* defined, global or weak, default
				 * visibility, beyond the entry function */
	size_t	  nexports;
	char	**undefined;	/* undefined, global (strong) */
	size_t	  nundefined;
	char	**needed;	/* DT_NEEDED */
	size_t	  nneeded;
};

/* Read the ELF file at `path`.  0, or -1 with a cause naming the file. */
int	elfcheck_read(const char *path, struct elfcheck *, char **cause);
/* The same over `len` bytes in memory (for tests and fuzzing); `what`
 * names it in the cause. */
int	elfcheck_read_mem(const void *data, size_t len, const char *what,
	    struct elfcheck *, char **cause);
void	elfcheck_free(struct elfcheck *);

/*
 * The warnings for a read file, as strings to free, into *out (an array
 * to free); returns how many.  `defined(arg, name)` says whether one of
 * the plugin's linked libraries defines `name`; NULL means nothing can be
 * resolved (every used symbol is then reported).  Host-provided names
 * (meshd_*) and sanitizer runtimes are never reported.
 */
size_t	elfcheck_warnings(const char *path, const struct elfcheck *,
	    int (*defined)(void *, const char *), void *arg, char ***out);

#endif
