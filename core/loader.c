/*
 * loader.c -- dlopen plugins, check their descriptors, and describe them
 * from a throwaway child process.
 *
 * Everything here that runs plugin code (loader_open) is meant for worker
 * processes or for the child forked by loader_probe(); the daemon and
 * meshctl only ever call loader_probe().
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "elfcheck.h"
#include "loader.h"
#include "util.h"

/*
 * Sizes of the ABI 1.0 structs.  Fixed numbers, not sizeof(): when a later
 * minor appends members, a plugin built against 1.0 is still accepted.
 */
#define LOADER_PLUGIN_SIZE_1_0 \
	(offsetof(struct meshd_plugin, reserved) + 8 * sizeof(const void *))
#define LOADER_PRODUCT_SIZE_1_0 \
	(offsetof(struct meshd_product, reserved) + 4 * sizeof(const void *))

/* A list longer than this is almost certainly missing its terminator. */
#define LOADER_MAX_PRODUCTS 1024
/* elfcheck_warnings() gives at most two; room to grow. */
#define LOADER_MAX_WARNINGS 64

/* How long loader_probe() waits for its child, and the most it reads. */
#define LOADER_PROBE_TIMEOUT_US (10 * 1000 * 1000LL)
#define LOADER_PROBE_MAX_BYTES (4 * 1024 * 1024)

/* "root", "meshd" or "uid 1234". */
static const char *
loader_owner(uid_t uid, char *buf, size_t len)
{
	struct passwd	*pw;

	if ((pw = getpwuid(uid)) != NULL)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "uid %u", (unsigned)uid);
	return buf;
}

/*
 * Whether the test suite's escape hatch is on: MESHD_INSECURE_PLUGIN_PATHS=1
 * lets a sticky world-writable directory such as /tmp stand above the
 * plugin's own directory, so that the suite passes in a checkout under
 * /tmp.  Nothing else is relaxed.  For tests only (meshd(8)).
 */
static int
loader_insecure_paths(void)
{
	const char	*v = getenv("MESHD_INSECURE_PLUGIN_PATHS");

	return v != NULL && strcmp(v, "1") == 0;
}

/*
 * Check one element of a plugin's path: `elem` (a directory, or the file
 * when is_file) with its lstat `sb`.  `shown` is the path as configured,
 * `real` its resolved form (NULL when the same).
 */
static int
loader_check_elem(const char *shown, const char *real, const char *elem,
    const struct stat *sb, int is_file, int own_dir, char **cause)
{
	char		 owner[64], *where;
	const char	*how;
	uid_t		 euid = geteuid();
	int		 rc = -1;

	if (real != NULL)
		where = xasprintf("%s (%s)", shown, real);
	else
		where = xstrdup(shown);
	if (sb->st_uid != 0 && sb->st_uid != euid) {
		if (is_file)
			set_cause(cause, "%s: refusing plugin: owned by %s, not "
			    "root or the daemon's user (uid %u); hint: chown "
			    "root '%s'", where, loader_owner(sb->st_uid, owner,
			    sizeof owner), (unsigned)euid, elem);
		else
			set_cause(cause, "%s: refusing plugin: directory '%s' "
			    "is owned by %s, not root or the daemon's user "
			    "(uid %u): its owner can replace the plugin; hint: "
			    "chown root '%s', or install the plugin elsewhere",
			    where, elem, loader_owner(sb->st_uid, owner,
			    sizeof owner), (unsigned)euid, elem);
		goto out;
	}
	if ((sb->st_mode & (S_IWGRP | S_IWOTH)) == 0) {
		rc = 0;
		goto out;
	}
	/* The sticky bit stops others renaming what is not theirs, but not
	 * creating, so it does not make a path safe (sshd's rule).  The
	 * tests' hatch lets a /tmp-like directory above the plugin's own. */
	if (!is_file && !own_dir && (sb->st_mode & S_ISVTX) &&
	    (sb->st_mode & S_IWOTH) && loader_insecure_paths()) {
		rc = 0;
		goto out;
	}
	how = (sb->st_mode & S_IWOTH) ? "world-writable" : "group-writable";
	if (is_file)
		set_cause(cause, "%s: refusing plugin: file is %s (mode %#o, "
		    "owner %s): whoever can write it can run code as the "
		    "daemon's user; hint: chmod go-w '%s'", where, how,
		    (unsigned)(sb->st_mode & 07777), loader_owner(sb->st_uid,
		    owner, sizeof owner), elem);
	else
		set_cause(cause, "%s: refusing plugin: directory '%s' is %s "
		    "(mode %#o, owner %s): every directory from / to a plugin "
		    "must be writable by its owner alone; hint: chmod go-w "
		    "'%s', or install the plugin elsewhere", where, elem, how,
		    (unsigned)(sb->st_mode & 07777), loader_owner(sb->st_uid,
		    owner, sizeof owner), elem);
out:
	free(where);
	return rc;
}

/*
 * Check every directory from / down to `dir` (absolute, resolved), `dir`
 * included: whoever can write one of them can put another file, or
 * another directory, where the plugin is.
 */
static int
loader_check_dirs(const char *shown, const char *real, const char *dir,
    char **cause)
{
	struct stat	 sb;
	char		*buf, save;
	const char	*elem;
	size_t		 i, len;
	int		 rc = -1;

	buf = xstrdup(dir);
	len = strlen(buf);
	for (i = 0; i <= len; i++) {
		if (i < len && (buf[i] != '/' || i + 1 == len))
			continue;
		save = buf[i];
		if (i == 0)
			elem = "/";
		else {
			buf[i] = '\0';
			elem = buf;
		}
		if (lstat(elem, &sb) != 0) {
			set_cause(cause, "%s: directory '%s': %s", shown, elem,
			    strerror(errno));
			goto out;
		}
		if (!S_ISDIR(sb.st_mode)) {
			set_cause(cause, "%s: '%s' is not a directory", shown,
			    elem);
			goto out;
		}
		if (loader_check_elem(shown, real, elem, &sb, 0, i >= len - 1,
		    cause) != 0)
			goto out;
		buf[i] = save;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

/*
 * A link is only as safe as the directory that holds it: whoever can
 * write there can point it elsewhere.  Follow `path` link by link and
 * check the directories down to each link (the real path itself is
 * checked by the caller).
 */
static int
loader_check_links(const char *path, char **cause)
{
	struct stat	 sb;
	char		*cur, *dir = NULL, *realdir = NULL, target[PATH_MAX];
	ssize_t		 n;
	int		 hops, rc = -1;

	cur = xstrdup(path);
	for (hops = 0; hops < 40; hops++) {
		if (lstat(cur, &sb) != 0) {
			set_cause(cause, "%s: '%s': %s", path, cur,
			    strerror(errno));
			goto out;
		}
		if (!S_ISLNK(sb.st_mode)) {
			rc = 0;
			goto out;
		}
		dir = path_dirname(cur);
		if ((realdir = realpath(dir, NULL)) == NULL) {
			set_cause(cause, "%s: directory '%s': %s", path, dir,
			    strerror(errno));
			goto out;
		}
		if (loader_check_dirs(path, NULL, realdir, cause) != 0)
			goto out;
		if ((n = readlink(cur, target, sizeof target - 1)) == -1) {
			set_cause(cause, "%s: '%s': %s", path, cur,
			    strerror(errno));
			goto out;
		}
		target[n] = '\0';
		free(cur);
		cur = target[0] == '/' ? xstrdup(target) :
		    path_join(realdir, target);
		free(dir);
		free(realdir);
		dir = realdir = NULL;
	}
	set_cause(cause, "%s: %s", path, strerror(ELOOP));
out:
	free(realdir);
	free(dir);
	free(cur);
	return rc;
}

int
loader_check_file(const char *path, char **cause)
{
	char	*real;

	if (loader_check_path(path, &real, cause) != 0)
		return -1;
	free(real);
	return 0;
}

int
loader_check_path(const char *path, char **realp, char **cause)
{
	struct stat	 sb;
	char		*real = NULL, *dir = NULL, *shown_real;
	int		 rc = -1;

	*realp = NULL;
	if (lstat(path, &sb) != 0 || (real = realpath(path, NULL)) == NULL) {
		set_cause(cause, "%s: %s", path, strerror(errno));
		goto out;
	}
	/*
	 * Each link on the way, and the directories down to it, count too
	 * (loader_check_links()); the file is then opened by its real path,
	 * so that no link is followed a second time.
	 */
	if (S_ISLNK(sb.st_mode) && loader_check_links(path, cause) != 0)
		goto out;
	if (stat(real, &sb) != 0) {
		set_cause(cause, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		set_cause(cause, "%s: refusing plugin: not a regular file",
		    path);
		goto out;
	}
	shown_real = strcmp(real, path) != 0 ? real : NULL;
	dir = path_dirname(real);
	if (loader_check_dirs(path, shown_real, dir, cause) != 0)
		goto out;
	if (loader_check_elem(path, shown_real, real, &sb, 1, 0, cause) != 0)
		goto out;
	*realp = real;
	real = NULL;
	rc = 0;
out:
	free(dir);
	free(real);
	return rc;
}

/* [a-z0-9_-]+ over the first `len` bytes of s. */
static int
name_ok(const char *s, size_t len)
{
	size_t	i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		if ((s[i] < 'a' || s[i] > 'z') && (s[i] < '0' || s[i] > '9') &&
		    s[i] != '_' && s[i] != '-')
			return 0;
	}
	return 1;
}

/* Entry i of a product list whose entries are `stride` bytes apart (the
 * plugin's product_size, which may exceed ours). */
static const struct meshd_product *
product_at(const struct meshd_plugin *desc, size_t i)
{
	const char	*base = (const char *)desc->products;

	return (const void *)(base + i * desc->product_size);
}

/* True if a terminating entry carries data: a product whose name was
 * forgotten, rather than the end of the list. */
static int
product_has_data(const struct meshd_product *p)
{
	return p->description != NULL || p->owner != NULL ||
	    p->contract_version != NULL || p->tags != NULL ||
	    p->location != NULL || p->freshness_seconds != 0;
}

static int
check_products(const char *path, const struct meshd_plugin *desc,
    char **cause)
{
	const struct meshd_product	*p, *q;
	const char			*dot;
	size_t				 i, j;

	if (desc->products == NULL)
		return 0;
	for (i = 0; i < LOADER_MAX_PRODUCTS; i++) {
		p = product_at(desc, i);
		if (p->name == NULL) {
			if (!product_has_data(p))
				return 0;
			set_cause(cause, "%s: products[%zu]: field 'name' is "
			    "missing (required)", path, i);
			return -1;
		}
		if (*p->name == '\0') {
			set_cause(cause, "%s: products[%zu]: field 'name' is "
			    "empty (required)", path, i);
			return -1;
		}
		dot = strchr(p->name, '.');
		if (dot == NULL || strchr(dot + 1, '.') != NULL ||
		    !name_ok(p->name, (size_t)(dot - p->name)) ||
		    !name_ok(dot + 1, strlen(dot + 1))) {
			set_cause(cause, "%s: products[%zu]: name '%s' is not "
			    "\"domain.product\" (two parts of [a-z0-9_-] "
			    "joined by one '.')", path, i, p->name);
			return -1;
		}
		for (j = 0; j < i; j++) {
			q = product_at(desc, j);
			if (strcmp(p->name, q->name) == 0) {
				set_cause(cause, "%s: products[%zu]: product "
				    "'%s' is also products[%zu]", path, i,
				    p->name, j);
				return -1;
			}
		}
	}
	set_cause(cause, "%s: more than %d products (is the list ended by an "
	    "entry whose name is NULL?)", path, LOADER_MAX_PRODUCTS);
	return -1;
}

int
loader_check_desc(const char *path, const struct meshd_plugin *desc,
    char **cause)
{
	const char	*fields[4], *names[4] = {
		"name", "version", "domain", "owner"
	};
	size_t		 i;

	if (desc == NULL) {
		set_cause(cause, "%s: entry function '%s' returned NULL", path,
		    MESHD_PLUGIN_ENTRY);
		return -1;
	}
	if (desc->magic != MESHD_PLUGIN_MAGIC) {
		set_cause(cause, "%s: descriptor magic is 0x%08x, expected "
		    "0x%08x (not a meshd descriptor, or built without "
		    "MESHD_PLUGIN())", path, (unsigned)desc->magic,
		    (unsigned)MESHD_PLUGIN_MAGIC);
		return -1;
	}
	/*
	 * The major goes before the size: magic, size and version sit at
	 * fixed offsets in every ABI, and a descriptor of another major may
	 * well have another size, where "ABI major 2" is the useful message.
	 */
	if (desc->abi_major != MESHD_ABI_MAJOR) {
		set_cause(cause, "%s: ABI major %u is not supported (this "
		    "meshd: %d)", path, (unsigned)desc->abi_major,
		    MESHD_ABI_MAJOR);
		return -1;
	}
	if (desc->size < LOADER_PLUGIN_SIZE_1_0) {
		set_cause(cause, "%s: descriptor size %u is smaller than the "
		    "ABI 1.0 size %zu", path, (unsigned)desc->size,
		    (size_t)LOADER_PLUGIN_SIZE_1_0);
		return -1;
	}
	if (desc->product_size < LOADER_PRODUCT_SIZE_1_0) {
		set_cause(cause, "%s: descriptor product_size %u is smaller "
		    "than the ABI 1.0 size %zu", path,
		    (unsigned)desc->product_size,
		    (size_t)LOADER_PRODUCT_SIZE_1_0);
		return -1;
	}

	fields[0] = desc->name;
	fields[1] = desc->version;
	fields[2] = desc->domain;
	fields[3] = desc->owner;
	for (i = 0; i < nitems(fields); i++) {
		if (fields[i] == NULL || *fields[i] == '\0') {
			set_cause(cause, "%s: descriptor field '%s' is missing "
			    "(required)", path, names[i]);
			return -1;
		}
	}
	if (!name_ok(desc->name, strlen(desc->name))) {
		set_cause(cause, "%s: descriptor field 'name' is '%s', which "
		    "is not [a-z0-9_-]+", path, desc->name);
		return -1;
	}
	return check_products(path, desc, cause);
}

struct loaded_plugin *
loader_open(const char *path, char **cause)
{
	struct loaded_plugin	*lp = NULL;
	meshd_plugin_entry_fn	 entry;
	const struct meshd_plugin *desc;
	void			*handle = NULL, *sym;
	char			*dlpath = NULL;
	const char		*err;

	/* The checked real path is what is loaded: absolute, so dlopen
	 * never searches the library path for it. */
	if (loader_check_path(path, &dlpath, cause) != 0)
		goto fail;
	if ((handle = dlopen(dlpath, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		err = dlerror();
		set_cause(cause, "%s: cannot load: %s", path,
		    err != NULL ? err : "unknown dlopen error");
		goto fail;
	}

	dlerror();
	sym = dlsym(handle, MESHD_PLUGIN_ENTRY);
	if (sym == NULL) {
		set_cause(cause, "%s: no entry function '%s' (not a meshd "
		    "plugin, or built without MESHD_PLUGIN())", path,
		    MESHD_PLUGIN_ENTRY);
		goto fail;
	}
	/* POSIX guarantees a function pointer survives this conversion. */
	entry = (meshd_plugin_entry_fn)sym;

	/* The only plugin code that runs before the checks are done. */
	desc = entry();
	if (loader_check_desc(path, desc, cause) != 0)
		goto fail;

	lp = xcalloc(1, sizeof *lp);
	lp->path = xstrdup(path);
	lp->handle = handle;
	lp->desc = desc;
	free(dlpath);
	return lp;

fail:
	if (handle != NULL)
		dlclose(handle);
	free(dlpath);
	return NULL;
}

void
loader_close(struct loaded_plugin *lp)
{
	if (lp == NULL)
		return;
	if (lp->initialized && lp->desc->fini != NULL)
		lp->desc->fini();
	if (lp->handle != NULL)
		dlclose(lp->handle);
	free(lp->path);
	free(lp->init_error);
	free(lp);
}

meshd_stage_fn
loader_stage_fn(const struct meshd_plugin *desc, int stage)
{
	if (desc == NULL)
		return NULL;
	switch (stage) {
	case MESHD_STAGE_EXTRACT:
		return desc->extract;
	case MESHD_STAGE_CHECK:
		return desc->check;
	case MESHD_STAGE_PUBLISH:
		return desc->publish;
	}
	return NULL;
}

/* ------------------------------------------------------------------
 * plugin_info and its encoding between the probe child and its parent.
 *
 * The message is a tag byte, 'I' (info follows) or 'E' (a refusal cause
 * follows), then fields in a fixed order: integers as 8 native-endian
 * bytes, strings as a 4-byte length (0xffffffff for NULL) and the bytes.
 * Both ends are this same binary, so no portability is needed.
 */

struct buf {
	char	*data;
	size_t	 len, size;
};

static void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->size) {
		b->size = (b->len + n) * 2;
		b->data = xrealloc(b->data, b->size);
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void
buf_add_int(struct buf *b, long long v)
{
	int64_t	v64 = v;

	buf_add(b, &v64, sizeof v64);
}

static void
buf_add_str(struct buf *b, const char *s)
{
	uint32_t	n;

	if (s == NULL) {
		n = UINT32_MAX;
		buf_add(b, &n, sizeof n);
		return;
	}
	n = (uint32_t)strlen(s);
	buf_add(b, &n, sizeof n);
	buf_add(b, s, n);
}

/* A reader over a received message; `bad` is set on any overrun. */
struct rd {
	const char	*p;
	size_t		 left;
	int		 bad;
};

static long long
rd_int(struct rd *r)
{
	int64_t	v;

	if (r->bad || r->left < sizeof v) {
		r->bad = 1;
		return 0;
	}
	memcpy(&v, r->p, sizeof v);
	r->p += sizeof v;
	r->left -= sizeof v;
	return v;
}

static char *
rd_str(struct rd *r)
{
	uint32_t	 n;
	char		*s;

	if (r->bad || r->left < sizeof n) {
		r->bad = 1;
		return NULL;
	}
	memcpy(&n, r->p, sizeof n);
	r->p += sizeof n;
	r->left -= sizeof n;
	if (n == UINT32_MAX)
		return NULL;
	if (r->left < n) {
		r->bad = 1;
		return NULL;
	}
	s = xstrndup(r->p, n);
	r->p += n;
	r->left -= n;
	return s;
}

static void
encode_info(struct buf *b, const struct meshd_plugin *desc)
{
	const struct meshd_product	*p;
	size_t				 i, n;
	int				 stage;

	buf_add(b, "I", 1);
	buf_add_int(b, desc->abi_major);
	buf_add_int(b, desc->abi_minor);
	buf_add_str(b, desc->name);
	buf_add_str(b, desc->version);
	buf_add_str(b, desc->domain);
	buf_add_str(b, desc->owner);
	buf_add_str(b, desc->description);
	for (stage = 0; stage < 3; stage++)
		buf_add_int(b, loader_stage_fn(desc, stage) != NULL);
	buf_add_int(b, desc->init != NULL);
	buf_add_int(b, desc->fini != NULL);

	n = 0;
	if (desc->products != NULL) {
		while (product_at(desc, n)->name != NULL)
			n++;
	}
	buf_add_int(b, (long long)n);
	for (i = 0; i < n; i++) {
		p = product_at(desc, i);
		buf_add_str(b, p->name);
		buf_add_str(b, p->description);
		buf_add_str(b, p->owner);
		buf_add_str(b, p->contract_version);
		buf_add_str(b, p->tags);
		buf_add_str(b, p->location);
		buf_add_int(b, p->freshness_seconds);
	}
}

/* The lint warnings, after the descriptor (loader_probe_warn()). */
static void
encode_warnings(struct buf *b, char **w, size_t n)
{
	size_t	i;

	buf_add_int(b, (long long)n);
	for (i = 0; i < n; i++)
		buf_add_str(b, w[i]);
}

/* Decode an 'I' message (tag already consumed); NULL if malformed. */
static struct plugin_info *
decode_info(struct rd *r, const char *path)
{
	struct plugin_info		*pi;
	struct plugin_product_info	*pp;
	long long			 n;
	size_t				 i;
	int				 stage;

	pi = xcalloc(1, sizeof *pi);
	pi->path = xstrdup(path);
	pi->abi_major = (int)rd_int(r);
	pi->abi_minor = (int)rd_int(r);
	pi->name = rd_str(r);
	pi->version = rd_str(r);
	pi->domain = rd_str(r);
	pi->owner = rd_str(r);
	pi->description = rd_str(r);
	for (stage = 0; stage < 3; stage++)
		pi->has_stage[stage] = (int)rd_int(r);
	pi->has_init = (int)rd_int(r);
	pi->has_fini = (int)rd_int(r);
	n = rd_int(r);
	if (r->bad || n < 0 || n > LOADER_MAX_PRODUCTS)
		goto bad;
	if (n > 0)
		pi->products = xcalloc((size_t)n, sizeof *pi->products);
	for (i = 0; i < (size_t)n; i++) {
		pp = &pi->products[i];
		pi->nproducts = i + 1;
		pp->name = rd_str(r);
		pp->description = rd_str(r);
		pp->owner = rd_str(r);
		pp->contract_version = rd_str(r);
		pp->tags = rd_str(r);
		pp->location = rd_str(r);
		pp->freshness_seconds = rd_int(r);
	}
	n = rd_int(r);
	if (r->bad || n < 0 || n > LOADER_MAX_WARNINGS)
		goto bad;
	if (n > 0)
		pi->warnings = xcalloc((size_t)n, sizeof *pi->warnings);
	for (i = 0; i < (size_t)n; i++) {
		pi->nwarnings = i + 1;
		if ((pi->warnings[i] = rd_str(r)) == NULL)
			goto bad;
	}
	if (r->bad || r->left != 0)
		goto bad;
	return pi;

bad:
	plugin_info_free(pi);
	return NULL;
}

void
plugin_info_free(struct plugin_info *pi)
{
	struct plugin_product_info	*pp;
	size_t				 i;

	if (pi == NULL)
		return;
	for (i = 0; i < pi->nproducts; i++) {
		pp = &pi->products[i];
		free(pp->name);
		free(pp->description);
		free(pp->owner);
		free(pp->contract_version);
		free(pp->tags);
		free(pp->location);
	}
	free(pi->products);
	for (i = 0; i < pi->nwarnings; i++)
		free(pi->warnings[i]);
	free(pi->warnings);
	free(pi->path);
	free(pi->name);
	free(pi->version);
	free(pi->domain);
	free(pi->owner);
	free(pi->description);
	free(pi);
}

/* "SIGSEGV" for 11; executor.c has its own, and we do not depend on it. */
static const char *
loader_signame(int sig)
{
	static const struct {
		int		 sig;
		const char	*name;
	} names[] = {
		{ SIGHUP, "SIGHUP" }, { SIGINT, "SIGINT" },
		{ SIGQUIT, "SIGQUIT" }, { SIGILL, "SIGILL" },
		{ SIGTRAP, "SIGTRAP" }, { SIGABRT, "SIGABRT" },
		{ SIGBUS, "SIGBUS" }, { SIGFPE, "SIGFPE" },
		{ SIGKILL, "SIGKILL" }, { SIGUSR1, "SIGUSR1" },
		{ SIGSEGV, "SIGSEGV" }, { SIGUSR2, "SIGUSR2" },
		{ SIGPIPE, "SIGPIPE" }, { SIGALRM, "SIGALRM" },
		{ SIGTERM, "SIGTERM" }, { SIGXCPU, "SIGXCPU" },
		{ SIGXFSZ, "SIGXFSZ" }, { SIGSYS, "SIGSYS" },
	};
	size_t	i;

	for (i = 0; i < nitems(names); i++) {
		if (names[i].sig == sig)
			return names[i].name;
	}
	return "unknown signal";
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* elfcheck's resolver in the probe child: is `name` defined by the
 * plugin's own link map (the plugin and the libraries it links, in load
 * order)?  dlsym() on the plugin's RTLD_LOCAL handle searches exactly
 * that, and not what meshd itself has loaded. */
static int
probe_defined(void *handle, const char *name)
{
	void	*p;

	dlerror();
	p = dlsym(handle, name);
	return p != NULL || dlerror() == NULL;
}

/* The lint of a loaded plugin: its warnings, or one saying why its file
 * could not be read. */
static void
probe_lint(struct buf *b, const char *path, struct loaded_plugin *lp)
{
	struct elfcheck	 ec;
	char		**w = NULL, *cause = NULL;
	size_t		  n, i;

	if (elfcheck_read(path, &ec, &cause) != 0) {
		w = xcalloc(1, sizeof *w);
		w[0] = xasprintf("%s (its symbols are not checked)", cause);
		n = 1;
		free(cause);
	} else {
		n = elfcheck_warnings(path, &ec, probe_defined, lp->handle,
		    &w);
		elfcheck_free(&ec);
	}
	encode_warnings(b, w, n);
	for (i = 0; i < n; i++)
		free(w[i]);
	free(w);
}

/* The probe child: load, describe, write, _exit.  Never returns. */
static void __attribute__((noreturn))
probe_child(const char *path, pid_t parent, int fd, int lint)
{
	static const int	 crash[] = {
		SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS
	};
	struct loaded_plugin	*lp;
	struct rlimit		 rl = { 0, 0 };
	struct buf		 b = { NULL, 0, 0 };
	char			*cause = NULL;
	size_t			 i;
	int			 null;

	/* Die with the caller, even if it died before prctl() ran. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	/*
	 * A plugin that crashes while loading must kill this child with its
	 * signal, which the parent then reports; the caller's handlers (a
	 * sanitizer's, the daemon's) would turn it into an exit status.  A
	 * probe is not worth a core file.
	 */
	for (i = 0; i < nitems(crash); i++)
		signal(crash[i], SIG_DFL);
	setrlimit(RLIMIT_CORE, &rl);
	/* Plugin chatter must not mix into the caller's stdout (meshctl
	 * --json); stderr is where diagnostics belong. */
	dup2(STDERR_FILENO, STDOUT_FILENO);
	if ((null = open("/dev/null", O_RDONLY)) != -1) {
		dup2(null, STDIN_FILENO);
		if (null != STDIN_FILENO)
			close(null);
	}

	if ((lp = loader_open(path, &cause)) == NULL) {
		buf_add(&b, "E", 1);
		buf_add_str(&b, cause);
	} else {
		encode_info(&b, lp->desc);
		if (lint)
			probe_lint(&b, path, lp);
		else
			encode_warnings(&b, NULL, 0);
	}
	if (write_all(fd, b.data, b.len) != 0)
		_exit(1);

	/* Tidy for valgrind, but no dlclose: that would run plugin code. */
	free(b.data);
	free(cause);
	if (lp != NULL) {
		free(lp->path);
		free(lp);
	}
	/* _exit, never exit: the caller's atexit handlers are not ours. */
	_exit(0);
}

/* Wait for `pid` until the deadline, then kill it.  Returns the status, or
 * -1 if the child could not be reaped (someone else reaped it). */
static int
probe_reap(pid_t pid, int64_t deadline, int *timed_out)
{
	struct timespec	ts = { 0, 10 * 1000 * 1000 };
	pid_t		r;
	int		status;

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		if (mono_us() >= deadline)
			break;
		nanosleep(&ts, NULL);
	}
	*timed_out = 1;
	kill(pid, SIGKILL);
	while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	return r == pid ? status : -1;
}

static struct plugin_info *probe(const char *, int, char **);

struct plugin_info *
loader_probe(const char *path, char **cause)
{
	return probe(path, 0, cause);
}

struct plugin_info *
loader_probe_warn(const char *path, char **cause)
{
	return probe(path, 1, cause);
}

static struct plugin_info *
probe(const char *path, int lint, char **cause)
{
	struct plugin_info	*pi = NULL;
	struct pollfd		 pfd;
	struct rd		 r;
	struct buf		 b = { NULL, 0, 0 };
	char			 chunk[8192], *msg = NULL;
	int64_t			 deadline, left;
	pid_t			 pid, parent = getpid();
	ssize_t			 n;
	int			 fds[2], status, timed_out = 0, eof = 0;
	int			 toobig = 0;

	if (pipe2(fds, O_CLOEXEC) != 0) {
		set_cause(cause, "%s: pipe: %s", path, strerror(errno));
		return NULL;
	}
	/* Flush so the child's copy of stdio buffers cannot be written
	 * twice (the child only _exits, but a plugin may fflush). */
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		set_cause(cause, "%s: fork: %s", path, strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return NULL;
	}
	if (pid == 0) {
		close(fds[0]);
		probe_child(path, parent, fds[1], lint);
	}
	close(fds[1]);

	deadline = mono_us() + LOADER_PROBE_TIMEOUT_US;
	while (!eof) {
		left = deadline - mono_us();
		if (left <= 0) {
			timed_out = 1;
			break;
		}
		pfd.fd = fds[0];
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)((left + 999) / 1000)) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd.revents == 0)
			continue;
		n = read(fds[0], chunk, sizeof chunk);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			eof = 1;
		else if (b.len + (size_t)n > LOADER_PROBE_MAX_BYTES) {
			toobig = 1;
			break;
		} else
			buf_add(&b, chunk, (size_t)n);
	}
	close(fds[0]);

	if (timed_out || toobig) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (toobig) {
			set_cause(cause, "%s: description larger than %d bytes",
			    path, LOADER_PROBE_MAX_BYTES);
		} else {
			set_cause(cause, "%s: timed out after %lld s while "
			    "loading", path, LOADER_PROBE_TIMEOUT_US / 1000000);
		}
		goto out;
	}
	status = probe_reap(pid, deadline, &timed_out);

	/* A crash wins over anything written before it. */
	if (status != -1 && WIFSIGNALED(status)) {
		if (timed_out) {
			set_cause(cause, "%s: timed out after %lld s while "
			    "loading", path, LOADER_PROBE_TIMEOUT_US / 1000000);
		} else {
			set_cause(cause, "%s: killed by signal %d (%s) while "
			    "loading", path, WTERMSIG(status),
			    loader_signame(WTERMSIG(status)));
		}
		goto out;
	}
	r.p = b.data;
	r.left = b.len;
	r.bad = 0;
	if (b.len > 0 && b.data[0] == 'I') {
		r.p++;
		r.left--;
		if ((pi = decode_info(&r, path)) != NULL)
			goto out;
	} else if (b.len > 0 && b.data[0] == 'E') {
		r.p++;
		r.left--;
		msg = rd_str(&r);
		if (!r.bad && r.left == 0 && msg != NULL) {
			set_cause(cause, "%s", msg);
			goto out;
		}
	}
	/* No usable message: the plugin exited under us (exit() in a
	 * constructor) or something else went wrong. */
	if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		set_cause(cause, "%s: exited with status %d while loading",
		    path, WEXITSTATUS(status));
	} else {
		set_cause(cause, "%s: the loading process sent no valid "
		    "description", path);
	}

out:
	free(msg);
	free(b.data);
	return pi;
}
