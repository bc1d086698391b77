/*
 * check_loader.c -- the plugin loader against the real test plugins in
 * tests/plugins/ (built by make check into tests/plugins/.libs/).
 */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loader.h"
#include "util.h"

/* The built test plugin `name`, as a new string. */
static char *
plugin_path(const char *name)
{
	const char	*top = getenv("top_builddir");

	if (top == NULL || *top == '\0')
		top = ".";
	return xasprintf("%s/tests/plugins/.libs/%s.so", top, name);
}

/* Open a plugin that must load; fails the test otherwise. */
static struct loaded_plugin *
open_ok(const char *name)
{
	struct loaded_plugin	*lp;
	char			*path = plugin_path(name), *cause = NULL;

	lp = loader_open(path, &cause);
	ck_assert_msg(lp != NULL, "%s: %s", name, cause ? cause : "?");
	ck_assert_ptr_null(cause);
	free(path);
	return lp;
}

/* The cause loader_open gives for `name`; the test fails if it loads. */
static char *
open_refused(const char *path)
{
	struct loaded_plugin	*lp;
	char			*cause = NULL;

	lp = loader_open(path, &cause);
	ck_assert_msg(lp == NULL, "%s loaded", path);
	ck_assert_ptr_nonnull(cause);
	return cause;
}

static char *
probe_refused(const char *path)
{
	struct plugin_info	*pi;
	char			*cause = NULL;

	pi = loader_probe(path, &cause);
	ck_assert_msg(pi == NULL, "%s probed", path);
	ck_assert_ptr_nonnull(cause);
	return cause;
}

static void
copy_file(const char *from, const char *to, mode_t mode)
{
	char	buf[65536];
	ssize_t	n;
	int	in, out;

	in = open(from, O_RDONLY);
	ck_assert_int_ge(in, 0);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ck_assert_int_ge(out, 0);
	while ((n = read(in, buf, sizeof buf)) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	ck_assert_int_eq(n, 0);
	close(in);
	close(out);
	ck_assert_int_eq(chmod(to, mode), 0);
}

START_TEST(test_open_ok)
{
	struct loaded_plugin		*lp = open_ok("ok");
	const struct meshd_plugin	*d = lp->desc;
	char				*path = plugin_path("ok");

	ck_assert_str_eq(lp->path, path);
	ck_assert_ptr_nonnull(lp->handle);
	ck_assert_int_eq(lp->initialized, 0);
	ck_assert_ptr_null(lp->init_error);
	ck_assert_uint_eq(d->magic, MESHD_PLUGIN_MAGIC);
	ck_assert_uint_eq(d->size, sizeof(struct meshd_plugin));
	ck_assert_uint_eq(d->abi_major, 1);
	ck_assert_uint_eq(d->abi_minor, 0);
	ck_assert_str_eq(d->name, "ok");
	ck_assert_str_eq(d->version, "1.0.0");
	ck_assert_str_eq(d->domain, "test");
	ck_assert_str_eq(d->owner, "tests@example.org");
	ck_assert_str_eq(d->products[0].name, "test.ok");
	ck_assert_str_eq(d->products[0].contract_version, "1.0");
	ck_assert_str_eq(d->products[1].name, "test.a");
	ck_assert_ptr_null(d->products[4].name);
	ck_assert_ptr_nonnull(d->init);
	ck_assert_ptr_null(d->fini);

	ck_assert_ptr_eq(loader_stage_fn(d, MESHD_STAGE_EXTRACT), d->extract);
	ck_assert_ptr_eq(loader_stage_fn(d, MESHD_STAGE_CHECK), d->check);
	ck_assert_ptr_eq(loader_stage_fn(d, MESHD_STAGE_PUBLISH), d->publish);
	ck_assert_ptr_nonnull(loader_stage_fn(d, MESHD_STAGE_EXTRACT));
	ck_assert_ptr_nonnull(loader_stage_fn(d, MESHD_STAGE_CHECK));
	ck_assert_ptr_nonnull(loader_stage_fn(d, MESHD_STAGE_PUBLISH));
	ck_assert_ptr_null(loader_stage_fn(d, 3));
	ck_assert_ptr_null(loader_stage_fn(d, -1));
	ck_assert_ptr_null(loader_stage_fn(NULL, MESHD_STAGE_EXTRACT));

	loader_close(lp);
	loader_close(NULL);
	free(path);
}
END_TEST

START_TEST(test_open_checkonly)
{
	struct loaded_plugin	*lp = open_ok("checkonly");

	ck_assert_ptr_null(loader_stage_fn(lp->desc, MESHD_STAGE_EXTRACT));
	ck_assert_ptr_nonnull(loader_stage_fn(lp->desc, MESHD_STAGE_CHECK));
	ck_assert_ptr_null(loader_stage_fn(lp->desc, MESHD_STAGE_PUBLISH));
	loader_close(lp);
}
END_TEST

/* Every other well-formed test plugin loads (nothing of theirs runs but
 * the entry function). */
START_TEST(test_open_all)
{
	static const char	*names[] = {
		"fails", "retry", "segv", "abort", "exit3", "hang", "alloc",
		"badinit", "badcheck"
	};
	struct loaded_plugin	*lp;
	size_t			 i;

	for (i = 0; i < nitems(names); i++) {
		lp = open_ok(names[i]);
		ck_assert_str_eq(lp->desc->name, names[i]);
		loader_close(lp);
	}
}
END_TEST

START_TEST(test_open_relative)
{
	struct loaded_plugin	*lp;
	char			*dir = plugin_path(""), *cause = NULL;
	int			 cwd;

	/* "ok.so" has no '/': a bare dlopen would search the library path
	 * and fail; the loader must open the file in the current directory. */
	*strrchr(dir, '/') = '\0';
	cwd = open(".", O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(cwd, 0);
	ck_assert_int_eq(chdir(dir), 0);
	lp = loader_open("ok.so", &cause);
	ck_assert_int_eq(fchdir(cwd), 0);
	close(cwd);
	ck_assert_msg(lp != NULL, "%s", cause ? cause : "?");
	ck_assert_str_eq(lp->path, "ok.so");
	ck_assert_str_eq(lp->desc->name, "ok");
	loader_close(lp);
	free(dir);
}
END_TEST

START_TEST(test_open_noentry)
{
	char	*path = plugin_path("noentry"), *cause, *want;

	cause = open_refused(path);
	want = xasprintf("%s: no entry function 'meshd_plugin_descriptor' "
	    "(not a meshd plugin, or built without MESHD_PLUGIN())", path);
	ck_assert_str_eq(cause, want);
	free(want);
	free(cause);
	free(path);
}
END_TEST

START_TEST(test_open_badabi)
{
	char	*path = plugin_path("badabi"), *cause, *want;

	cause = open_refused(path);
	ck_assert_ptr_nonnull(strstr(cause, "ABI major 99"));
	ck_assert_ptr_nonnull(strstr(cause, "this meshd: 1"));
	want = xasprintf("%s: ABI major 99 is not supported (this meshd: 1)",
	    path);
	ck_assert_str_eq(cause, want);
	free(want);
	free(cause);
	free(path);
}
END_TEST

START_TEST(test_open_missing)
{
	char	*path = plugin_path("nosuchplugin"), *cause, *want;

	cause = open_refused(path);
	want = xasprintf("%s: No such file or directory", path);
	ck_assert_str_eq(cause, want);
	free(want);
	free(cause);
	free(path);
}
END_TEST

START_TEST(test_open_not_elf)
{
	char	 tmpl[] = "/tmp/check_loader.XXXXXX", *dir, *path, *cause;
	int	 fd;

	dir = mkdtemp(tmpl);
	ck_assert_ptr_nonnull(dir);
	path = xasprintf("%s/junk.so", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "not an object\n", 14), 14);
	close(fd);
	cause = open_refused(path);
	ck_assert_msg(strncmp(cause, path, strlen(path)) == 0 &&
	    strstr(cause, ": cannot load: ") != NULL, "%s", cause);
	free(cause);
	unlink(path);
	rmdir(dir);
	free(path);
}
END_TEST

/* ------------------------------------------------------------------ */

static const struct meshd_product good_products[] = {
	{ .name = "test.one" },
	{ .name = "test.two", .description = "second" },
	{ .name = NULL }
};

static struct meshd_plugin
good_desc(void)
{
	struct meshd_plugin	d = {
		.magic = MESHD_PLUGIN_MAGIC,
		.size = sizeof(struct meshd_plugin),
		.abi_major = MESHD_ABI_MAJOR,
		.abi_minor = MESHD_ABI_MINOR,
		.product_size = sizeof(struct meshd_product),
		.name = "hand-made_1",
		.version = "0.1",
		.domain = "test",
		.owner = "tests@example.org",
		.products = good_products,
	};

	return d;
}

/* Check d and compare the refusal with "x.so: " + want. */
static void
desc_refused(const struct meshd_plugin *d, const char *want)
{
	char	*cause = NULL, *full;

	ck_assert_int_eq(loader_check_desc("x.so", d, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	full = xasprintf("x.so: %s", want);
	ck_assert_str_eq(cause, full);
	free(full);
	free(cause);
}

START_TEST(test_desc_good)
{
	struct meshd_plugin	d = good_desc();
	char			*cause = NULL;

	ck_assert_int_eq(loader_check_desc("x.so", &d, &cause), 0);
	ck_assert_ptr_null(cause);
	/* Products are optional. */
	d.products = NULL;
	ck_assert_int_eq(loader_check_desc("x.so", &d, &cause), 0);
	/* A newer minor of the same major is fine. */
	d.abi_minor = MESHD_ABI_MINOR + 3;
	ck_assert_int_eq(loader_check_desc("x.so", &d, &cause), 0);
	ck_assert_ptr_null(cause);
}
END_TEST

START_TEST(test_desc_header)
{
	struct meshd_plugin	d;
	char			*want;

	desc_refused(NULL, "entry function 'meshd_plugin_descriptor' "
	    "returned NULL");

	d = good_desc();
	d.magic = 0x12345678;
	desc_refused(&d, "descriptor magic is 0x12345678, expected 0x4d455348 "
	    "(not a meshd descriptor, or built without MESHD_PLUGIN())");

	d = good_desc();
	d.abi_major = 2;
	desc_refused(&d, "ABI major 2 is not supported (this meshd: 1)");
	d.abi_major = 0;
	desc_refused(&d, "ABI major 0 is not supported (this meshd: 1)");

	d = good_desc();
	d.size = 16;
	want = xasprintf("descriptor size 16 is smaller than the ABI 1.0 size "
	    "%zu", sizeof(struct meshd_plugin));
	desc_refused(&d, want);
	free(want);

	d = good_desc();
	d.product_size = 8;
	want = xasprintf("descriptor product_size 8 is smaller than the ABI "
	    "1.0 size %zu", sizeof(struct meshd_product));
	desc_refused(&d, want);
	free(want);
}
END_TEST

START_TEST(test_desc_fields)
{
	struct meshd_plugin	d;

	d = good_desc();
	d.name = NULL;
	desc_refused(&d, "descriptor field 'name' is missing (required)");
	d = good_desc();
	d.version = "";
	desc_refused(&d, "descriptor field 'version' is missing (required)");
	d = good_desc();
	d.domain = NULL;
	desc_refused(&d, "descriptor field 'domain' is missing (required)");
	d = good_desc();
	d.owner = NULL;
	desc_refused(&d, "descriptor field 'owner' is missing (required)");

	d = good_desc();
	d.name = "Bad Name";
	desc_refused(&d, "descriptor field 'name' is 'Bad Name', which is not "
	    "[a-z0-9_-]+");
	d.name = "a.b";
	desc_refused(&d, "descriptor field 'name' is 'a.b', which is not "
	    "[a-z0-9_-]+");
}
END_TEST

START_TEST(test_desc_products)
{
	static const struct meshd_product nodot[] = {
		{ .name = "test.one" }, { .name = "nodot" }, { .name = NULL }
	};
	static const struct meshd_product twodots[] = {
		{ .name = "test.a.b" }, { .name = NULL }
	};
	static const struct meshd_product emptypart[] = {
		{ .name = "test." }, { .name = NULL }
	};
	static const struct meshd_product upper[] = {
		{ .name = "Test.one" }, { .name = NULL }
	};
	static const struct meshd_product noname[] = {
		{ .name = "test.one" },
		{ .description = "a product whose name was forgotten" },
		{ .name = NULL }
	};
	static const struct meshd_product emptyname[] = {
		{ .name = "" }, { .name = NULL }
	};
	static const struct meshd_product dup[] = {
		{ .name = "test.one" }, { .name = "test.two" },
		{ .name = "test.one" }, { .name = NULL }
	};
	struct meshd_plugin	d = good_desc();

	d.products = nodot;
	desc_refused(&d, "products[1]: name 'nodot' is not \"domain.product\" "
	    "(two parts of [a-z0-9_-] joined by one '.')");
	d.products = twodots;
	desc_refused(&d, "products[0]: name 'test.a.b' is not "
	    "\"domain.product\" (two parts of [a-z0-9_-] joined by one '.')");
	d.products = emptypart;
	desc_refused(&d, "products[0]: name 'test.' is not "
	    "\"domain.product\" (two parts of [a-z0-9_-] joined by one '.')");
	d.products = upper;
	desc_refused(&d, "products[0]: name 'Test.one' is not "
	    "\"domain.product\" (two parts of [a-z0-9_-] joined by one '.')");
	d.products = noname;
	desc_refused(&d, "products[1]: field 'name' is missing (required)");
	d.products = emptyname;
	desc_refused(&d, "products[0]: field 'name' is empty (required)");
	d.products = dup;
	desc_refused(&d, "products[2]: product 'test.one' is also "
	    "products[0]");
}
END_TEST

/* A plugin built against a later minor has larger product entries: the
 * loader must step by the plugin's product_size, not by ours. */
START_TEST(test_desc_larger_products)
{
	struct big {
		struct meshd_product	p;
		const char		*later;
	} bigs[] = {
		{ { .name = "test.one" }, "x" },
		{ { .name = "test.two" }, "y" },
		{ { .name = NULL }, NULL },
	};
	struct meshd_plugin	d = good_desc();
	char			*cause = NULL;

	d.products = &bigs[0].p;
	d.product_size = sizeof(struct big);
	ck_assert_int_eq(loader_check_desc("x.so", &d, &cause), 0);
	bigs[1].p.name = "bad";
	desc_refused(&d, "products[1]: name 'bad' is not \"domain.product\" "
	    "(two parts of [a-z0-9_-] joined by one '.')");
}
END_TEST

/* ------------------------------------------------------------------ */

START_TEST(test_file_perms)
{
	char	 tmpl[] = "/tmp/check_loader.XXXXXX", *dir, *path, *src;
	char	*cause = NULL, *want;

	dir = mkdtemp(tmpl);
	ck_assert_ptr_nonnull(dir);
	src = plugin_path("ok");
	path = xasprintf("%s/ok.so", dir);
	copy_file(src, path, 0755);

	ck_assert_int_eq(loader_check_file(path, &cause), 0);
	ck_assert_ptr_null(cause);

	/* World-writable file. */
	ck_assert_int_eq(chmod(path, 0666), 0);
	ck_assert_int_eq(loader_check_file(path, &cause), -1);
	want = xasprintf("%s: refusing plugin: file is world-writable "
	    "(mode 0666, owner %s): whoever can write it can run code as the "
	    "daemon's user; hint: chmod go-w '%s'", path,
	    geteuid() == 0 ? "root" : getenv("USER") ? getenv("USER") : "?",
	    path);
	if (geteuid() == 0)
		ck_assert_str_eq(cause, want);
	else
		ck_assert_ptr_nonnull(strstr(cause, "file is world-writable "
		    "(mode 0666, owner "));
	free(cause);
	cause = open_refused(path);	/* loader_open checks too */
	ck_assert_ptr_nonnull(strstr(cause, "file is world-writable"));
	free(cause);
	free(want);
	cause = probe_refused(path);
	ck_assert_ptr_nonnull(strstr(cause, "world-writable"));
	free(cause);
	cause = NULL;

	/* Group-writable file: the group's members could replace the code
	 * as well (sshd refuses it too). */
	ck_assert_int_eq(chmod(path, 0775), 0);
	ck_assert_int_eq(loader_check_file(path, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, ": refusing plugin: file is "
	    "group-writable (mode 0775, owner "));
	free(cause);
	cause = NULL;
	ck_assert_int_eq(chmod(path, 0755), 0);

	/* World-writable directory. */
	ck_assert_int_eq(chmod(dir, 0777), 0);
	ck_assert_int_eq(loader_check_file(path, &cause), -1);
	want = xasprintf("%s: refusing plugin: directory '%s' is "
	    "world-writable (mode 0777, owner ", path, dir);
	ck_assert_msg(strncmp(cause, want, strlen(want)) == 0, "%s", cause);
	ck_assert_ptr_nonnull(strstr(cause, "hint: chmod go-w"));
	free(cause);
	cause = NULL;
	free(want);

	/* Group-writable directory. */
	ck_assert_int_eq(chmod(dir, 0770), 0);
	ck_assert_int_eq(loader_check_file(path, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "is group-writable (mode 0770"));
	free(cause);
	cause = NULL;

	/* Sticky does not make a world-writable directory safe enough, not
	 * even with the tests' hatch (it spares only directories above). */
	ck_assert_int_eq(chmod(dir, 01777), 0);
	ck_assert_int_eq(loader_check_file(path, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "(mode 01777"));
	free(cause);
	cause = NULL;
	ck_assert_int_eq(chmod(dir, 0700), 0);

	/* Not a regular file. */
	ck_assert_int_eq(loader_check_file(dir, &cause), -1);
	want = xasprintf("%s: refusing plugin: not a regular file", dir);
	ck_assert_str_eq(cause, want);
	free(cause);
	cause = NULL;
	free(want);

	/* Owned by someone else.  Only root can give a file away; as
	 * another user chown fails and this part is skipped (the checks
	 * above still ran). */
	if (chown(path, 12345, (gid_t)-1) == 0) {
		ck_assert_int_eq(loader_check_file(path, &cause), -1);
		want = xasprintf("%s: refusing plugin: owned by uid 12345, not "
		    "root or the daemon's user (uid %u); hint: chown root "
		    "'%s'", path, (unsigned)geteuid(), path);
		ck_assert_str_eq(cause, want);
		free(cause);
		cause = NULL;
		free(want);
		ck_assert_int_eq(chown(path, geteuid(), (gid_t)-1), 0);

		ck_assert_int_eq(chown(dir, 12345, (gid_t)-1), 0);
		ck_assert_int_eq(loader_check_file(path, &cause), -1);
		want = xasprintf("%s: refusing plugin: directory '%s' is owned "
		    "by uid 12345, not root or the daemon's user (uid %u)",
		    path, dir, (unsigned)geteuid());
		ck_assert_msg(strncmp(cause, want, strlen(want)) == 0, "%s",
		    cause);
		free(cause);
		cause = NULL;
		free(want);
		ck_assert_int_eq(chown(dir, geteuid(), (gid_t)-1), 0);
	} else
		ck_assert_int_eq(errno, EPERM);

	ck_assert_int_eq(loader_check_file(path, &cause), 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	free(path);
	free(src);
}
END_TEST

/*
 * The whole path counts, as with sshd's StrictModes: a directory above
 * the plugin's, or the real directory behind a symlink, that others can
 * write is as bad as the plugin's own.  Layout under a 0700 base:
 *   base/good/ok.so        0755 in 0755: loads
 *   base/open/ok.so        0755 in 0777
 *   base/open/sub/ok.so    0755 in 0755 under the 0777 one
 *   base/good/link.so  ->  base/open/ok.so   (link in a good directory)
 *   base/open/back.so  ->  base/good/ok.so   (link in a 0777 directory)
 *   base/good/fine.so  ->  base/good/ok.so
 */
START_TEST(test_path_chain)
{
	struct loaded_plugin	*lp;
	char			 tmpl[] = "/tmp/check_loader.XXXXXX";
	char			*base, *good, *open_, *sub, *p_good, *p_open;
	char			*p_sub, *link, *back, *fine, *hop, *cause = NULL;
	char			*src, *want;

	base = mkdtemp(tmpl);
	ck_assert_ptr_nonnull(base);
	good = xasprintf("%s/good", base);
	open_ = xasprintf("%s/open", base);
	sub = xasprintf("%s/open/sub", base);
	ck_assert_int_eq(mkdir(good, 0755), 0);
	ck_assert_int_eq(mkdir(open_, 0755), 0);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	ck_assert_int_eq(chmod(good, 0755), 0);
	ck_assert_int_eq(chmod(sub, 0755), 0);
	src = plugin_path("ok");
	p_good = xasprintf("%s/ok.so", good);
	p_open = xasprintf("%s/ok.so", open_);
	p_sub = xasprintf("%s/ok.so", sub);
	copy_file(src, p_good, 0755);
	copy_file(src, p_open, 0755);
	copy_file(src, p_sub, 0755);
	link = xasprintf("%s/link.so", good);
	back = xasprintf("%s/back.so", open_);
	fine = xasprintf("%s/fine.so", good);
	ck_assert_int_eq(symlink(p_open, link), 0);
	ck_assert_int_eq(symlink(p_good, back), 0);
	ck_assert_int_eq(symlink(p_good, fine), 0);

	/* All good while nothing is writable by others. */
	ck_assert_int_eq(loader_check_file(p_sub, &cause), 0);
	ck_assert_int_eq(loader_check_file(link, &cause), 0);
	ck_assert_int_eq(loader_check_file(back, &cause), 0);
	ck_assert_int_eq(chmod(open_, 0777), 0);

	/* A 0755 directory under a 0777 one. */
	ck_assert_int_eq(loader_check_file(p_sub, &cause), -1);
	want = xasprintf("%s: refusing plugin: directory '%s' is "
	    "world-writable (mode 0777", p_sub, open_);
	ck_assert_msg(strncmp(cause, want, strlen(want)) == 0, "%s", cause);
	free(want);
	free(cause);
	cause = open_refused(p_sub);
	ck_assert_ptr_nonnull(strstr(cause, "is world-writable (mode 0777"));
	free(cause);
	cause = NULL;

	/* A link in a good directory to a plugin in a 0777 one: the real
	 * path is what counts, and the message shows it. */
	ck_assert_int_eq(loader_check_file(link, &cause), -1);
	want = xasprintf("%s (%s): refusing plugin: directory '%s' is "
	    "world-writable (mode 0777", link, p_open, open_);
	ck_assert_msg(strncmp(cause, want, strlen(want)) == 0, "%s", cause);
	free(want);
	free(cause);
	cause = open_refused(link);
	free(cause);
	cause = probe_refused(link);
	ck_assert_ptr_nonnull(strstr(cause, "world-writable"));
	free(cause);
	cause = NULL;

	/* A link in a 0777 directory, even to a good plugin: anyone can
	 * point it elsewhere. */
	ck_assert_int_eq(loader_check_file(back, &cause), -1);
	want = xasprintf("%s: refusing plugin: directory '%s' is "
	    "world-writable (mode 0777", back, open_);
	ck_assert_msg(strncmp(cause, want, strlen(want)) == 0, "%s", cause);
	free(want);
	free(cause);
	cause = NULL;

	/* A chain of links: good/hop.so -> open/back.so -> good/ok.so.
	 * Both ends are good, the middle link's directory is not. */
	hop = xasprintf("%s/hop.so", good);
	ck_assert_int_eq(symlink(back, hop), 0);
	ck_assert_int_eq(loader_check_file(hop, &cause), -1);
	want = xasprintf("%s: refusing plugin: directory '%s' is "
	    "world-writable (mode 0777", hop, open_);
	ck_assert_msg(strncmp(cause, want, strlen(want)) == 0, "%s", cause);
	free(want);
	free(cause);
	cause = NULL;
	unlink(hop);
	free(hop);

	/* A good link to a good plugin loads, by its real path. */
	ck_assert_int_eq(loader_check_file(fine, &cause), 0);
	lp = loader_open(fine, &cause);
	ck_assert_msg(lp != NULL, "%s", cause != NULL ? cause : "?");
	ck_assert_str_eq(lp->path, fine);
	ck_assert_str_eq(lp->desc->name, "ok");
	loader_close(lp);

	/* The base itself made group-writable spoils everything below. */
	ck_assert_int_eq(chmod(open_, 0755), 0);
	ck_assert_int_eq(chmod(base, 0770), 0);
	ck_assert_int_eq(loader_check_file(p_good, &cause), -1);
	want = xasprintf("%s: refusing plugin: directory '%s' is "
	    "group-writable (mode 0770", p_good, base);
	ck_assert_msg(strncmp(cause, want, strlen(want)) == 0, "%s", cause);
	free(want);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(chmod(base, 0700), 0);

	unlink(link);
	unlink(back);
	unlink(fine);
	unlink(p_good);
	unlink(p_open);
	unlink(p_sub);
	rmdir(sub);
	rmdir(open_);
	rmdir(good);
	ck_assert_int_eq(rmdir(base), 0);
	free(good);
	free(open_);
	free(sub);
	free(p_good);
	free(p_open);
	free(p_sub);
	free(link);
	free(back);
	free(fine);
	free(src);
}
END_TEST

/*
 * /tmp is world-writable and sticky: a plugin under it is refused, unless
 * the tests' hatch (MESHD_INSECURE_PLUGIN_PATHS=1, which make check sets)
 * spares such a directory above the plugin's own.
 */
START_TEST(test_path_sticky_tmp)
{
	struct stat	 sb;
	char		 tmpl[] = "/tmp/check_loader.XXXXXX", *dir, *path;
	char		*src, *cause = NULL, *want;

	ck_assert_int_eq(stat("/tmp", &sb), 0);
	if ((sb.st_mode & 07777) != 01777 || (sb.st_uid != 0 &&
	    sb.st_uid != geteuid()))
		return;	/* not the usual /tmp: nothing to show */
	dir = mkdtemp(tmpl);
	ck_assert_ptr_nonnull(dir);
	src = plugin_path("ok");
	path = xasprintf("%s/ok.so", dir);
	copy_file(src, path, 0755);

	ck_assert_int_eq(setenv("MESHD_INSECURE_PLUGIN_PATHS", "1", 1), 0);
	ck_assert_int_eq(loader_check_file(path, &cause), 0);
	/* "yes" is not "1": the hatch is explicit. */
	ck_assert_int_eq(setenv("MESHD_INSECURE_PLUGIN_PATHS", "yes", 1), 0);
	ck_assert_int_eq(loader_check_file(path, &cause), -1);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(unsetenv("MESHD_INSECURE_PLUGIN_PATHS"), 0);
	ck_assert_int_eq(loader_check_file(path, &cause), -1);
	want = xasprintf("%s: refusing plugin: directory '/tmp' is "
	    "world-writable (mode 01777, owner ", path);
	ck_assert_msg(strncmp(cause, want, strlen(want)) == 0, "%s", cause);
	free(want);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(setenv("MESHD_INSECURE_PLUGIN_PATHS", "1", 1), 0);

	unlink(path);
	rmdir(dir);
	free(path);
	free(src);
}
END_TEST

/* ------------------------------------------------------------------ */

START_TEST(test_probe_ok)
{
	struct plugin_info		*pi;
	struct plugin_product_info	*pp;
	char				*path = plugin_path("ok");
	char				*cause = NULL;

	pi = loader_probe(path, &cause);
	ck_assert_msg(pi != NULL, "%s", cause ? cause : "?");
	ck_assert_ptr_null(cause);
	ck_assert_str_eq(pi->path, path);
	ck_assert_int_eq(pi->abi_major, 1);
	ck_assert_int_eq(pi->abi_minor, 0);
	ck_assert_str_eq(pi->name, "ok");
	ck_assert_str_eq(pi->version, "1.0.0");
	ck_assert_str_eq(pi->domain, "test");
	ck_assert_str_eq(pi->owner, "tests@example.org");
	ck_assert_str_eq(pi->description, "test plugin: every stage succeeds");
	ck_assert_int_eq(pi->has_stage[MESHD_STAGE_EXTRACT], 1);
	ck_assert_int_eq(pi->has_stage[MESHD_STAGE_CHECK], 1);
	ck_assert_int_eq(pi->has_stage[MESHD_STAGE_PUBLISH], 1);
	ck_assert_int_eq(pi->has_init, 1);
	ck_assert_int_eq(pi->has_fini, 0);
	ck_assert_uint_eq(pi->nproducts, 4);
	pp = &pi->products[0];
	ck_assert_str_eq(pp->name, "test.ok");
	ck_assert_str_eq(pp->description, "the ok test product");
	ck_assert_ptr_null(pp->owner);
	ck_assert_str_eq(pp->contract_version, "1.0");
	ck_assert_str_eq(pp->tags, "test");
	ck_assert_ptr_null(pp->location);
	ck_assert_int_eq(pp->freshness_seconds, 3600);
	/* The products of the cross-domain input tests follow, in order. */
	ck_assert_str_eq(pi->products[1].name, "test.a");
	ck_assert_str_eq(pi->products[3].name, "test.c");
	plugin_info_free(pi);
	plugin_info_free(NULL);
	free(path);
}
END_TEST

START_TEST(test_probe_checkonly)
{
	struct plugin_info	*pi;
	char			*path = plugin_path("checkonly");
	char			*cause = NULL;

	pi = loader_probe(path, &cause);
	ck_assert_msg(pi != NULL, "%s", cause ? cause : "?");
	ck_assert_str_eq(pi->name, "checkonly");
	ck_assert_int_eq(pi->has_stage[MESHD_STAGE_EXTRACT], 0);
	ck_assert_int_eq(pi->has_stage[MESHD_STAGE_CHECK], 1);
	ck_assert_int_eq(pi->has_stage[MESHD_STAGE_PUBLISH], 0);
	ck_assert_int_eq(pi->has_init, 0);
	ck_assert_uint_eq(pi->nproducts, 1);
	ck_assert_str_eq(pi->products[0].name, "test.checkonly");
	plugin_info_free(pi);
	free(path);
}
END_TEST

START_TEST(test_probe_refused)
{
	char	*path, *cause, *want;

	path = plugin_path("noentry");
	cause = probe_refused(path);
	want = xasprintf("%s: no entry function 'meshd_plugin_descriptor' "
	    "(not a meshd plugin, or built without MESHD_PLUGIN())", path);
	ck_assert_str_eq(cause, want);
	free(want);
	free(cause);
	free(path);

	path = plugin_path("badabi");
	cause = probe_refused(path);
	want = xasprintf("%s: ABI major 99 is not supported (this meshd: 1)",
	    path);
	ck_assert_str_eq(cause, want);
	free(want);
	free(cause);
	free(path);

	path = plugin_path("nosuchplugin");
	cause = probe_refused(path);
	want = xasprintf("%s: No such file or directory", path);
	ck_assert_str_eq(cause, want);
	free(want);
	free(cause);
	free(path);
}
END_TEST

START_TEST(test_probe_ctorcrash)
{
	struct plugin_info	*pi;
	char			*path = plugin_path("ctorcrash");
	char			*cause, *want;

	cause = probe_refused(path);
	want = xasprintf("%s: killed by signal 11 (SIGSEGV) while loading",
	    path);
	ck_assert_str_eq(cause, want);
	free(want);
	free(cause);
	free(path);

	/* This process is unharmed and can still probe. */
	path = plugin_path("ok");
	cause = NULL;
	pi = loader_probe(path, &cause);
	ck_assert_msg(pi != NULL, "%s", cause ? cause : "?");
	ck_assert_str_eq(pi->name, "ok");
	plugin_info_free(pi);
	free(path);
}
END_TEST

static Suite *
loader_suite(void)
{
	Suite	*s = suite_create("loader");
	TCase	*tc;

	tc = tcase_create("open");
	tcase_add_test(tc, test_open_ok);
	tcase_add_test(tc, test_open_checkonly);
	tcase_add_test(tc, test_open_all);
	tcase_add_test(tc, test_open_relative);
	tcase_add_test(tc, test_open_noentry);
	tcase_add_test(tc, test_open_badabi);
	tcase_add_test(tc, test_open_missing);
	tcase_add_test(tc, test_open_not_elf);
	suite_add_tcase(s, tc);

	tc = tcase_create("desc");
	tcase_add_test(tc, test_desc_good);
	tcase_add_test(tc, test_desc_header);
	tcase_add_test(tc, test_desc_fields);
	tcase_add_test(tc, test_desc_products);
	tcase_add_test(tc, test_desc_larger_products);
	suite_add_tcase(s, tc);

	tc = tcase_create("file");
	tcase_add_test(tc, test_file_perms);
	tcase_add_test(tc, test_path_chain);
	tcase_add_test(tc, test_path_sticky_tmp);
	suite_add_tcase(s, tc);

	tc = tcase_create("probe");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_probe_ok);
	tcase_add_test(tc, test_probe_checkonly);
	tcase_add_test(tc, test_probe_refused);
	tcase_add_test(tc, test_probe_ctorcrash);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(loader_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
