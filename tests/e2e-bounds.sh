#!/bin/sh
# End-to-end (issue 11, items 3, 7, 8): backfill and clear keep to the job's
# start and end as trigger does, in --dry-run too, and write nothing when
# they refuse (the state's .dump is compared byte for byte); meshd refuses
# a queued backfill, clear or trigger that no longer fits the job rather
# than run it; run and trigger need --rerun for a partition that already
# succeeded, and a rerun records its own trigger; every key meshctl next
# prints across a DST gap is accepted back by every verb that takes one.
. "$(dirname "$0")/e2e-lib.sh"
conf "kill_grace = 1;"
dayjob() { # dayjob START: the @daily job bf, from START to 2001-02-01
	cat >"$T/jobs/bf.conf" <<JOB
name = "bf";
domain = "test";
owner = "tests@example.org";
schedule = "@daily";
start = "$1";
end = "2001-02-01";
catchup = "none";
tasks = ( { id = "a"; plugin = "ok"; stage = "extract"; } );
JOB
}
dayjob 2001-01-01
runsql() { sql "SELECT r.partition_key || ':' || r.state || ':' || r.\"trigger\" FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = '$1' ORDER BY r.partition_key" | tr '\n' ' '; }
dump() { sqlite3 "$T/state/state.db" .dump >"$T/$1"; }
same_dump() { # same_dump DESC: the state is as it was at the last dump
	sqlite3 "$T/state/state.db" .dump >"$T/dump.after"
	if cmp -s "$T/dump.before" "$T/dump.after"; then ok "$1"; else
		fail "$1"; diff "$T/dump.before" "$T/dump.after" | head -n 10 | sed 's/^/    /'
	fi
}

# --- item 7: run needs --rerun for a success, a rerun says what ran it
run_ctl 0 "run a partition" run bf --partition 2001-01-05
eq "$(runsql bf)" "2001-01-05:success:manual " "the run is manual"
dump dump.before
run_ctl 2 "run it again without --rerun" run bf --partition 2001-01-05
has "$T/err" "partition 2001-01-05 of job bf already succeeded (run 1, " "says it already succeeded, with its run"
has "$T/err" "use --rerun to run it again" "and how to run it again"
same_dump "a refused rerun writes nothing"
run_ctl 0 "run --rerun" run bf --partition 2001-01-05 --rerun
eq "$(sql "SELECT max(try_number) FROM task_instances")" "2" "the partition ran again"
run_ctl 0 "another partition" run bf --partition 2001-01-06
run_ctl 2 "trigger of a succeeded partition" trigger bf --partition 2001-01-06
has "$T/err" "partition 2001-01-06 of job bf already succeeded" "trigger says so"

# --- item 3: backfill and clear keep to start and end, --dry-run too
dump dump.before
run_ctl 2 "backfill from before the start" backfill bf --from 2000-12-31 --to 2001-01-03
has "$T/err" "--from: partition 2000-12-31 is before the start of job 'bf', 2001-01-01; the first valid key is 2001-01-01" "names the start and the first valid key"
run_ctl 2 "backfill --dry-run from before the start" backfill bf --from 2000-12-31 --to 2001-01-03 --dry-run
has "$T/err" "the first valid key is 2001-01-01" "--dry-run refuses it too"
hasnt "$T/out" "2001-01-02" "--dry-run lists nothing"
run_ctl 2 "backfill reaching past the end" backfill bf --from 2001-01-30 --to 2001-02-01
has "$T/err" "--to: partition 2001-02-01 is not before the end of job 'bf', 2001-02-01 (the first partition past its last); the last valid key is 2001-01-31" "names the end and the last valid key"
run_ctl 2 "backfill --dry-run wholly past the end" backfill bf --from 2001-03-01 --to 2001-03-05 --dry-run --json
has "$T/err" "the last valid key is 2001-01-31" "--dry-run --json refuses it too"
run_ctl 2 "clear a partition before the start" clear bf --partition 2000-12-31
has "$T/err" "partition 2000-12-31 is before the start of job 'bf', 2001-01-01; the first valid key is 2001-01-01" "clear names the bound"
run_ctl 2 "clear a range reaching past the end" clear bf --from 2001-01-05 --to 2001-02-03
has "$T/err" "the last valid key is 2001-01-31" "clear names the last valid key"
run_ctl 2 "trigger past the end" trigger bf --partition 2001-02-01
has "$T/err" "the last valid key is 2001-01-31" "trigger gives the same message"
same_dump "no refused backfill, clear or trigger wrote to the state"
run_ctl 0 "a backfill inside the bounds" backfill bf --from 2001-01-01 --to 2001-01-31 --dry-run
has "$T/out" "2001-01-31" "lists the last partition"

# --- meshd refuses queued requests that no longer fit the job
run_ctl 0 "a backfill recorded while meshd is down" backfill bf --from 2001-01-01 --to 2001-01-03
run_ctl 0 "a clear recorded while meshd is down" clear bf --partition 2001-01-05
run_ctl 0 "a trigger recorded while meshd is down" trigger bf --partition 2001-01-02
# A meshctl before --rerun: a trigger of a success, without "rerun".
sql "INSERT INTO requests (kind, job, partition_key, created_us) VALUES ('trigger', 'bf', '2001-01-05', 1)"
dayjob 2001-01-10	# the job's start moves past all of them
start_meshd
waitsql "meshd acts on every request" "0" "SELECT count(*) FROM requests WHERE state = 'pending'"
eq "$(sql "SELECT state FROM requests WHERE kind = 'backfill'")" "failed" "the backfill request fails"
has_sql() { # has_sql SQL TEXT DESC
	case "$(sql "$1")" in *"$2"*) ok "$3" ;; *) fail "$3: '$2' not in '$(sql "$1")'" ;; esac
}
has_sql "SELECT result FROM requests WHERE kind = 'backfill'" "partition 2001-01-01 is before the start of job 'bf', 2001-01-10; the first valid key is 2001-01-10" "with the reason"
eq "$(sql "SELECT state FROM backfills")" "failed" "the backfill ends failed, none of it run"
has_sql "SELECT result FROM backfills" "before the start of job 'bf'" "the backfill says why"
has_sql "SELECT state || ' ' || result FROM requests WHERE kind = 'clear'" "failed partition 2001-01-05 is before the start of job 'bf', 2001-01-10" "the clear is refused with the reason"
has_sql "SELECT state || ' ' || result FROM requests WHERE kind = 'trigger' AND partition_key = '2001-01-02'" "failed partition 2001-01-02 is before the start" "the trigger is refused with the reason"
eq "$(runsql bf)" "2001-01-05:success:manual 2001-01-06:success:manual " "nothing ran: no new run, no rerun"
stop_meshd
dayjob 2001-01-01
start_meshd
# SIGUSR1 before meshd has its handler would end it: wait for it first.
up_twice() { [ "$(grep -c "INFO  meshd .* started" "$T/meshd.log")" -ge 2 ]; }
wait_for "meshd is up again" 30 up_twice
sql "INSERT INTO requests (kind, job, partition_key, created_us) VALUES ('trigger', 'bf', '2001-01-05', 2)"
kill -USR1 "$MPID"
waitsql "meshd refuses an old trigger of a success" "failed" "SELECT state FROM requests WHERE created_us = 2"
has_sql "SELECT result FROM requests WHERE created_us = 2" "partition 2001-01-05 of job bf already succeeded (run 1, " "and says it succeeded"
run_ctl 0 "trigger --rerun with meshd up" trigger bf --partition 2001-01-05 --rerun
waitsql "the rerun records trigger, not the old run's manual" "2001-01-05:success:trigger" "SELECT r.partition_key || ':' || r.state || ':' || r.\"trigger\" FROM runs r WHERE r.partition_key = '2001-01-05'"
eq "$(sql "SELECT max(try_number) FROM task_instances ti JOIN runs r ON r.id = ti.run_id WHERE r.partition_key = '2001-01-05'")" "3" "it ran again"
stop_meshd
run_ctl 0 "run --rerun after a trigger" run bf --partition 2001-01-05 --rerun
eq "$(runsql bf)" "2001-01-05:success:manual 2001-01-06:success:manual " "the run records manual again"

# --- item 8: keys across DST gaps are accepted back by every verb
cat >"$T/jobs/sao.conf" <<'JOB'
name = "sao";
domain = "test";
owner = "tests@example.org";
schedule = "0 0 * * *";
timezone = "America/Sao_Paulo";
catchup = "none";
tasks = ( { id = "a"; plugin = "ok"; stage = "check"; } );
JOB
cat >"$T/jobs/chat.conf" <<'JOB'
name = "chat";
domain = "test";
owner = "tests@example.org";
schedule = "0 3 * * *";
timezone = "Pacific/Chatham";
catchup = "none";
tasks = ( { id = "a"; plugin = "ok"; stage = "check"; } );
JOB
roundtrip() { # roundtrip JOB FROM GAPKEY: every key next prints is taken back
	run_ctl 0 "$1: next across the gap" next "$1" --from "$2" -n 4 --json
	keys=$(jq -r '.fires[].partition' "$T/out")
	case " $(echo $keys) " in *" $3 "*) ok "$1: the gap's key is $3" ;; *) fail "$1: $3 not in: $keys" ;; esac
	for k in $keys; do
		"$MESHCTL" backfill "$1" --from "$k" --to "$k" --dry-run >"$T/o2" 2>&1 &&
		    grep -qF -- "$k" "$T/o2" && ok "$1: backfill --from/--to $k" || fail "$1: backfill refuses $k: $(cat "$T/o2")"
		"$MESHCTL" run "$1" --partition "$k" >"$T/o2" 2>&1 && ok "$1: run --partition $k" || fail "$1: run refuses $k: $(cat "$T/o2")"
	done
	eq "$(runsql "$1" | sed 's/:success:manual//g')" "$(echo $keys) " "$1: the runs carry the keys next printed"
	cp "$T/jobs/$1.conf" "$T/$1.conf"
	sed -i "s/^catchup.*/start = \"$3\"; catchup = \"none\";/" "$T/jobs/$1.conf"
	run_ctl 0 "$1: start = \"$3\" validates" validate
	run_ctl 0 "$1: clear --partition $3" clear "$1" --partition "$3"
	cp "$T/$1.conf" "$T/jobs/$1.conf"
}
roundtrip sao 2018-11-02T12:00:00Z 2018-11-04T01:00
roundtrip chat 2024-09-27T00:00:00Z 2024-09-29T03:45
# The spelling of the skipped time names the same interval.
run_ctl 2 "sao: run the gap's day by its date, already done" run sao --partition 2018-11-04
has "$T/err" "partition 2018-11-04T01:00 of job sao already succeeded" "the date reads as the 01:00 interval"

# --- item 8: a leading blank is an error, not a Sunday schedule
cat >"$T/jobs/wk.conf" <<'JOB'
name = "wk";
domain = "test";
owner = "tests@example.org";
schedule = " @weekly";
tasks = ( { id = "a"; plugin = "ok"; stage = "check"; } );
JOB
run_ctl 1 "validate ' @weekly'" validate
has "$T/err" "wk.conf:4: error: cron: ' @weekly' has a leading blank (column 1)" "names file:line"
rm "$T/jobs/wk.conf"

# --- item 8: a previous fire 11 years back is keyed by its date, not 1970
cat >"$T/jobs/feb.conf" <<'JOB'
name = "feb";
domain = "test";
owner = "tests@example.org";
schedule = "0 0 */31 2 mon";
timezone = "Europe/Berlin";
tasks = ( { id = "a"; plugin = "ok"; stage = "check"; } );
JOB
run_ctl 0 "next of a rare schedule" next feb --from 2027-02-02T00:00:00Z -n 1 --json
eq "$(jq -r '(.fires[0].fire_us / 1000000 | floor | todate) + " " + .fires[0].partition' "$T/out")" "2038-01-31T23:00:00Z 2027-02-01" "the fire 11 years on closes the partition of 2027-02-01"
finish
