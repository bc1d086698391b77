#!/bin/sh
# End-to-end: who may read and write the state.  The state directory and
# database are created 0750/0640; state_group gives them to an operators'
# group (directories set-group-id); a user who may only read gets every
# read verb and a plain "permission denied" from the verbs that write, and
# nothing is written.
#
# As root the test runs meshctl as other users with setpriv(1): nobody in
# group nogroup (a reader, through state_group) and daemon (no access).
# As another user it cannot switch users, so it takes away its own write
# permission instead, which exercises the same checks.
. "$(dirname "$0")/e2e-lib.sh"
MESHD=${MESHD:-$top_builddir/meshd}
conf
cat >"$T/jobs/day.conf" <<'JOB'
name = "day";
domain = "test";
owner = "tests@example.org";
schedule = "@daily";
start = "2001-01-01";
end = "2001-02-01";
catchup = "none";
tasks = ( { id = "a"; plugin = "ok"; stage = "extract"; } );
JOB
mode() { stat -c %a "$1"; }
group() { stat -c %G "$1"; }

# --- defaults: 0750 and 0640, whatever the umask
(umask 000; "$MESHCTL" trigger day --partition 2001-01-02 >/dev/null)
eq "$(mode "$T/state")" "750" "the state directory is created 0750"
eq "$(mode "$T/state/state.db")" "640" "the database is created 0640"

# --- a bad state_group is refused where it is written
conf 'state_group = "no-such-group-here";'
run_ctl 1 "an unknown state_group" validate
has "$T/err" "meshd.conf:7: error: state_group: there is no group 'no-such-group-here'" "names the file and line"
conf 'state_group_write = "yes";'
run_ctl 1 "state_group_write must be a boolean" validate
has "$T/err" "state_group_write must be true or false" "says so"

if [ "$(id -u)" -eq 0 ]; then
	command -v setpriv >/dev/null 2>&1 || { fail "setpriv(1) is missing (package util-linux)"; finish; exit 1; }
	chmod 755 "$T"
	conf 'state_group = "nogroup";'
	"$MESHD" -c "$T/meshd.conf" >"$T/meshd.log" 2>&1 &
	pid=$!
	i=0
	while [ "$i" -lt 100 ] && [ "$(sql "SELECT state FROM runs" 2>/dev/null)" != "success" ]; do
		sleep 0.1; i=$((i + 1))
	done
	eq "$(sql "SELECT state FROM runs")" "success" "meshd ran the request"
	eq "$(group "$T/state"):$(mode "$T/state")" "nogroup:2750" "meshd gives the directory to state_group, set-group-id"
	eq "$(group "$T/state/state.db"):$(mode "$T/state/state.db")" "nogroup:640" "and the database, group-readable"
	eq "$(group "$T/state/state.db-wal")" "nogroup" "and its -wal"
	as_reader() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	as_other() { setpriv --reuid=1 --regid=1 --clear-groups "$@"; }
	as_reader "$MESHCTL" runs day >"$T/out" 2>"$T/err"
	eq "$?" "0" "a member of state_group may read (runs)"
	has "$T/out" "2001-01-02" "and sees the run"
	as_reader "$MESHCTL" tasks day 2001-01-02 --json >"$T/out" 2>"$T/err"
	eq "$?:$(jq -r '.tasks[0].state // .[0].state // empty' "$T/out" | head -1)" "0:success" "and tasks --json"
	as_reader "$MESHCTL" logs day 2001-01-02 a >"$T/out" 2>"$T/err"
	eq "$?" "0" "and the attempt's log"
	as_reader "$MESHCTL" trigger day --partition 2001-01-03 >"$T/out" 2>"$T/err"
	eq "$?" "3" "but a write verb exits 3"
	has "$T/err" "permission denied: $T/state/state.db is read-only for user nobody" "saying permission denied"
	as_reader "$MESHCTL" backfill day --from 2001-01-03 --to 2001-01-05 >"$T/out" 2>"$T/err"
	eq "$?" "3" "backfill too"
	has "$T/err" "permission denied" "with the same message"
	as_reader "$MESHCTL" pause day >/dev/null 2>"$T/err"
	eq "$?" "3" "pause too"
	eq "$(sql "SELECT count(*) FROM requests")" "1" "nothing was written"
	eq "$(sql "SELECT count(*) FROM backfills")" "0" "no backfill was created"
	as_other "$MESHCTL" runs day >"$T/out" 2>"$T/err"
	eq "$?" "3" "a user outside state_group cannot read"
	has "$T/err" "permission denied: user daemon cannot read $T/state/state.db" "and is told so"

	# state_group_write: members may write too.
	conf 'state_group = "nogroup";' 'state_group_write = true;'
	kill "$pid"; wait "$pid"
	"$MESHD" -c "$T/meshd.conf" >>"$T/meshd.log" 2>&1 &
	pid=$!
	i=0
	while [ "$i" -lt 50 ] && [ "$(mode "$T/state/state.db")" != "660" ]; do
		sleep 0.1; i=$((i + 1))
	done
	eq "$(mode "$T/state"):$(mode "$T/state/state.db")" "2770:660" "with state_group_write the group may write"
	eq "$(stat -c %F:%a:%G "$T/state/state.db.wake")" "fifo:660:nogroup" "the wake-up FIFO is the group's too"
	as_reader "$MESHCTL" trigger day --partition 2001-01-03 >"$T/out" 2>"$T/err"
	eq "$?" "0" "and a member's trigger is recorded"
	# nobody may not signal root's meshd: it is woken through the FIFO.
	has "$T/out" "meshd (pid $pid) runs it now" "and meshd, another user's process, is told at once"
	i=0
	while [ "$i" -lt 100 ] && [ "$(sql "SELECT state FROM runs WHERE partition_key = '2001-01-03'" 2>/dev/null)" != "success" ]; do
		sleep 0.1; i=$((i + 1))
	done
	eq "$(sql "SELECT state || ' ' || created_by FROM requests WHERE partition_key = '2001-01-03'")" "done nobody" "carried out, and who asked is kept"
	kill "$pid"; wait "$pid"
else
	# Not root: take away our own write permission.
	conf
	"$MESHCTL" run day --partition 2001-01-02 >/dev/null 2>&1
	chmod 0440 "$T/state/state.db"
	run_ctl 0 "a read verb on a read-only state" runs day
	has "$T/out" "2001-01-02" "shows the run"
	run_ctl 3 "a write verb on a read-only state" trigger day --partition 2001-01-03
	has "$T/err" "permission denied: $T/state/state.db is read-only for user" "says permission denied"
	run_ctl 3 "backfill on a read-only state" backfill day --from 2001-01-03 --to 2001-01-05
	chmod 0640 "$T/state/state.db"
	eq "$(sql "SELECT count(*) FROM requests")" "1" "nothing was written"
	chmod 0 "$T/state/state.db"
	run_ctl 3 "an unreadable state" runs day
	has "$T/err" "permission denied: user" "says permission denied"
	chmod 0640 "$T/state/state.db"
fi
finish
