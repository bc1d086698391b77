#!/bin/sh
# End-to-end: governance policies (meshd.conf `policies`).  Each policy is
# broken by one job: meshctl validate names the job file and line, the job,
# the task, the plugin or product and the policy, and exits 1; meshd
# refuses only the violating jobs (and a job reading what a refused job
# builds), logs why, and runs the others.  Whatever the policies, a product
# declared by two plugins or built by two jobs is refused.  A check result
# of unknown severity fails its attempt, naming the check and the severity.
. "$(dirname "$0")/e2e-lib.sh"
MESHD=${MESHD:-$top_builddir/meshd}
pids=""
trap 'for p in $pids; do kill -9 $p 2>/dev/null; done; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT

# The plugins of domain "pol" live in $T/secure (policy plugin_domains).
mkdir -p "$T/secure"
cp "$TP/pol.so" "$T/secure/pol.so"
cp "$TP/ok.so" "$T/secure/ok.so"
cp "$TP/pol_foreign.so" "$T/secure/pol_foreign.so"
cp "$TP/pol_dup.so" "$T/secure/pol_dup.so"
SP="$T/secure/pol.so"

# pjob NAME DOMAIN PLUGIN PRODUCT MODE [EXTRA...]: a job whose tasks are on
# fixed lines: extract on 3; MODE full: check on 4, publish on 5; nocheck:
# publish on 4; extract: extract only.
pjob() {
	name=$1 dom=$2 plug=$3 prod=$4 mode=$5
	shift 5
	{
		echo "name = \"$name\"; domain = \"$dom\"; owner = \"t@example.org\";"
		echo 'tasks = ('
		if [ "$mode" = extract ]; then
			echo "  { id = \"extract\"; plugin = \"$plug\"; stage = \"extract\"; }"
		else
			echo "  { id = \"extract\"; plugin = \"$plug\"; stage = \"extract\"; },"
		fi
		[ "$mode" = full ] && echo "  { id = \"check\"; plugin = \"$plug\"; stage = \"check\"; after = [ \"extract\" ]; },"
		[ "$mode" = full ] && echo "  { id = \"publish\"; plugin = \"$plug\"; stage = \"publish\"; after = [ \"check\" ]; product = \"$prod\"; }"
		[ "$mode" = nocheck ] && echo "  { id = \"publish\"; plugin = \"$plug\"; stage = \"publish\"; after = [ \"extract\" ]; product = \"$prod\"; }"
		echo ');'
		for l in "$@"; do echo "$l"; done
	} >"$T/jobs/$name.conf"
}

POLICIES='policies = {
  require_owner = true;
  require_error_check = true; allow_publish_without_check = true;
  pii_locations = [ "/srv/secure/", "s3://secure/" ];
  plugin_domains = { pol = "secure"; };
  contract_version = "^[0-9]+\\.[0-9]+$";
};'

# --- jobs that meet every policy
pjob good pol "$SP" pol.good full
pjob plain pol "$SP" pol.plain full
pjob piimoved pol "$SP" pol.piinoloc full \
    'products = ( { name = "pol.piinoloc"; location = "s3://secure/piinoloc"; } );'
pjob reader pol "$SP" - extract \
    'inputs = ( { product = "pol.good"; partitions = "latest"; } );'
# A policy meshd does not know would not be enforced: an error, not a
# warning, that names the policy meant.
conf "${POLICIES%\};}  require_ownr = true;
};"
run_ctl 1 "an unknown policy refuses meshd.conf" validate
has "$T/err" "meshd.conf:13: error: unknown key 'require_ownr' in 'policies' (a policy this meshd does not know is not enforced); did you mean 'require_owner'?" "an unknown policy is an error at its line, with the policy meant"
conf "$POLICIES"
run_ctl 0 "jobs meeting every policy validate" validate
hasnt "$T/err" "unknown" "no unknown key"
run_ctl 0 "validate --json with policies" validate --json
eq "$(jq -r '.ok' "$T/out")" "true" "validate --json: ok"
hasnt "$T/err" "piimoved" "a job file may move a pii product to an allowed place"
rm "$T/jobs/piimoved.conf"

# --- one job per policy broken
pjob noowner pol "$SP" pol.noowner full
pjob nocheck pol "$SP" pol.plain nocheck
# (nocheck also builds pol.plain, which plain builds: as nocheck is
# refused, plain keeps it)
pjob piiopen pol "$SP" pol.piiopen full
pjob piinoloc pol "$SP" pol.piinoloc full
pjob piiover pol "$SP" pol.pii2 full \
    'products = ( { name = "pol.pii2"; location = "/tmp/open/pii2"; } );'
pjob badver pol "$SP" pol.badver full
pjob outside pol pol pol.good extract
pjob intruder test "$T/secure/ok.so" test.ok extract
pjob foreign pol "$T/secure/pol_foreign.so" ops.stolen extract
pjob jobdom ops "$SP" pol.other full
# not policies: a product declared by two plugins, built by two jobs (both
# refused: neither may take it from the other)
pjob zdup pol "$T/secure/pol_dup.so" pol.good extract
pjob twin1 pol "$SP" pol.other full
pjob twin2 pol "$SP" pol.other full
# reads what a refused job builds
pjob zreader pol "$SP" pol.pii2 extract \
    'inputs = ( { product = "pol.noowner"; partitions = "latest"; } );'

run_ctl 1 "validate refuses each violation" validate
E="$T/err"
has "$E" "noowner.conf:5: error: job 'noowner' task 'publish': product 'pol.noowner' has no owner: plugin 'pol' ($SP) does not set it (policy require_owner)" "require_owner: job, task, product, plugin, policy, line"
has "$E" "nocheck.conf:4: error: job 'nocheck' task 'publish': product 'pol.plain' is published with no check task before it (policy require_error_check)" "require_error_check"
has "$E" "piiopen.conf:5: error: job 'piiopen' task 'publish': product 'pol.piiopen' is tagged pii and its location /tmp/open/piiopen is not an allowed one (policy pii_locations)" "pii_locations: the descriptor's location"
has "$E" "piinoloc.conf:5: error: job 'piinoloc' task 'publish': product 'pol.piinoloc' is tagged pii and has no location (policy pii_locations)" "pii_locations: no location at all"
has "$E" "piiover.conf:5: error: job 'piiover' task 'publish': product 'pol.pii2' is tagged pii and its location /tmp/open/pii2 is not an allowed one (policy pii_locations)" "pii_locations: the job file's location"
has "$E" "badver.conf:5: error: job 'badver' task 'publish': product 'pol.badver' has contract version 'v1', which does not match ^[0-9]+\\.[0-9]+\$ (policy contract_version)" "contract_version"
has "$E" "outside.conf:3: error: job 'outside' task 'extract': plugin 'pol' ($TP/pol.so) of domain 'pol' is not in $T/secure (policy plugin_domains)" "plugin_domains: a domain's plugin elsewhere"
has "$E" "intruder.conf:3: error: job 'intruder' task 'extract': plugin 'ok' ($T/secure/ok.so) is in $T/secure, the plugins of domain 'pol', but is of domain 'test' (policy plugin_domains)" "plugin_domains: another domain's plugin in the directory"
has "$E" "foreign.conf:3: error: job 'foreign' task 'extract': plugin 'pol_foreign' ($T/secure/pol_foreign.so) of domain 'pol' declares product 'ops.stolen' of another domain (policy own_domain)" "own_domain: a plugin declaring another domain's product"
has "$E" "jobdom.conf:5: error: job 'jobdom' task 'publish': job of domain 'ops' builds product 'pol.other' of another domain (policy own_domain)" "own_domain: a job building another domain's product"
has "$E" "zdup.conf:3: error: job 'zdup' task 'extract': plugin 'pol_dup' ($T/secure/pol_dup.so) declares product 'pol.good', which plugin 'pol' ($SP) declares too; a product has one producing plugin" "a product declared by two plugins names both"
has "$E" "twin1.conf:5: error: job 'twin1' task 'publish': product 'pol.other' is also built by job 'twin2' ($T/jobs/twin2.conf:5); a product has one producing job: both are refused" "a product built by two jobs names both"
has "$E" "twin2.conf:5: error: job 'twin2' task 'publish': product 'pol.other' is also built by job 'twin1' ($T/jobs/twin1.conf:5)" "and refuses both"
hasnt "$E" "also built by job 'nocheck'" "a refused job does not take a product from a good one"
has "$E" "zreader.conf:5: error: job 'zreader': input 'pol.noowner': job 'noowner', which builds it, is refused" "validate refuses the reader of a refused job's product, as meshd does"
hasnt "$E" "also built by job 'jobdom'" "nor does a job refused for its domain"
for j in good plain reader; do hasnt "$E" "error: job '$j'" "$j is not blamed"; done
run_ctl 1 "validate --json lists the violations" validate --json
eq "$(jq '[.diagnostics[] | select(.level == "error")] | length' "$T/out")" "14" "validate --json: one error per violation, and one for the reader of a refused job's product"
eq "$(jq -r '.broken | join(" ")' "$T/out")" "badver foreign intruder jobdom nocheck noowner outside piinoloc piiopen piiover twin1 twin2 zdup zreader" "validate --json: broken names every job meshd refuses, and only those"

# --- meshctl run, which runs a job without meshd, refuses it as meshd would
run_ctl 1 "meshctl run refuses a violating job" run noowner
has "$E" "noowner.conf:5: error: job 'noowner' task 'publish': product 'pol.noowner' has no owner" "and says why"
has "$E" "job 'noowner' is refused (above): meshd would not run it" "and that meshd would not run it"
hasnt "$E" "badver.conf" "only the job's own violations"
eq "$(sql "SELECT count(*) FROM runs" 2>/dev/null || echo 0)" "0" "nothing ran"

# --- meshd refuses the violating jobs only, and says why
"$MESHD" -c "$T/meshd.conf" >"$T/meshd.log" 2>&1 &
mpid=$!
pids="$pids $mpid"
run_ctl 0 "trigger a good job" trigger good
run_ctl 0 "trigger a job that reads it" trigger reader
run_ctl 0 "trigger a refused job" trigger noowner
run_ctl 0 "trigger a job reading a refused job's product" trigger zreader
waitsql "meshd runs the good job" "success" "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'good'"
waitsql "and the job reading it" "success" "SELECT r.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'reader'"
waitsql "but not a violating job" "failed unknown job 'noowner'" "SELECT state || ' ' || result FROM requests WHERE job = 'noowner'"
waitsql "nor one reading what it builds" "failed unknown job 'zreader'" "SELECT state || ' ' || result FROM requests WHERE job = 'zreader'"
has "$T/meshd.log" "noowner.conf:5: job 'noowner' task 'publish': product 'pol.noowner' has no owner" "meshd logs why it refused the job"
has "$T/meshd.log" "zreader.conf:5: job 'zreader': input 'pol.noowner': job 'noowner', which builds it, is refused" "and why it refused its reader"
# on reload too: a new violating job is refused, the others keep running
pjob late pol pol pol.good extract
kill -HUP "$mpid"
i=0
while [ "$i" -lt 100 ] && ! grep -q "reloaded:" "$T/meshd.log"; do sleep 0.1; i=$((i + 1)); done
has "$T/meshd.log" "late.conf:3: job 'late' task 'extract': plugin 'pol' ($TP/pol.so) of domain 'pol' is not in $T/secure (policy plugin_domains)" "a reload refuses a new violating job, and says why"
has "$T/meshd.log" "reloaded: 3 jobs" "and keeps the good ones"
kill -TERM "$mpid"
wait "$mpid"

# --- bad policies are config errors at their line
conf 'policies = {' '  contract_version = "([";' '  require_owner = "yes";' \
    '  pii_locations = 5;' '  plugin_domains = { ops = 1; };' '};'
run_ctl 1 "bad policies are refused" validate
has "$E" "meshd.conf:8: error: policies: 'contract_version' \"([\" is not a valid regular expression" "a bad regular expression, at its line"
has "$E" "meshd.conf:9: error: policies: 'require_owner' must be true or false" "a policy of the wrong type"
has "$E" "meshd.conf:10: error: policies: 'pii_locations' must be an array of location prefixes" "pii_locations of the wrong type"
has "$E" "meshd.conf:11: error: policies: plugin_domains: 'ops' must be a directory" "plugin_domains of the wrong type"
# Patterns whose automaton would take gigabytes to compile (found by
# fuzzing) are refused before regcomp() sees them, each with its reason.
for pat in '^[0-9]++++++++++++++++++++$:a repetition of a repetition' \
    '((((a)+)+)+)+:groups nested more than 3 deep' \
    '((a{1,200}){1,200}){1,200}:a counted repetition over 100'; do
	conf 'policies = {' "  contract_version = \"${pat%%:*}\";" '};'
	# (No ulimit -v: a sanitizer build reserves terabytes of address
	# space.  Compiling these would take seconds and gigabytes.)
	timeout 20 "$MESHCTL" validate >"$T/out" 2>"$T/err"
	eq "$?" "1" "contract_version ${pat%%:*} is refused at once"
	has "$E" "${pat#*:}" "and the reason is given: ${pat#*:}"
done
conf 'policies = {' '  contract_version = "^v?[0-9]+\\.[0-9]{1,3}(-(rc|beta)[0-9]*)?$";' '};'
"$MESHCTL" validate >"$T/out" 2>"$T/err"
hasnt "$E" "'contract_version'" "a reasonable contract pattern is accepted"

# --- without a policies group only own_domain and the one-producer rules
rm -f "$T/jobs/"*.conf
conf
pjob noowner pol pol pol.noowner full
pjob foreign pol pol_foreign ops.stolen extract
run_ctl 1 "own_domain is on by default" validate
hasnt "$E" "policy require_owner" "the other policies are off by default"
has "$E" "(policy own_domain)" "own_domain is on by default"
conf 'policies = { own_domain = false; };'
run_ctl 0 "own_domain = false turns it off" validate

# --- a check result of unknown severity fails the attempt
rm -f "$T/jobs/"*.conf
conf
cat >"$T/jobs/sev.conf" <<'JOB'
name = "sev"; domain = "test"; owner = "t@example.org";
tasks = (
  { id = "extract"; plugin = "badseverity"; stage = "extract"; },
  { id = "check"; plugin = "badseverity"; stage = "check"; after = [ "extract" ]; },
  { id = "publish"; plugin = "badseverity"; stage = "publish"; after = [ "check" ]; }
);
JOB
run_ctl 1 "a check of unknown severity fails the run" run sev
has "$T/out" "check 'rows_min': unknown severity 7 (0 error, 1 warn)" "the reason names the check and the severity"
eq "$(sql "SELECT ti.state FROM task_instances ti JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'sev' AND ti.task_id = 'check'")" "failed" "the check task failed"
eq "$(sql "SELECT ti.state FROM task_instances ti JOIN runs r ON r.id = ti.run_id JOIN jobs j ON j.id = r.job_id WHERE j.name = 'sev' AND ti.task_id = 'publish'")" "upstream_failed" "publish did not run"
eq "$(sql "SELECT count(*) FROM check_results WHERE name = 'rows_min'")" "0" "nothing of unknown severity is recorded"
eq "$(sql "SELECT count(*) FROM attempts WHERE reason LIKE '%unknown severity 7%'")" "1" "the attempt's reason says why, once (not retried)"
finish
