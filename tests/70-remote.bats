#!/usr/bin/env bats
# Remote hosts (-S, --hosts-file, --ssh): tasks run over ssh on a private
# sshd that listens on 127.0.0.1, 127.0.0.2 and 127.0.0.3 (this machine
# under three names), with its own keys and config (tests/sshd.bash).
#
# An ssh connection takes a second or two here: the tests run few remote
# tasks and give them generous bounds.  The remote host is this machine, so
# `pgrep -f "$marker"` finds remote processes too.

bats_require_minimum_version 1.5.0
load helpers
load sshd

setup_file() {
	sshd_start
}

teardown_file() {
	sshd_stop
}

setup() {
	sshd_require
	common_setup
	unset ALLOTER_TASK_NAME ALLOTER_TASK_INDEX
}

teardown() {
	common_teardown
	sshd_kill_sessions
}

# only_task_lines TEXT : TEXT without alloter's own lines.
only_task_lines() {
	grep -v '^alloter: ' <<<"$1" || true
}

# max_of FILE : the largest number in FILE (one a line), 0 if none.
max_of() {
	sort -n "$1" 2>/dev/null | tail -n 1 | grep . || echo 0
}

# ---- streams and statuses ----

@test "remote: stdout, stderr and the exit status come back intact" {
	run --separate-stderr ralloter -S 127.0.0.2 \
		"seq 1 20000; echo \"it's \\\$dollar \\\"quoted\\\"\"; seq 1 3000 >&2; echo last-err >&2; exit 3"
	echo "status $status; stderr: $(head -c 2000 <<<"$stderr")"
	[ "$status" -eq 1 ]
	[ "$output" = "$(seq 1 20000; echo "it's \$dollar \"quoted\"")" ]
	[ "$(only_task_lines "$stderr")" = "$(seq 1 3000; echo last-err)" ]
	[ -n "$(line_with "$stderr" "task '1': exit status 3")" ]
	[[ $(summary_line "$stderr") == *"0 succeeded, 1 failed"* ]]
}

@test "remote: a command of 70 KB runs: its payload has no 60 KiB limit" {
	long=$(head -c 70000 /dev/zero | tr '\0' a)
	run --separate-stderr ralloter -S 127.0.0.2 "x=$long; echo \${#x}"
	echo "status $status; stderr: $(head -c 2000 <<<"$stderr")"
	[ "$status" -eq 0 ]
	[ "$output" = 70000 ]
}

@test "remote: a template's arguments reach the remote command as one word each" {
	run --separate-stderr ralloter -j 1 -S 127.0.0.2 --tag "printf '[%s]\\n' {}" ::: 'a b' '$HOME' "it's" '`id`'
	echo "status $status; stderr: $(head -c 2000 <<<"$stderr"); output: $output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '127.0.0.2:%s\t[%s]\n' 'a b' 'a b' '$HOME' '$HOME' "it's" "it's" '`id`' '`id`')" ]
}

@test "remote: a task that succeeds gives exit status 0" {
	run --separate-stderr ralloter -S 127.0.0.2 'echo fine' 'true'
	echo "status $status; stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = fine ]
	[[ $(summary_line "$stderr") == *"2 succeeded, 0 failed"* ]]
	[ -z "$(grep -i 'host' <<<"$stderr")" ]
}

@test "remote: a task killed by SIGSEGV is reported as killed by SIGSEGV" {
	run --separate-stderr ralloter -S 127.0.0.2 'echo before; kill -SEGV $$'
	echo "status $status; stdout: $output; stderr: $stderr"
	[ "$status" -eq 1 ]
	[ -n "$(line_with "$stderr" "task '1': killed by SIGSEGV")" ]
	[ -z "$(line_with "$stderr" "exit status")" ]
	[ "$output" = before ]
}

@test "remote: a task killed by a signal adds nothing to its output (as locally)" {
	# Locally, a task that dies of a signal writes nothing about it; the
	# remote side must not add the shell's "Segmentation fault" either.
	run --separate-stderr ralloter -S 127.0.0.2 'echo before; echo to-err >&2; kill -SEGV $$'
	echo "status $status; stdout: $output; stderr: $stderr"
	[ "$status" -eq 1 ]
	[ "$output" = before ]
	[ "$(only_task_lines "$stderr")" = to-err ]
}

@test "remote: a task's exit status 255 is the task's, not a transport error" {
	run --separate-stderr ralloter -S 2/127.0.0.2 'echo oops >&2; exit 255' 'echo other'
	echo "status $status; stdout: $output; stderr: $stderr"
	[ "$status" -eq 1 ]
	[ -n "$(line_with "$stderr" "task '1': exit status 255")" ]
	[ -z "$(line_with "$stderr" "rotation")" ]
	[ -z "$(line_with "$stderr" "cannot be used")" ]
	[ "$output" = other ]
	[[ $(summary_line "$stderr") == *"1 succeeded, 1 failed"* ]]
}

# outcome REPORT JOBLOG INDEX : prints how the report and the joblog give the
# end of task INDEX: "status exit_code signal | Exitval Signal".
outcome() {
	python3 -c '
import json, sys
t = [t for t in json.load(open(sys.argv[1]))["tasks"] if t["index"] == int(sys.argv[2])][0]
print(t["status"], t["exit_code"], t["signal"], end=" | ")
' "$1" "$3"
	awk -F'\t' -v i="$3" '$1 == i { print $7, $8 }' "$2"
}

# same_as_here ARGS... : runs alloter ARGS here, then on 127.0.0.2, each with
# a report and a joblog, and fails unless task 1 ends the same in both.
same_as_here() {
	local here there
	alloter --report "$T/here.json" --joblog "$T/here.log" "$@" >/dev/null 2>&1 || true
	here=$(outcome "$T/here.json" "$T/here.log" 1)
	rm -f "$T"/started*
	ralloter -S 2/127.0.0.2 --report "$T/there.json" --joblog "$T/there.log" "$@" \
		>/dev/null 2>"$T/there.err" || true
	there=$(outcome "$T/there.json" "$T/there.log" 1)
	echo "here:  $here"
	echo "there: $there"
	cat "$T/there.err"
	[ -n "$here" ]
	[ "$here" = "$there" ]
}

@test "remote: a crash is in the report and the joblog as for a local task" {
	same_as_here 'kill -SEGV $$'
}

@test "remote: a task past -T is in the report and the joblog as for a local task" {
	same_as_here -T 4s "touch '$T/started1'; exec '$SLEEP' 310"
}

@test "remote: a task ended by -k is in the report and the joblog as for a local task" {
	same_as_here -k "touch '$T/started1'; exec '$SLEEP' 311" \
		"i=0; while [ ! -e '$T/started1' ]; do i=\$((i + 1)); [ \$i -gt 300 ] && break; sleep 0.05; done; exit 7"
}

# ---- hosts, slots and failover ----

@test "remote: per-host slots are honoured (1/127.0.0.2,2/127.0.0.3, 6 tasks)" {
	mkdir "$T/running"
	# Each task marks itself running under its host's address, records
	# how many run on its host and in all, sleeps, and unmarks itself.
	cmd='set -- $SSH_CONNECTION; h=$3; f="@D@/$h.$ALLOTER_TASK_INDEX"
: >"$f"
ls @D@ | grep -c "^$h\\." >>"@R@/count.$h"
ls @D@ | wc -l >>"@R@/count.all"
sleep 2
rm -f "$f"
echo "ran on $h"'
	cmd=${cmd//@D@/$T/running}
	cmd=${cmd//@R@/$T}
	run --separate-stderr ralloter -S 1/127.0.0.2,2/127.0.0.3 \
		"$cmd" "$cmd" "$cmd" "$cmd" "$cmd" "$cmd"
	echo "status $status; stdout: $output; stderr: $stderr"
	for f in "$T"/count.*; do echo "$f: $(tr '\n' ' ' <"$f")"; done
	[ "$status" -eq 0 ]
	[ "$(grep -c '^ran on ' <<<"$output")" -eq 6 ]
	[ "$(cat "$T"/count.127.0.0.2 "$T"/count.127.0.0.3 | wc -l)" -eq 6 ]
	[ ! -e "$T/count.127.0.0.1" ]
	[ "$(max_of "$T/count.127.0.0.2")" -le 1 ]
	[ "$(max_of "$T/count.127.0.0.3")" -le 2 ]
	[ "$(max_of "$T/count.all")" -le 3 ]
	# both hosts were used
	[ -s "$T/count.127.0.0.2" ]
	[ -s "$T/count.127.0.0.3" ]
}

@test "remote: with hosts and no -j, the hosts' slots add up (no overall CPU limit)" {
	# Three tasks on 1 + 2 slots: each waits until all three run at once.
	cmd="touch '$T/in.'\$ALLOTER_TASK_INDEX; i=0
while [ \$(ls '$T' | grep -c '^in\\.') -lt 3 ]; do
	i=\$((i + 1)); [ \$i -gt 300 ] && exit 9; sleep 0.05
done"
	run --separate-stderr ralloter -S 1/127.0.0.2,2/127.0.0.3 "$cmd" "$cmd" "$cmd"
	echo "status $status; stderr: $stderr"
	[ "$status" -eq 0 ]
}

@test "remote: without SLOTS/, a host gets as many slots as it has CPUs" {
	np=$(getconf _NPROCESSORS_ONLN)
	[ "$np" -le 6 ] || skip "$np CPUs: too many remote tasks for this test"
	# The first NP tasks wait until NP run at once; one more task follows.
	cmd="touch '$T/in.'\$ALLOTER_TASK_INDEX; ls '$T' | grep -c '^in\\.' >>'$T/count'; i=0
if [ \$ALLOTER_TASK_INDEX -le $np ]; then
	while [ \$(ls '$T' | grep -c '^in\\.') -lt $np ]; do
		i=\$((i + 1)); [ \$i -gt 300 ] && exit 9; sleep 0.05
	done
fi
sleep 1; rm '$T/in.'\$ALLOTER_TASK_INDEX"
	set --
	for i in $(seq $((np + 1))); do set -- "$@" "$cmd"; done
	run --separate-stderr ralloter -S 127.0.0.2 "$@"
	echo "status $status; stderr: $stderr; counts: $(tr '\n' ' ' <"$T/count")"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$T/count")" -eq $((np + 1)) ]
	[ "$(max_of "$T/count")" -le "$np" ]
}

@test "remote: user@host:port is honoured over the ssh config's user and port" {
	# This config names a user that may not log in and a closed port.
	sed -e 's/^\tUser .*/\tUser nobody/' -e 's/^\tPort .*/\tPort 1/' \
		"$SSH_CONFIG" >"$T/ssh_config"
	grep -q 'Port 1$' "$T/ssh_config"
	host="$(id -un)@127.0.0.2:$SSHD_PORT"
	run --separate-stderr alloter --ssh "ssh -F $T/ssh_config" -S "1/$host" \
		--tag --joblog "$T/log" 'echo hello'
	echo "status $status; stdout: $output; stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '%s:1\thello' "$host")" ]
	[ "$(awk -F'\t' 'NR == 2 { print $2 }' "$T/log")" = "$host" ]
}

@test "remote: -j adds an overall bound to the hosts' slots" {
	cmd="touch '$T/in.'\$ALLOTER_TASK_INDEX; ls '$T' | grep -c '^in\\.' >>'$T/count'; sleep 1; rm '$T/in.'\$ALLOTER_TASK_INDEX"
	run --separate-stderr ralloter -j 1 -S 2/127.0.0.2,2/127.0.0.3 "$cmd" "$cmd"
	echo "status $status; stderr: $stderr; counts: $(tr '\n' ' ' <"$T/count")"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$T/count")" -eq 2 ]
	[ "$(max_of "$T/count")" -eq 1 ]
}

@test "remote: a host on a wrong port is taken out of rotation and the run succeeds" {
	# Two slots on each: two tasks go to the bad host at once (the first
	# host wins a tie), and it is still reported once.
	t='echo task-$ALLOTER_TASK_INDEX'
	run --separate-stderr ralloter -S 2/127.0.0.1:1,2/127.0.0.2 "$t" "$t" "$t" "$t"
	echo "status $status; stdout: $output; stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$(sort <<<"$output")" = "$(printf 'task-%s\n' 1 2 3 4)" ]
	[ "$(grep -c "127.0.0.1:1" <<<"$stderr")" -eq 1 ]
	line=$(line_with "$stderr" "host '127.0.0.1:1': taken out of rotation")
	[ -n "$line" ]
	[[ $line == *"Connection refused"* ]]
	[[ $(summary_line "$stderr") == *"4 succeeded, 0 failed"* ]]
}

@test "remote: a host that cannot be probed is reported once and not used" {
	run --separate-stderr ralloter -S 127.0.0.1:1,127.0.0.2 --joblog "$T/log" \
		'echo one' 'echo two'
	echo "status $status; stdout: $output; stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$(grep -c "127.0.0.1:1" <<<"$stderr")" -eq 1 ]
	line=$(line_with "$stderr" "host '127.0.0.1:1': cannot be used")
	[[ $line == *"Connection refused"* ]]
	[ "$(sort <<<"$output")" = "$(printf '%s\n' one two)" ]
	[ "$(awk -F'\t' 'NR > 1 { print $2 }' "$T/log" | sort -u)" = 127.0.0.2 ]
}

@test "remote: with no host reachable, the task fails with 'no host can run it'" {
	run --separate-stderr ralloter -S 1/127.0.0.1:1 "touch '$T/ran'"
	echo "status $status; stderr: $stderr"
	[ "$status" -eq 1 ]
	[ -n "$(line_with "$stderr" "task '1': no host can run it")" ]
	[ ! -e "$T/ran" ]
}

# ---- output, joblog, report ----

@test "remote: --tag prefixes the lines with host:name" {
	run --separate-stderr ralloter -S 127.0.0.2 --tag 'echo hello; echo oops >&2'
	echo "status $status; stdout: $output; stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '127.0.0.2:1\thello')" ]
	[ "$(only_task_lines "$stderr")" = "$(printf '127.0.0.2:1\toops')" ]
}

@test "remote: --tag in line mode tags every line with host:name" {
	run --separate-stderr ralloter -S 127.0.0.3 --tag -o line 'echo a; echo b'
	echo "status $status; stdout: $output; stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '127.0.0.3:1\ta\n127.0.0.3:1\tb')" ]
}

@test "remote: ':' runs here, without ssh" {
	SSH_CONNECTION= run --separate-stderr alloter --ssh /bin/false -S : \
		'echo "local:${SSH_CONNECTION:-none}"'
	echo "status $status; stdout: $output; stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = local:none ]
}

@test "remote: with every host slot taken, alloter waits for a task's end without spinning" {
	# stdin holds more lines than the one slot can take: a runner that
	# watched stdin while waiting for the slot would spin on it.
	local TIMEFORMAT='%U %S %R' t
	t=$( { time alloter -q -S 1/: -j 4 \
		< <(printf '%s\n' "$SLEEP 1" "$SLEEP 1" true) >/dev/null; } 2>&1 )
	echo "user sys wall: $t"
	read -r user sys wall <<<"$t"
	awk -v u="$user" -v s="$sys" 'BEGIN { exit !(u + s < 0.5) }'
	awk -v w="$wall" 'BEGIN { exit !(w >= 1.9) }'
}

@test "remote: --joblog and --report name the host; ':' is here" {
	# The two tasks wait for each other: with one slot on each host, they
	# run at once, one here and one on 127.0.0.2.
	cmd="touch '$T/in.'\$ALLOTER_TASK_INDEX; i=0
while [ \$(ls '$T' | grep -c '^in\\.') -lt 2 ]; do
	i=\$((i + 1)); [ \$i -gt 300 ] && exit 9; sleep 0.05
done
set -- \$SSH_CONNECTION; echo \"\$ALLOTER_TASK_INDEX \${3:-here}\""
	SSH_CONNECTION= run --separate-stderr ralloter -S 1/:,1/127.0.0.2 \
		--joblog "$T/log" --report "$T/report.json" "$cmd" "$cmd"
	echo "status $status; stdout: $output; stderr: $stderr"
	cat "$T/log"
	[ "$status" -eq 0 ]
	[ "$(awk '{print $2}' <<<"$output" | sort)" = "$(printf '%s\n' 127.0.0.2 here)" ]
	[ "$(head -n 1 "$T/log" | cut -f 2)" = Host ]
	[ "$(wc -l <"$T/log")" -eq 3 ]
	# the joblog's host of each task is where it said it ran
	while read -r idx where; do
		want=$where
		[ "$want" = here ] && want=:
		[ "$(awk -F'\t' -v i="$idx" '$1 == i { print $2 }' "$T/log")" = "$want" ]
		got=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print([t["host"] for t in r["tasks"] if t["index"] == int(sys.argv[2])][0])
' "$T/report.json" "$idx")
		[ "$got" = "$want" ]
	done <<<"$output"
}

# ---- hosts file ----

@test "remote: --hosts-file reads one host a line, with comments and blank lines" {
	cat >"$T/hosts" <<'EOF'
# the test hosts
   1/127.0.0.2    # trailing comment

	1/127.0.0.3
# 1/127.0.0.1:1  (commented out)
EOF
	cmd="touch '$T/in.'\$ALLOTER_TASK_INDEX; i=0
while [ \$(ls '$T' | grep -c '^in\\.') -lt 2 ]; do
	i=\$((i + 1)); [ \$i -gt 300 ] && exit 9; sleep 0.05
done
set -- \$SSH_CONNECTION; echo \"\$3\""
	run --separate-stderr ralloter --hosts-file "$T/hosts" "$cmd" "$cmd"
	echo "status $status; stdout: $output; stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$(sort <<<"$output")" = "$(printf '%s\n' 127.0.0.2 127.0.0.3)" ]
	[ -z "$(grep -i host <<<"$stderr")" ]
}

@test "remote: an invalid line in --hosts-file is a usage error naming the line" {
	printf '# hosts\n1/127.0.0.2\n0/127.0.0.3\n' >"$T/hosts"
	run --separate-stderr ralloter --hosts-file "$T/hosts" "touch '$T/ran'"
	echo "status $status; stderr: $stderr"
	[ "$status" -eq 2 ]
	[[ $stderr == *"$T/hosts:3:"* ]]
	[ ! -e "$T/ran" ]
}

# ---- environment ----

@test "remote: ALLOTER_TASK_INDEX and ALLOTER_TASK_NAME are set on the remote host" {
	run --separate-stderr ralloter -S 2/127.0.0.2 \
		'echo "$ALLOTER_TASK_INDEX:$ALLOTER_TASK_NAME:${SSH_CONNECTION:+remote}"' \
		'echo "$ALLOTER_TASK_INDEX:$ALLOTER_TASK_NAME:${SSH_CONNECTION:+remote}"'
	echo "status $status; stdout: $output; stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$(sort <<<"$output")" = "$(printf '%s\n' 1:1:remote 2:2:remote)" ]
}

@test "remote: a task file's names and env reach the remote task as they do locally" {
	cat >"$T/tasks.yaml" <<'EOF'
env:
  GREETING: "it's a \"test\" $HOME; `x` \\ end"
tasks:
  - name: alpha
    run: printf '%s|%s|%s|%s\n' "$ALLOTER_TASK_NAME" "$ALLOTER_TASK_INDEX" "$GREETING" "$OWN"
    env:
      OWN: first value
  - name: beta
    run: printf '%s|%s|%s|%s\n' "$ALLOTER_TASK_NAME" "$ALLOTER_TASK_INDEX" "$GREETING" "$OWN"
    env:
      OWN: "second 'value'"
EOF
	want=$(printf '%s\n' \
		"alpha|1|it's a \"test\" \$HOME; \`x\` \\ end|first value" \
		"beta|2|it's a \"test\" \$HOME; \`x\` \\ end|second 'value'")
	run --separate-stderr alloter -f "$T/tasks.yaml"
	echo "locally: status $status; stdout: $output; stderr: $stderr"
	if [ "$status" -ne 0 ] || [ "$(sort <<<"$output")" != "$want" ]; then
		skip "the task file's env: does not work locally either"
	fi
	run --separate-stderr ralloter -f "$T/tasks.yaml" -S 2/127.0.0.3
	echo "remotely: status $status; stdout: $output; stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$(sort <<<"$output")" = "$want" ]
}

@test "remote: a task file's retries run again on the hosts" {
	cat >"$T/tasks.yaml" <<EOF
tasks:
  - name: flaky
    run: test -e '$T/tried' || { touch '$T/tried'; echo first-try >&2; exit 4; }
    retries: 1
EOF
	run --separate-stderr ralloter -f "$T/tasks.yaml" -S 127.0.0.2 --report "$T/report.json"
	echo "status $status; stdout: $output; stderr: $stderr"
	[ "$status" -eq 0 ]
	[ -n "$(line_with "$stderr" "task 'flaky': exit status 4 (attempt 1 of 2; retrying)")" ]
	python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["tasks"][0]
assert t["status"] == "succeeded", t
assert t["attempts"] == 2, t
assert t["host"] == "127.0.0.2", t
' "$T/report.json"
}

@test "remote: tasks read from standard input run on the hosts" {
	run --separate-stderr ralloter -S 2/127.0.0.2 --tag < <(printf '%s\n' 'echo s1' '# comment' 'echo s2')
	echo "status $status; stdout: $output; stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$(sort <<<"$output")" = "$(printf '127.0.0.2:1\ts1\n127.0.0.2:2\ts2')" ]
}

# ---- terminating remote tasks ----

@test "remote: -x starts no new task after a remote failure" {
	run --separate-stderr ralloter -x -S 1/127.0.0.2 'exit 3' "touch '$T/ran2'"
	echo "status $status; stderr: $stderr"
	[ "$status" -eq 1 ]
	[ ! -e "$T/ran2" ]
	[[ $(summary_line "$stderr") == *"0 succeeded, 1 failed, 1 skipped"* ]]
}

@test "remote: -t ends the run (124) and leaves no remote process, even one ignoring TERM" {
	timed_run --separate-stderr ralloter -g 1 -t 6s -S 2/127.0.0.2 \
		"touch '$T/started1'; exec '$SLEEP' 301" \
		"trap '' TERM; touch '$T/started2'; '$SLEEP' 302"
	t0=$(now_ms)
	echo "status $status after $elapsed_ms ms; stderr: $stderr"
	[ "$status" -eq 124 ]
	[ -e "$T/started1" ]
	[ -e "$T/started2" ]
	assert_marker_gone "$t0" 3
	assert_remote_clean "$t0" 3
}

@test "remote: -T times a remote task out and leaves no remote process" {
	run --separate-stderr ralloter -T 6s -S 127.0.0.2 \
		"touch '$T/started1'; exec '$SLEEP' 303"
	t0=$(now_ms)
	echo "status $status; stderr: $stderr"
	[ "$status" -eq 1 ]
	[ -e "$T/started1" ]
	[ -n "$(line_with "$stderr" "timed out after")" ]
	assert_marker_gone "$t0" 4
	assert_remote_clean "$t0" 4
}

@test "remote: -k terminates the other remote tasks and leaves no remote process" {
	run --separate-stderr ralloter -k -S 2/127.0.0.2 \
		"touch '$T/started1'; exec '$SLEEP' 304" \
		"i=0; while [ ! -e '$T/started1' ]; do i=\$((i + 1)); [ \$i -gt 300 ] && break; sleep 0.05; done; exit 7"
	t0=$(now_ms)
	echo "status $status; stderr: $stderr"
	[ "$status" -eq 1 ]
	[ -e "$T/started1" ]
	[ -n "$(line_with "$stderr" "task '2': exit status 7")" ]
	assert_marker_gone "$t0" 4
	assert_remote_clean "$t0" 4
}

@test "remote: SIGINT to alloter exits 130 and leaves no remote process" {
	start_bg --ssh "$ALLOTER_SSH" -S 2/127.0.0.2 \
		"touch '$T/started1'; exec '$SLEEP' 305" \
		"touch '$T/started2'; exec '$SLEEP' 306"
	wait_for_file "$T/started1" 20
	wait_for_file "$T/started2" 20
	kill -INT "$BG_PID"
	wait_bg 15
	t0=$(now_ms)
	echo "status $bg_status; stderr: $(cat "$T/err")"
	[ "$bg_status" -eq 130 ]
	[[ $(summary_line "$(cat "$T/err")") == *"0 succeeded"* ]]
	assert_marker_gone "$t0" 4
	assert_remote_clean "$t0" 4
}

@test "remote: -t ends a task's setsid descendant on the remote host too" {
	start_bg --ssh "$ALLOTER_SSH" -g 1 -t 3 -S 127.0.0.2 \
		"setsid '$SLEEP' 312 & touch '$T/started1'; '$SLEEP' 311"
	wait_for_file "$T/started1" 20
	for _ in $(seq 100); do pgrep -f -- "$T/sleep 312" >/dev/null && break; sleep 0.05; done
	pgrep -f -- "$T/sleep 312" >/dev/null
	wait_bg 20
	t0=$(now_ms)
	[ "$bg_status" -eq 124 ]
	assert_marker_gone "$t0" 3
	assert_remote_clean "$t0" 3
}

@test "remote: SIGKILL of alloter leaves no remote process within grace + 2 s" {
	start_bg --ssh "$ALLOTER_SSH" -g 1 -S 2/127.0.0.2 \
		"trap '' TERM; touch '$T/started1'; '$SLEEP' 307" \
		"touch '$T/started2'; exec '$SLEEP' 308"
	wait_for_file "$T/started1" 20
	wait_for_file "$T/started2" 20
	# the remote tasks do run (so the check below is not vacuous)
	pgrep -f -- "$T/sleep 307" >/dev/null
	pgrep -f -- "$T/sleep 308" >/dev/null
	kill -KILL "$BG_PID"
	t0=$(now_ms)
	wait_bg 5
	# grace 1 s + 2 s
	assert_marker_gone "$t0" 3
	assert_remote_clean "$t0" 3
}

@test "remote: SIGKILL of the local ssh leaves no remote process within grace + 2 s" {
	start_bg --ssh "$ALLOTER_SSH" -g 1 -S 127.0.0.2 \
		"trap '' TERM; touch '$T/started1'; '$SLEEP' 309"
	wait_for_file "$T/started1" 20
	pgrep -f -- "$T/sleep 309" >/dev/null
	pid=$(pgrep -P "$BG_PID" -x ssh)
	[ -n "$pid" ]
	kill -KILL "$pid"
	t0=$(now_ms)
	wait_bg 10
	echo "status $bg_status; stderr: $(cat "$T/err")"
	assert_marker_gone "$t0" 3
	assert_remote_clean "$t0" 3
	[ "$bg_status" -eq 1 ]
}

@test "remote: ALLOTER_TASK_SLOT is set on the remote host, from 1 to the limit" {
	run --separate-stderr ralloter -j 1 -S 2/127.0.0.2 'echo "${ALLOTER_TASK_SLOT:-none}"' 'echo "${ALLOTER_TASK_SLOT:-none}"'
	echo "status $status; stdout: $output; stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = $'1\n1' ]
}
