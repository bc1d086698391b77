/*
 * nolink.c -- a plugin that calls SQLite but is linked without -lsqlite3
 * (Makefile.am gives it SQLite's header only).  It loads, because meshd
 * has already loaded SQLite; `meshctl plugin info` and `validate` must say
 * that it uses sqlite3_libversion without linking the library.
 */
#include <sqlite3.h>

#include <meshd/plugin.h>

static meshd_status
extract(meshd_ctx *ctx)
{
	meshd_log(ctx, MESHD_LOG_INFO, "sqlite %s", sqlite3_libversion());
	return MESHD_OK;
}

MESHD_PLUGIN(
	.name = "nolink",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.extract = extract,
);
