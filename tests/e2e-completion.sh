#!/bin/sh
# End-to-end: the bash completion of contrib/bash-completion/meshctl,
# driven as readline would drive it, completes verbs, options, option
# values, job names, partitions and tasks, products, a product's
# partitions, domains and plugin files from the real meshctl, with the
# -c FILE of the line; none of it needs meshd.  (Moved from e2e-contrib.sh,
# with the products, domains and plugin files of issue 15.)
. "$(dirname "$0")/e2e-lib.sh"
COMPLETION="$top_srcdir/contrib/bash-completion/meshctl"

# ------------------------------------------------------------ completion
if ! command -v bash >/dev/null 2>&1; then
	fail "bash not found: the completion cannot be tested"
	finish
	exit
fi
if bash -n "$COMPLETION" 2>"$T/err"; then
	ok "the completion is valid bash"
else
	fail "bash -n contrib/bash-completion/meshctl"
	sed 's/^/    | /' "$T/err"
fi

# Two configurations: the environment's (MESHD_CONFIG, from e2e-lib.sh) and
# another given with -c, with different jobs.
conf
cat >"$T/jobs/day.conf" <<'JOB'
name = "day";
domain = "test";
owner = "tests@example.org";
schedule = "@daily";
start = "2001-01-01";
catchup = "none";
tasks = (
  { id = "extract"; plugin = "ok"; stage = "extract"; },
  { id = "check"; plugin = "ok"; stage = "check"; after = [ "extract" ]; },
  { id = "publish"; plugin = "ok"; stage = "publish"; after = [ "check" ]; }
);
JOB
sed -e 's/"day"/"quarter"/' -e 's|@daily|*/15 * * * *|' "$T/jobs/day.conf" \
    >"$T/jobs/quarter.conf"
mkdir -p "$T/other/jobs"
sed 's|^jobs_dir = .*|jobs_dir = "other/jobs";|' "$T/meshd.conf" \
    >"$T/other.conf"
sed 's/"day"/"elsewhere"/' "$T/jobs/day.conf" >"$T/other/jobs/elsewhere.conf"
run_ctl 0 "run day 2001-01-05" run day --partition 2001-01-05
run_ctl 0 "run day 2001-01-06" run day --partition 2001-01-06
run_ctl 0 "run quarter 2001-01-05T10:15" run quarter --partition 2001-01-05T10:15

# `meshctl` is found on PATH, as it would be when installed.
mkdir -p "$T/bin"
ln -s "$MESHCTL" "$T/bin/meshctl"

# comp LINE: the replies for the line, cursor at its end, one per line
# (sorted), as readline would ask for them.
comp() {
	(cd "$T" && PATH="$T/bin:$PATH" bash -c '
		. "$1"
		COMP_LINE=$2
		COMP_POINT=${#2}
		read -ra COMP_WORDS <<<"$2"
		case $2 in *" ") COMP_WORDS+=("") ;; esac
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_meshctl
		printf "%s\n" "${COMPREPLY[@]}"' bash "$COMPLETION" "$1") |
	    sed '/^$/d' | sort
}
# compeq LINE WANT: the replies, space-separated, are exactly WANT.
compeq() {
	eq "$(comp "$1" | tr '\n' ' ' | sed 's/ $//')" "$2" "'$1<TAB>' -> $2"
}
# comphas LINE WORD...: the replies include each WORD.
comphas() {
	l=$1; shift
	comp "$l" >"$T/comp"
	for w in "$@"; do
		if grep -qxF -- "$w" "$T/comp"; then
			ok "'$l<TAB>' offers $w"
		else
			fail "'$l<TAB>' does not offer $w: $(tr '\n' ' ' <"$T/comp")"
		fi
	done
}

eq "$(bash -c '. "$1"; complete -p meshctl' bash "$COMPLETION")" \
    "complete -F _meshctl meshctl" "sourcing it registers _meshctl for meshctl"

# Verbs: each one `meshctl --help` lists, whatever they are.
"$MESHCTL" --help | awk '/^Verbs:/ { v = 1; next } /^$/ { v = 0 }
    v { print $1 }' | sort >"$T/verbs"
comp "meshctl " >"$T/comp"
if [ -s "$T/verbs" ] && cmp -s "$T/verbs" "$T/comp"; then
	ok "'meshctl <TAB>' offers every verb of --help ($(wc -l <"$T/verbs"))"
else
	fail "'meshctl <TAB>' differs from the verbs of --help"
	diff "$T/verbs" "$T/comp" | sed 's/^/    | /'
fi
comphas "meshctl " run trigger backfill backfills clear runs jobs dag
compeq "meshctl trig" "trigger"
compeq "meshctl -u ru" "run runs"
compeq "meshctl backf" "backfill backfills"
compeq "meshctl --" "--config --help --timeout --utc --version"
comphas "meshctl -" -c -u -h -V
compeq "meshctl -c other." "other.conf"

# A verb's options, from `meshctl VERB --help`.
compeq "meshctl runs --st" "--state"
comphas "meshctl runs day --" --state --limit --json --help
comphas "meshctl backfill day --" --from --to --reprocess --max-active-runs \
    --reverse --dry-run --wait --yes
comphas "meshctl clear day --" --partition --task --downstream --failed-only
compeq "meshctl backfill day --inter" "--interval"

# Option values.
compeq "meshctl dag day --format " "dot json text"
compeq "meshctl dag day --format=d" "dot"
compeq "meshctl runs day --state " "cancelled failed queued running success"
compeq "meshctl runs day -s f" "failed"
compeq "meshctl backfill day --reprocess " "all failed missing"
comphas "meshctl backfills --state " pending cancelling success
comphas "meshctl catalog --state " published quarantined

# Job names, partitions and tasks, from the state and the job files.
compeq "meshctl runs " "day quarter"
compeq "meshctl runs d" "day"
compeq "meshctl trigger q" "quarter"
compeq "meshctl backfill " "cancel day quarter"
compeq "meshctl -c $T/other.conf runs " "elsewhere"
compeq "meshctl --config=$T/other.conf dag " "elsewhere"
compeq "meshctl tasks day " "2001-01-05 2001-01-06"
compeq "meshctl trigger day --partition 2001-01-0" "2001-01-05 2001-01-06"
compeq "meshctl logs day 2001-01-05 " "check extract publish"
compeq "meshctl clear day --task p" "publish"
# A key with a colon: readline replaces only what follows the ':'.
compeq "meshctl tasks quarter 2001-01-05T10:" "15"
compeq "meshctl plugin " "info"
compeq "meshctl runs day 2001" ""
compeq "meshctl nosuchverb " ""

# ------------------------------------------------------------ issue 15
# Products, from `meshctl products --json`: `product`, `checks`, `lineage`.
compeq "meshctl product " "test.ok"
compeq "meshctl product te" "test.ok"
compeq "meshctl product x" ""
compeq "meshctl checks " "test.ok"
compeq "meshctl lineage " "test.ok"
# Another configuration has another state, with no product.
sed 's|^state_db = .*|state_db = "other/state.db";|' "$T/other.conf" \
    >"$T/other-state.conf"
compeq "meshctl -c $T/other-state.conf product " ""
compeq "meshctl --config=$T/other-state.conf checks " ""
# A product's partitions, from `meshctl product NAME --json`.
compeq "meshctl checks test.ok --partition " "$(sql "SELECT DISTINCT partition_key FROM runs ORDER BY 1" | tr '\n' ' ' | sed 's/ $//')"
# (day and quarter both publish test.ok)
compeq "meshctl checks test.ok -p 2001-01-0" \
    "2001-01-05 2001-01-05T10:15 2001-01-06"
compeq "meshctl lineage test.ok --partition 2001-01-06" "2001-01-06"
compeq "meshctl lineage test.ok --partition=2001-01-06" "2001-01-06"
compeq "meshctl lineage nosuch.product --partition " ""
# After the partition, the options again.
comphas "meshctl lineage test.ok --partition 2001-01-05 --" --upstream \
    --downstream --depth --format
# Domains, of the jobs and of the catalog's products.
compeq "meshctl products --domain " "test"
compeq "meshctl catalog --domain t" "test"
compeq "meshctl catalog --domain=t" "test"
compeq "meshctl jobs --domain " "test"
compeq "meshctl jobs -d " "test"
compeq "meshctl products --domain x" ""
# alerts --job J: the jobs.
compeq "meshctl alerts --job " "day quarter"
compeq "meshctl alerts -j d" "day"
# plugin info: shared objects and directories, not libtool's leftovers.
mkdir -p "$T/plug/sub.d" "$T/plug/sub"
: >"$T/plug/a.so"
: >"$T/plug/a.la"
: >"$T/plug/a.o"
: >"$T/plug/a.exp"
: >"$T/plug/a.lo"
: >"$T/plug/b.so.1"
compeq "meshctl plugin info plug/" "plug/a.so plug/sub plug/sub.d"
compeq "meshctl plugin info plug/a" "plug/a.so"
compeq "meshctl plugin info pl" "plug"
# --config still offers every file.
comphas "meshctl --config plug/" plug/a.la plug/a.so

finish
