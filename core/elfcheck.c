/*
 * elfcheck.c -- lint a plugin's ELF file (see elfcheck.h).
 *
 * libelf (elfutils) does the parsing: it checks every offset and size
 * against the file, so a hostile header gives an error from elf_errmsg(),
 * not a read out of bounds.  What is left to us is to use only what it
 * returned: a NULL from elf_strptr() or gelf_getsym() is a malformed file.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sdk/meshd/plugin.h"
#include "elfcheck.h"
#include "util.h"

/* More names than this in one warning are counted, not listed. */
#define ELFCHECK_SHOW 8
/* A symbol name is shown up to this length. */
#define ELFCHECK_NAME_MAX 120

/* Defined by every shared object's start files or linker, not by the
 * plugin's code. */
static const char *const linker_names[] = {
	"_init", "_fini", "_edata", "_end", "__bss_start", "_etext",
	"__end__", "__data_start", "__dso_handle", NULL
};

/* Provided by whatever runs the plugin, by design: meshd's own names,
 * and the sanitizer runtimes a sanitizer build's executable carries. */
static const char *const host_prefixes[] = {
	"meshd_", "__asan_", "__ubsan_", "__lsan_", "__tsan_", "__msan_",
	"__sanitizer_", NULL
};

/* Exported by the compiler's instrumentation, not by the plugin's code:
 * AddressSanitizer's one-definition-rule indicators of globals. */
static const char *const tool_prefixes[] = {
	"__odr_asan", "__asan_", NULL
};

static int
in_list(const char *s, const char *const *v, int prefix)
{
	size_t	i;

	for (i = 0; v[i] != NULL; i++) {
		if (prefix ? strncmp(s, v[i], strlen(v[i])) == 0 :
		    strcmp(s, v[i]) == 0)
			return 1;
	}
	return 0;
}

static void
push(char ***v, size_t *n, const char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*v)[(*n)++] = xstrdup(s);
}

static int
bad(char **cause, const char *what, const char *why)
{
	const char	*e = elf_errmsg(-1);

	if (cause != NULL)
		*cause = xasprintf("%s: cannot read as ELF: %s%s%s", what, why,
		    e != NULL ? ": " : "", e != NULL ? e : "");
	return -1;
}

/* The symbols of a SHT_DYNSYM section. */
static int
read_dynsym(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh, const char *what,
    struct elfcheck *ec, char **cause)
{
	Elf_Data	*d;
	GElf_Sym	 sym;
	size_t		 i, n, ent;
	const char	*name;
	int		 bind, vis;

	if ((d = elf_getdata(scn, NULL)) == NULL)
		return bad(cause, what, "unreadable .dynsym");
	if ((ent = gelf_fsize(e, ELF_T_SYM, 1, EV_CURRENT)) == 0)
		return bad(cause, what, "unknown symbol size");
	n = d->d_size / ent;
	/* Entry 0 is the null symbol. */
	for (i = 1; i < n; i++) {
		if (gelf_getsym(d, (int)i, &sym) == NULL)
			return bad(cause, what, "bad .dynsym entry");
		if (sym.st_name == 0)
			continue;
		if ((name = elf_strptr(e, sh->sh_link, sym.st_name)) == NULL)
			return bad(cause, what, "symbol name out of bounds");
		if (*name == '\0')
			continue;
		bind = GELF_ST_BIND(sym.st_info);
		vis = GELF_ST_VISIBILITY(sym.st_other);
		if (sym.st_shndx == SHN_UNDEF) {
			/* A weak reference may stay unresolved. */
			if (bind == STB_GLOBAL)
				push(&ec->undefined, &ec->nundefined, name);
			continue;
		}
		if (bind != STB_GLOBAL && bind != STB_WEAK &&
		    bind != STB_GNU_UNIQUE)
			continue;
		if (vis != STV_DEFAULT && vis != STV_PROTECTED)
			continue;
		/* Version names (SHN_ABS) and the linker's own symbols. */
		if (sym.st_shndx == SHN_ABS || in_list(name, linker_names, 0) ||
		    in_list(name, tool_prefixes, 1) ||
		    strcmp(name, MESHD_PLUGIN_ENTRY) == 0)
			continue;
		push(&ec->exports, &ec->nexports, name);
	}
	return 0;
}

/* The DT_NEEDED entries of a SHT_DYNAMIC section. */
static int
read_dynamic(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh, const char *what,
    struct elfcheck *ec, char **cause)
{
	Elf_Data	*d;
	GElf_Dyn	 dyn;
	size_t		 i, n, ent;
	const char	*name;

	if ((d = elf_getdata(scn, NULL)) == NULL)
		return bad(cause, what, "unreadable .dynamic");
	if ((ent = gelf_fsize(e, ELF_T_DYN, 1, EV_CURRENT)) == 0)
		return bad(cause, what, "unknown dynamic entry size");
	n = d->d_size / ent;
	for (i = 0; i < n; i++) {
		if (gelf_getdyn(d, (int)i, &dyn) == NULL)
			return bad(cause, what, "bad .dynamic entry");
		if (dyn.d_tag == DT_NULL)
			break;
		if (dyn.d_tag != DT_NEEDED)
			continue;
		if ((name = elf_strptr(e, sh->sh_link, dyn.d_un.d_val)) ==
		    NULL)
			return bad(cause, what, "DT_NEEDED out of bounds");
		push(&ec->needed, &ec->nneeded, name);
	}
	return 0;
}

static int
read_elf(Elf *e, const char *what, struct elfcheck *ec, char **cause)
{
	GElf_Ehdr	 eh;
	GElf_Shdr	 sh;
	Elf_Scn		*scn = NULL;
	int		 ndynsym = 0;

	memset(ec, 0, sizeof *ec);
	if (elf_kind(e) != ELF_K_ELF)
		return bad(cause, what, "not an ELF file");
	if (gelf_getehdr(e, &eh) == NULL)
		return bad(cause, what, "bad ELF header");
	if (eh.e_type != ET_DYN) {
		if (cause != NULL)
			*cause = xasprintf("%s: not a shared object (ELF type "
			    "%u)", what, (unsigned)eh.e_type);
		return -1;
	}
	while ((scn = elf_nextscn(e, scn)) != NULL) {
		if (gelf_getshdr(scn, &sh) == NULL)
			goto fail;
		if (sh.sh_type == SHT_DYNSYM) {
			ndynsym++;
			if (read_dynsym(e, scn, &sh, what, ec, cause) != 0)
				goto out;
		} else if (sh.sh_type == SHT_DYNAMIC) {
			if (read_dynamic(e, scn, &sh, what, ec, cause) != 0)
				goto out;
		}
	}
	if (elf_errno() != 0)
		goto fail;
	if (ndynsym == 0) {
		if (cause != NULL)
			*cause = xasprintf("%s: no dynamic symbol table "
			    "(.dynsym): cannot check its symbols", what);
		goto out;
	}
	return 0;
fail:
	bad(cause, what, "bad section header");
out:
	elfcheck_free(ec);
	return -1;
}

int
elfcheck_read(const char *path, struct elfcheck *ec, char **cause)
{
	struct stat	 sb;
	Elf		*e;
	int		 fd, rc;

	memset(ec, 0, sizeof *ec);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (cause != NULL)
			*cause = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		if (cause != NULL)
			*cause = xasprintf("%s: not a regular file", path);
		close(fd);
		return -1;
	}
	elf_version(EV_CURRENT);
	/* ELF_C_READ reads with pread(), not mmap(): a file truncated
	 * while it is read gives an error, not SIGBUS. */
	if ((e = elf_begin(fd, ELF_C_READ, NULL)) == NULL) {
		rc = bad(cause, path, "elf_begin");
		close(fd);
		return rc;
	}
	rc = read_elf(e, path, ec, cause);
	elf_end(e);
	close(fd);
	return rc;
}

int
elfcheck_read_mem(const void *data, size_t len, const char *what,
    struct elfcheck *ec, char **cause)
{
	Elf	*e;
	char	*copy;
	int	 rc;

	memset(ec, 0, sizeof *ec);
	/* elf_memory() wants a writable image: give it our own copy. */
	copy = xmalloc(len > 0 ? len : 1);
	if (len > 0)
		memcpy(copy, data, len);
	elf_version(EV_CURRENT);
	if ((e = elf_memory(copy, len)) == NULL) {
		rc = bad(cause, what, "elf_memory");
		free(copy);
		return rc;
	}
	rc = read_elf(e, what, ec, cause);
	elf_end(e);
	free(copy);
	return rc;
}

static void
free_list(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
elfcheck_free(struct elfcheck *ec)
{
	free_list(ec->exports, ec->nexports);
	free_list(ec->undefined, ec->nundefined);
	free_list(ec->needed, ec->nneeded);
	memset(ec, 0, sizeof *ec);
}

/* Append a name to a list being built, shown safely: a name from a
 * hostile file may hold control characters or be very long. */
static char *
add_name(char *list, const char *name)
{
	char	 shown[ELFCHECK_NAME_MAX + 4], *n;
	size_t	 i;

	for (i = 0; name[i] != '\0' && i < ELFCHECK_NAME_MAX; i++)
		shown[i] = isprint((unsigned char)name[i]) ? name[i] : '?';
	if (name[i] != '\0')
		shown[i++] = '.', shown[i++] = '.', shown[i++] = '.';
	shown[i] = '\0';
	n = xasprintf("%s%s%s", list != NULL ? list : "",
	    list != NULL ? ", " : "", shown);
	free(list);
	return n;
}

static char *
name_list(char **v, size_t n)
{
	char	*list = NULL, *more;
	size_t	 i;

	for (i = 0; i < n && i < ELFCHECK_SHOW; i++)
		list = add_name(list, v[i]);
	if (n > ELFCHECK_SHOW) {
		more = xasprintf("%s and %zu more", list, n - ELFCHECK_SHOW);
		free(list);
		list = more;
	}
	return list;
}

size_t
elfcheck_warnings(const char *path, const struct elfcheck *ec,
    int (*defined)(void *, const char *), void *arg, char ***out)
{
	char	**w = NULL, **missing = NULL, *names, *needed;
	size_t	  nw = 0, nmissing = 0, i;

	if (ec->nexports > 0) {
		names = name_list(ec->exports, ec->nexports);
		w = xreallocarray(w, nw + 1, sizeof *w);
		w[nw++] = xasprintf("%s: exports %zu symbol%s beyond %s: %s; "
		    "another plugin or library can clash with them: build "
		    "with -fvisibility=hidden (the entry is exported by "
		    "MESHD_PLUGIN())", path, ec->nexports,
		    ec->nexports == 1 ? "" : "s", MESHD_PLUGIN_ENTRY, names);
		free(names);
	}
	for (i = 0; i < ec->nundefined; i++) {
		const char *s = ec->undefined[i];

		if (in_list(s, host_prefixes, 1))
			continue;
		if (defined != NULL && defined(arg, s))
			continue;
		missing = xreallocarray(missing, nmissing + 1,
		    sizeof *missing);
		missing[nmissing++] = (char *)(uintptr_t)s;
	}
	if (nmissing > 0) {
		names = name_list(missing, nmissing);
		needed = ec->nneeded > 0 ? name_list(ec->needed, ec->nneeded) :
		    xstrdup("none");
		w = xreallocarray(w, nw + 1, sizeof *w);
		w[nw++] = xasprintf("%s: uses %zu symbol%s that no library it "
		    "links defines: %s (it links: %s); it loads only while the "
		    "host happens to have them: link the library that defines "
		    "them (e.g. -lsqlite3 for sqlite3_*)", path, nmissing,
		    nmissing == 1 ? "" : "s", names, needed);
		free(names);
		free(needed);
	}
	free(missing);
	*out = w;
	return nw;
}
