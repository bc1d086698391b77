#!/bin/sh
# End-to-end: the documentation cannot drift from the programs (issue 15).
# tests/docs-drift.py reads every verb and option from `meshctl --help`
# and `meshctl VERB --help`, every key from the parsers in core/, and the
# options of `meshd --help` and `meshd-worker --help`, and looks each up in
# the man pages.  It passes on the tree as it is, and fails, saying what
# is missing where, on a man page with one thing taken out, on a source
# with a key added, and on a meshctl or meshd whose --help grew an option
# or a verb, and on code reading an environment variable no page names.
# configure prints no "rm: cannot remove 'core'" (a copy of it
# without our fix does, so the check bites) and its summary lists every
# plugin and program the build made.
. "$(dirname "$0")/e2e-lib.sh"
MESHD=${MESHD:-$top_builddir/meshd}
WORKER=${WORKER:-$top_builddir/meshd-worker}
PY=/usr/bin/python3
DRIFT="$top_srcdir/tests/docs-drift.py"

for f in "$MESHCTL" "$MESHD" "$WORKER"; do
	[ -x "$f" ] || { fail "$f is not built"; finish; exit; }
done
[ -x "$PY" ] || { fail "$PY not found (Debian: python3)"; finish; exit; }

# drift MANDIR SRCDIR MESHCTL MESHD: the checker; its output in $T/drift.
drift() {
	"$PY" "$DRIFT" --mandir "$1" --srcdir "$2" --meshctl "$3" \
	    --meshd "$4" --meshd-worker "$WORKER" >"$T/drift" 2>&1
}

# ------------------------------------------------------------ the tree
if drift "$top_srcdir/doc" "$top_srcdir" "$MESHCTL" "$MESHD"; then
	ok "every verb, option and key is documented"
else
	fail "the man pages lack what the programs accept (exit $?):"
	sed 's/^/    /' "$T/drift"
fi

# The man pages themselves are valid roff (a broken macro can hide an item).
if command -v groff >/dev/null 2>&1; then
	for m in "$top_srcdir"/doc/*.[158]; do
		groff -man -ww -z "$m" >"$T/groff" 2>&1
		if [ -s "$T/groff" ]; then
			fail "groff warns about ${m##*/}:"
			sed 's/^/    /' "$T/groff"
		else
			ok "${m##*/} formats without warnings"
		fi
	done
else
	fail "groff not found (Debian: groff-base): the pages cannot be checked"
fi

# ------------------------------------------------------------ it can fail
# mutate WANT DESC SED FILE: the pages with FILE edited by SED must fail
# the check with a line holding WANT.
mutate() {
	want=$1; desc=$2; expr=$3; file=$4
	rm -rf "$T/man"
	cp -R "$top_srcdir/doc" "$T/man"
	chmod -R u+w "$T/man"	# distcheck's source tree is read-only
	sed -e "$expr" "$top_srcdir/doc/$file" >"$T/man/$file"
	if cmp -s "$top_srcdir/doc/$file" "$T/man/$file"; then
		fail "$desc: the edit '$expr' changed nothing in $file"
		return
	fi
	expect_drift "$want" "$desc" "$T/man" "$top_srcdir" "$MESHCTL" "$MESHD"
}
# expect_drift WANT DESC MANDIR SRCDIR MESHCTL MESHD
expect_drift() {
	want=$1; desc=$2; shift 2
	drift "$@"
	rc=$?
	if [ "$rc" -eq 1 ] && grep -qF -- "$want" "$T/drift"; then
		ok "$desc: $(grep -F -- "$want" "$T/drift" | head -n 1)"
	else
		fail "$desc: exit $rc, wanted 1 and a line with '$want'"
		sed 's/^/    /' "$T/drift"
	fi
}

mutate "doc/meshctl.1: the entry of 'logs' under VERBS does not document --no-pager" \
    "meshctl.1 without logs --no-pager" 's/\\-\\-no\\-pager//g' meshctl.1
mutate "the entry of 'backfill' under VERBS does not document --interval" \
    "meshctl.1 without backfill's --interval item" \
    '/^\.B \\-\\-interval \\fISECS\\fR$/s/interval/intervals/' meshctl.1
mutate "the entry of 'validate' under VERBS does not document --json" \
    "meshctl.1 without validate --json" \
    '/^\.B validate /s/ \[\\-\\-json\]//' meshctl.1
mutate "the entry of 'lineage' under VERBS does not document -u" \
    "meshctl.1 without lineage's short -u" \
    's/\\-u " for " \\-\\-upstream ", " //' meshctl.1
mutate "GLOBAL OPTIONS has no item for --utc" \
    "meshctl.1 without the global --utc" \
    '/^\.BR \\-u ", " \\-\\-utc$/d' meshctl.1
mutate "VERBS has no entry for the verb 'alerts'" \
    "meshctl.1 without the alerts verb" '/^\.B alerts /s/alerts/alarms/' \
    meshctl.1
mutate "the entry of 'plugin' does not name its sub-verb 'info'" \
    "meshctl.1 without 'plugin info'" '/^\.B plugin info/s/ info / /' \
    meshctl.1
mutate "meshd.conf.5: the KEY TABLE lacks the key 'staging_retention' in its part 'top level' (core/config.c: config_keys[])" \
    "meshd.conf.5 without staging_retention in its table" \
    '/^staging_retention\t/d' meshd.conf.5
mutate "the KEY TABLE lacks the key 'poll_interval_ms' in its part 'in each executor'" \
    "meshd.conf.5 without the executors' poll_interval_ms row" \
    '/^poll_interval_ms\t/d' meshd.conf.5
mutate "meshd.conf.5: the key 'alert_give_up' has no item (.TP) of its own below the KEY TABLE (core/config.c: config_keys[])" \
    "meshd.conf.5 without alert_give_up's item" \
    '/^\.B alert_give_up /s/alert_give_up/alert_giveup/' meshd.conf.5
mutate "does not mention the key 'bearer_token_file' (core/alert-conf.c: strcmp)" \
    "meshd.conf.5 without a webhook's bearer_token_file" \
    's/bearer_token_file/bearer_file/g' meshd.conf.5
mutate "meshd-job.5: the KEY TABLE lacks the key 'retry_jitter' in its part 'in a task' (core/job.c: task_keys[])" \
    "meshd-job.5 without retry_jitter in its table" \
    '/^retry_jitter\t/d' meshd-job.5
mutate "doc/meshd.8: does not document --clock" "meshd.8 without --clock" \
    's/\\-\\-clock/\\-\\-klock/g' meshd.8
mutate "doc/*.[158]: no man page names the environment variable TZDIR (core/tz.c reads it)" \
    "meshd.8 without TZDIR" 's/TZDIR/TZ_DIR/g' meshd.8
mutate "meshd-worker.8: does not document --show-result" \
    "meshd-worker.8 without --show-result" \
    's/show\\*-result/show/g' meshd-worker.8

# A key added to the code without its documentation: a copy of the
# sources with one more entry in config_keys[] and one in task_keys[].
mkdir -p "$T/src/core"
cp "$top_srcdir"/core/*.[ch] "$T/src/core/"
chmod -R u+w "$T/src"
sed 's/"state_db", "jobs_dir",/"state_db", "frobnicate", "jobs_dir",/' \
    "$top_srcdir/core/config.c" >"$T/src/core/config.c"
sed 's/"id", "plugin", "stage",/"id", "plugin", "stage", "wobble",/' \
    "$top_srcdir/core/job.c" >"$T/src/core/job.c"
expect_drift "meshd.conf.5: the KEY TABLE lacks the key 'frobnicate' in its part 'top level' (core/config.c: config_keys[])" \
    "a key added to config_keys[] alone" \
    "$top_srcdir/doc" "$T/src" "$MESHCTL" "$MESHD"
has "$T/drift" "the KEY TABLE lacks the key 'wobble' in its part 'in a task' (core/job.c: task_keys[])" \
    "a key added to task_keys[] alone is named too"
# ... and one a parser compares names with, in no key array.
cp "$top_srcdir/core/job.c" "$T/src/core/job.c"
cp "$top_srcdir/core/config.c" "$T/src/core/config.c"
sed 's/strcmp(k, "listen") != 0 \&\&/strcmp(k, "listen") != 0 \&\& strcmp(k, "frobzone") != 0 \&\&/' \
    "$top_srcdir/core/config-http.c" >"$T/src/core/config-http.c"
expect_drift "does not mention the key 'frobzone' (core/config-http.c: strcmp)" \
    "a key a parser accepts outside its key array" \
    "$top_srcdir/doc" "$T/src" "$MESHCTL" "$MESHD"
# ... and an environment variable read without a word in any page.
cp "$top_srcdir/core/config-http.c" "$T/src/core/config-http.c"
printf 'const char *frob_env(void);\nconst char *\nfrob_env(void)\n{\n\treturn getenv("MESHD_FROB");\n}\n' \
    >>"$T/src/core/util.c"
expect_drift "no man page names the environment variable MESHD_FROB (core/util.c reads it)" \
    "an environment variable read without documentation" \
    "$top_srcdir/doc" "$T/src" "$MESHCTL" "$MESHD"

# A meshctl whose --help grew a verb, and one whose verb grew an option;
# a meshd with a new option.
cat >"$T/meshctl-more" <<EOF
#!/bin/sh
if [ "\$#" -eq 1 ] && [ "\$1" = --help ]; then
	"$MESHCTL" --help | sed '/^Verbs:/a\\
  frob      [--json]                                 frobnicate a job'
elif [ "\$1" = frob ]; then
	printf 'usage: meshctl frob [--json]\n\nfrobnicate.\n\n      --json  a document\n'
elif [ "\$1" = dag ] && [ "\$2" = --help ]; then
	"$MESHCTL" dag --help
	printf '      --depth-first  walk depth first\n'
else
	exec "$MESHCTL" "\$@"
fi
EOF
cat >"$T/meshd-more" <<EOF
#!/bin/sh
"$MESHD" "\$@"
printf '      --frobnicate   frobnicate\n'
EOF
chmod +x "$T/meshctl-more" "$T/meshd-more"
expect_drift "doc/meshctl.1: VERBS has no entry for the verb 'frob' (\`meshctl --help\` lists it)" \
    "a verb added to meshctl --help alone" \
    "$top_srcdir/doc" "$top_srcdir" "$T/meshctl-more" "$T/meshd-more"
has "$T/drift" "the entry of 'dag' under VERBS does not document --depth-first (\`meshctl dag --help\` lists it)" \
    "an option added to a verb's --help alone is named"
has "$T/drift" "doc/meshd.8: does not document --frobnicate (\`meshd --help\` lists it)" \
    "an option added to meshd --help alone is named"

# ------------------------------------------------------------ configure
# A scratch copy of what configure reads: no rm complaint, no confdefs.h
# left behind, and a summary naming what the build made.
mkdir -p "$T/cfg/core"
cp "$top_srcdir/configure" "$top_srcdir/Makefile.am" "$T/cfg/"
cp -R "$top_srcdir/build-aux" "$T/cfg/"
cp "$top_srcdir/core/util.h" "$T/cfg/core/"
chmod -R u+w "$T/cfg"
(cd "$T/cfg" && ./configure --no-create --no-recursion) >"$T/cfg.out" 2>&1
eq "$?" 0 "configure runs in a scratch copy"
eq "$(grep -c "cannot remove" "$T/cfg.out")" 0 \
    "configure prints no \"rm: cannot remove 'core'\""
[ -e "$T/cfg/confdefs.h" ] && fail "configure left confdefs.h behind" ||
    ok "configure's exit trap cleans up (no confdefs.h left)"
plugins=$(sed -n 's/^  plugins \.* //p' "$T/cfg.out")
built=$(cd "$top_builddir/plugins" && ls *.la | sed 's/\.la$//' | sort |
    tr '\n' ' ' | sed 's/ $//')
eq "$(echo "$plugins" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')" \
    "$built" "the summary's plugins are the ones make built ($built)"
for p in meshd meshctl meshd-worker; do
	sed -n 's/^  programs \.* //p' "$T/cfg.out" | tr ' ' '\n' |
	    grep -qx "$p" && ok "the summary lists the program $p" ||
	    fail "the summary does not list the program $p"
done
# The check bites: the same configure without its rm fix complains.
sed '/^rm ()$/,/^}$/d' "$top_srcdir/configure" >"$T/cfg/configure"
(cd "$T/cfg" && sh ./configure --no-create --no-recursion) >"$T/cfg.out" 2>&1
n=$(grep -c "cannot remove 'core'" "$T/cfg.out")
[ "$n" -gt 0 ] &&
    ok "without the fix configure complains ($n times): the check can fail" ||
    fail "configure without its rm fix printed no complaint: the check is blind"

finish
