#!/bin/sh
# Run every Check unit test under valgrind's memcheck, in one process each
# (CK_FORK=no, so valgrind sees the tests themselves), and fail on any error
# or definite leak.  Forked workers are not followed (--child-silent-after-
# fork): they are the same binary, and the sanitizer build covers them.
# usage: tests/valgrind-unit.sh [TEST...]   (from the build directory)
set -u
: "${top_builddir:=$(pwd)}"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
# As under `make check`: the tests copy plugins under /tmp, which only the
# tests' hatch lets the loader's path check accept (meshd(8)).
export top_builddir top_srcdir CK_FORK=no MESHD_INSECURE_PLUGIN_PATHS=1
[ $# -gt 0 ] || set -- tests/check_*
rc=0
for t in "$@"; do
	case "$t" in *.o|*.log|*.trs|*.c) continue ;; esac
	[ -x "$t" ] || continue
	if ./libtool --mode=execute valgrind -q --error-exitcode=99 \
	    --leak-check=full --errors-for-leak-kinds=definite \
	    --trace-children=no --child-silent-after-fork=yes \
	    "$t" >"$t.valgrind.log" 2>&1; then
		echo "PASS: $t (valgrind)"
	else
		echo "FAIL: $t (valgrind), see $t.valgrind.log"
		tail -n 30 "$t.valgrind.log"
		rc=1
	fi
done
exit $rc
