#!/usr/bin/env bats
# Reporting: --joblog, --report, -n (dry run), --keep-order, --progress,
# --color, and the list of failed tasks in the summary.

bats_require_minimum_version 1.5.0
load helpers

JOBLOG_HEADER=$'Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand'

# field FILE LINE COLUMN : the tab-separated COLUMN (1-based) of LINE
# (1-based, the header is line 1) of FILE.
field() {
	sed -n "$2p" "$1" | cut -f "$3"
}

# task JSONFILE NAME FILTER : FILTER applied to the report's task NAME,
# printed raw by jq (null prints as "null").
task() {
	jq -r --arg n "$2" ".tasks[] | select(.name == \$n) | $3" "$1"
}

# keys_of JSONFILE NAME : the sorted keys of task NAME, on one line.
keys_of() {
	jq -r --arg n "$2" '.tasks[] | select(.name == $n) | keys_unsorted | sort | join(" ")' "$1"
}

# on_tty COMMAND-STRING : runs COMMAND-STRING under a pseudo-terminal (stdin,
# stdout and stderr all the terminal), with the usual safety time limit;
# $out is what the terminal received, $tty_status the command's status.
on_tty() {
	tty_status=0
	script -qec "timeout -s KILL $ALLOTER_TEST_LIMIT $1" /dev/null </dev/null >"$T/tty" 3>&- ||
		tty_status=$?
	out=$(cat "$T/tty")
}

# q ARGS... : the arguments quoted for the shell, joined with spaces.
q() {
	printf '%q ' "$@"
}

# screen : reads what a terminal received on stdin and prints what it would
# show: carriage returns move to the start of the line, ESC[K erases to its
# end, other escape sequences are dropped.
screen() {
	python3 -c '
import re, sys
data = sys.stdin.buffer.read().decode("utf-8", "replace")
lines, cur, col = [], [], 0
i = 0
while i < len(data):
    c = data[i]
    if c == "\x1b":
        m = re.match(r"\x1b\[[0-9;?]*([A-Za-z])", data[i:])
        if m:
            if m.group(1) == "K":
                del cur[col:]
            i += m.end()
            continue
        i += 1
        continue
    if c == "\r":
        col = 0
    elif c == "\n":
        lines.append("".join(cur))
        cur, col = [], 0
    else:
        if col < len(cur):
            cur[col] = c
        else:
            cur.append(c)
        col += 1
    i += 1
if cur:
    lines.append("".join(cur))
print("\n".join(lines))
'
}

# strip_summary_time : replaces the wall time at the end of the summary line,
# which differs from run to run.
strip_summary_time() {
	sed -E 's/ in [0-9]+(\.[0-9]+)?s$/ in Xs/'
}

# --- job log ----------------------------------------------------------------

@test "the job log starts with GNU parallel's tab-separated header" {
	run --separate-stderr alloter --joblog "$T/jl" true
	[ "$status" -eq 0 ]
	[ "$(head -n 1 "$T/jl")" = "$JOBLOG_HEADER" ]
}

@test "the job log has one line per attempt, retries included" {
	cat >"$T/tasks.yaml" <<-EOF
	tasks:
	  - {name: flaky, run: 'exit 3', retries: 2}
	  - {name: fine, run: 'true'}
	EOF
	run --separate-stderr alloter -j 1 -f "$T/tasks.yaml" --joblog "$T/jl"
	[ "$status" -eq 1 ]
	[ "$(wc -l <"$T/jl")" -eq 5 ]
	[ "$(tail -n +2 "$T/jl" | cut -f1 | sort | tr '\n' ' ')" = "1 1 1 2 " ]
	# every attempt of the flaky task has its exit status
	[ "$(awk -F '\t' 'NR > 1 && $1 == 1 { print $7 }' "$T/jl" | tr '\n' ' ')" = "3 3 3 " ]
}

@test "the job log gives each task's sequence number, host ':' and command" {
	run --separate-stderr alloter -j 1 --joblog "$T/jl" 'echo one' 'echo two'
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$T/jl")" -eq 3 ]
	for n in 2 3; do
		seq=$(field "$T/jl" "$n" 1)
		[ "$(field "$T/jl" "$n" 2)" = : ]
		case $seq in
		1) [ "$(field "$T/jl" "$n" 9)" = 'echo one' ] ;;
		2) [ "$(field "$T/jl" "$n" 9)" = 'echo two' ] ;;
		*) false ;;
		esac
	done
	[ "$(awk -F '\t' '{ print NF }' "$T/jl" | sort -u)" = 9 ]
}

@test "the job log's Starttime is the Unix time of the start with three decimals" {
	t0=$(date +%s)
	run --separate-stderr alloter --joblog "$T/jl" 'sleep 0.2'
	t1=$(date +%s)
	[ "$status" -eq 0 ]
	start=$(field "$T/jl" 2 3)
	echo "Starttime: $start (run between $t0 and $t1)"
	[[ $start =~ ^[0-9]+\.[0-9]{3}$ ]]
	[ "${start%.*}" -ge "$t0" ]
	[ "${start%.*}" -le "$t1" ]
}

@test "the job log's JobRuntime is the attempt's run time in seconds with three decimals" {
	run --separate-stderr alloter --joblog "$T/jl" 'sleep 0.5'
	[ "$status" -eq 0 ]
	rt=$(field "$T/jl" 2 4)
	echo "JobRuntime: $rt"
	[[ $rt =~ ^[0-9]+\.[0-9]{3}$ ]]
	ms=$((10#${rt%.*} * 1000 + 10#${rt#*.}))
	[ "$ms" -ge 450 ]
	[ "$ms" -lt 10000 ]
}

@test "the job log's Exitval is the exit status and Signal is 0 for an exit" {
	run --separate-stderr alloter --joblog "$T/jl" 'exit 3'
	[ "$status" -eq 1 ]
	[ "$(field "$T/jl" 2 7)" = 3 ]
	[ "$(field "$T/jl" 2 8)" = 0 ]
}

@test "the job log's Signal is the number of the signal that killed the task" {
	run --separate-stderr alloter -j 1 --joblog "$T/jl" 'kill -TERM $$' 'kill -KILL $$'
	[ "$status" -eq 1 ]
	[ "$(awk -F '\t' '$1 == 1 { print $8 " " $7 }' "$T/jl")" = "15 0" ]
	[ "$(awk -F '\t' '$1 == 2 { print $8 " " $7 }' "$T/jl")" = "9 0" ]
}

@test "the job log's Send is 0 and Receive counts the bytes of stdout and stderr" {
	run --separate-stderr alloter --joblog "$T/jl" 'printf abc; printf de >&2'
	[ "$status" -eq 0 ]
	[ "$(field "$T/jl" 2 5)" = 0 ]
	[ "$(field "$T/jl" 2 6)" = 5 ]
}

@test "the job log turns tabs and newlines in a command into spaces" {
	run --separate-stderr alloter --joblog "$T/jl" $'true\t1\ntrue 2'
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$T/jl")" -eq 2 ]
	[ "$(field "$T/jl" 2 9)" = 'true 1 true 2' ]
}

@test "the job log has no line for a task that never ran" {
	run --separate-stderr alloter -x -j 1 --joblog "$T/jl" 'exit 1' "touch '$T/ran2'"
	[ "$status" -eq 1 ]
	[ ! -e "$T/ran2" ]
	[ "$(wc -l <"$T/jl")" -eq 2 ]
	[ "$(field "$T/jl" 2 1)" = 1 ]
}

@test "the job log has no line claiming success for a stdin command with a NUL byte, which is not run" {
	run --separate-stderr alloter --joblog "$T/jl" < <(printf "touch '%s/ran1'\0x\necho fine\n" "$T")
	[ "$status" -eq 1 ]
	[ ! -e "$T/ran1" ]
	cat "$T/jl"
	[ -z "$(awk -F '\t' 'NR > 1 && $1 == 1 && $7 == 0 && $8 == 0' "$T/jl")" ]
	[ "$(awk -F '\t' 'NR > 1 && $1 == 2 { print $7 }' "$T/jl")" = 0 ]
}

@test "the job log gets an attempt's line as soon as it ends" {
	# Task 2 succeeds only if task 1's line is in the log while it runs.
	run --separate-stderr alloter -j 2 --joblog "$T/jl" 'exit 0' \
		"i=0; until grep -q '^1	' '$T/jl'; do i=\$((i + 1)); [ \$i -gt 100 ] && exit 1; sleep 0.1; done"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$T/jl")" -eq 3 ]
}

@test "--joblog - is refused with exit 2 and nothing runs" {
	run --separate-stderr alloter --joblog - "touch '$T/ran'"
	[ "$status" -eq 2 ]
	[ ! -e "$T/ran" ]
	[ -z "$output" ]
	[[ $stderr == *joblog* ]]
}

@test "--joblog /dev/stderr writes the job log to standard error" {
	run --separate-stderr alloter -q --joblog /dev/stderr 'echo hi'
	[ "$status" -eq 0 ]
	[ "$output" = hi ]
	[ "${stderr%%$'\n'*}" = "$JOBLOG_HEADER" ]
	[[ $stderr == *$'\techo hi'* ]]
}

@test "a job log that cannot be created is exit 2 and nothing runs" {
	run --separate-stderr alloter --joblog "$T/no/such/dir/jl" "touch '$T/ran'"
	[ "$status" -eq 2 ]
	[ ! -e "$T/ran" ]
}

# --- JSON report: one test per status ---------------------------------------

@test "the report describes a task that succeeded" {
	t0=$(date +%s)
	run --separate-stderr alloter --report "$T/r.json" 'sleep 0.3; echo hi'
	t1=$(date +%s)
	[ "$status" -eq 0 ]
	jq . "$T/r.json"
	[ "$(jq '.tasks | length' "$T/r.json")" -eq 1 ]
	[ "$(task "$T/r.json" 1 .index)" = 1 ]
	[ "$(task "$T/r.json" 1 .command)" = 'sleep 0.3; echo hi' ]
	[ "$(task "$T/r.json" 1 .status)" = succeeded ]
	[ "$(task "$T/r.json" 1 .exit_code)" = 0 ]
	[ "$(task "$T/r.json" 1 .signal)" = null ]
	[ "$(task "$T/r.json" 1 .core_dumped)" = false ]
	[ "$(task "$T/r.json" 1 .attempts)" = 1 ]
	[ "$(task "$T/r.json" 1 .host)" = : ]
	start=$(task "$T/r.json" 1 '.start | floor')
	[ "$start" -ge "$t0" ]
	[ "$start" -le "$t1" ]
	d=$(task "$T/r.json" 1 .duration_ms)
	[ "$d" -ge 250 ]
	[ "$d" -lt 10000 ]
}

@test "the report gives start times with milliseconds" {
	run --separate-stderr alloter --report "$T/r.json" true
	[ "$status" -eq 0 ]
	grep -E '"start": *[0-9]+\.[0-9]{3}[,}]' "$T/r.json"
	[ "$(grep -cE '"start": *[0-9]+\.[0-9]{3}[ ,}]' "$T/r.json")" -eq 2 ]
}

@test "the report marks a task with a non-zero exit status as failed" {
	run --separate-stderr alloter --report "$T/r.json" 'exit 3'
	[ "$status" -eq 1 ]
	[ "$(task "$T/r.json" 1 .status)" = failed ]
	[ "$(task "$T/r.json" 1 .exit_code)" = 3 ]
	[ "$(task "$T/r.json" 1 .signal)" = null ]
	[ "$(task "$T/r.json" 1 .attempts)" = 1 ]
}

@test "the report marks a task killed by a signal alloter did not send as crashed" {
	run --separate-stderr alloter --report "$T/r.json" 'kill -TERM $$'
	[ "$status" -eq 1 ]
	[ "$(task "$T/r.json" 1 .status)" = crashed ]
	[ "$(task "$T/r.json" 1 .exit_code)" = null ]
	[ "$(task "$T/r.json" 1 .signal)" = SIGTERM ]
	[ "$(task "$T/r.json" 1 .core_dumped)" = false ]
}

@test "the report sets core_dumped for a crash that dumped core" {
	cd "$T"
	ulimit -c unlimited 2>/dev/null || skip "cannot raise the core size limit"
	[ "$(perl -e 'system("/bin/sh", "-c", q{kill -SEGV $$}); print(($? & 128) ? "core" : "nocore")')" = core ] ||
		skip "no core is dumped here (core_pattern)"
	run --separate-stderr alloter --report "$T/r.json" 'kill -SEGV $$'
	[ "$status" -eq 1 ]
	[ "$(task "$T/r.json" 1 .status)" = crashed ]
	[ "$(task "$T/r.json" 1 .signal)" = SIGSEGV ]
	[ "$(task "$T/r.json" 1 .core_dumped)" = true ]
}

@test "the report marks a task past its -T deadline as timed_out" {
	run --separate-stderr alloter -T 300ms --report "$T/r.json" "'$SLEEP' 30"
	[ "$status" -eq 1 ]
	[ "$(task "$T/r.json" 1 .status)" = timed_out ]
	[ "$(task "$T/r.json" 1 .exit_code)" = null ]
	[ "$(task "$T/r.json" 1 .signal)" = SIGTERM ]
	d=$(task "$T/r.json" 1 .duration_ms)
	[ "$d" -ge 250 ]
	[ "$d" -lt 10000 ]
}

@test "the report marks a task stopped by -k as terminated" {
	run --separate-stderr alloter -k -j 2 --report "$T/r.json" \
		'sleep 0.3; exit 1' "touch '$T/started2'; exec '$SLEEP' 30"
	[ "$status" -eq 1 ]
	[ -e "$T/started2" ]
	[ "$(task "$T/r.json" 1 .status)" = failed ]
	[ "$(task "$T/r.json" 2 .status)" = terminated ]
	[ "$(task "$T/r.json" 2 .signal)" = SIGTERM ]
	[ "$(task "$T/r.json" 2 .attempts)" = 1 ]
}

@test "the report marks the dependents of a failed task skipped by dependency, naming it" {
	cat >"$T/tasks.yaml" <<-EOF
	tasks:
	  - {name: base, run: 'exit 4'}
	  - {name: mid, run: 'true', needs: base}
	  - {name: top, run: 'true', needs: [mid]}
	  - {name: other, run: 'true'}
	EOF
	run --separate-stderr alloter -f "$T/tasks.yaml" --report "$T/r.json"
	[ "$status" -eq 1 ]
	for n in mid top; do
		[ "$(task "$T/r.json" $n .status)" = skipped ]
		[ "$(task "$T/r.json" $n .skip_reason)" = dependency ]
		[ "$(task "$T/r.json" $n .needs)" = base ]
		[ "$(task "$T/r.json" $n .attempts)" = 0 ]
	done
	[ "$(task "$T/r.json" other .status)" = succeeded ]
	[ "$(keys_of "$T/r.json" mid)" = "attempts command host index name needs skip_reason status" ]
}

@test "the report marks tasks not started after a -x failure as skipped by fail_fast" {
	run --separate-stderr alloter -x -j 1 --report "$T/r.json" 'exit 1' "touch '$T/ran2'"
	[ "$status" -eq 1 ]
	[ ! -e "$T/ran2" ]
	[ "$(task "$T/r.json" 2 .status)" = skipped ]
	[ "$(task "$T/r.json" 2 .skip_reason)" = fail_fast ]
	[ "$(task "$T/r.json" 2 .attempts)" = 0 ]
	[ "$(keys_of "$T/r.json" 2)" = "attempts command host index name skip_reason status" ]
}

@test "the report marks tasks not started before the -t deadline as skipped by timeout" {
	run --separate-stderr alloter -t 500ms -j 1 --report "$T/r.json" "'$SLEEP' 30" "touch '$T/ran2'"
	[ "$status" -eq 124 ]
	[ ! -e "$T/ran2" ]
	[ "$(task "$T/r.json" 2 .status)" = skipped ]
	[ "$(task "$T/r.json" 2 .skip_reason)" = timeout ]
	[ "$(keys_of "$T/r.json" 2)" = "attempts command host index name skip_reason status" ]
}

@test "the report marks a task that cannot start as failed, with the system's message" {
	cmds=()
	for i in $(seq 60); do
		cmds+=("sleep 0.3")
	done
	ulimit -n 40
	run --separate-stderr alloter -j 0 --report "$T/r.json" "${cmds[@]}"
	[ "$status" -eq 1 ]
	[[ $stderr == *"cannot start: Too many open files"* ]]
	n=$(jq '[.tasks[] | select(.error == "Too many open files" and .status == "failed")] | length' "$T/r.json")
	[ "$n" -ge 1 ]
	[ "$n" -eq "$(grep -c "^alloter: task '[0-9]*': cannot start: Too many open files" <<<"$stderr")" ]
	[ "$(jq .run.failed "$T/r.json")" -eq "$n" ]
}

@test "the report marks a stdin command holding a NUL byte, which is not run, as failed" {
	run --separate-stderr alloter --report "$T/r.json" < <(printf "touch '%s/ran1'\0x\necho fine\n" "$T")
	[ "$status" -eq 1 ]
	[ ! -e "$T/ran1" ]
	[[ $stderr == *"task '1'"*NUL* ]]
	jq -c '.tasks[]' "$T/r.json"
	[ "$(task "$T/r.json" 1 .status)" = failed ]
	[ "$(task "$T/r.json" 2 .status)" = succeeded ]
	[ "$(jq '[.tasks[] | select(.status == "succeeded")] | length' "$T/r.json")" = "$(jq .run.succeeded "$T/r.json")" ]
}

@test "the report counts every attempt of a retried task" {
	cat >"$T/tasks.yaml" <<-EOF
	tasks:
	  - {name: flaky, run: 'exit 3', retries: 2}
	EOF
	run --separate-stderr alloter -f "$T/tasks.yaml" --report "$T/r.json"
	[ "$status" -eq 1 ]
	[ "$(task "$T/r.json" flaky .attempts)" = 3 ]
	[ "$(task "$T/r.json" flaky .status)" = failed ]
	[ "$(task "$T/r.json" flaky .exit_code)" = 3 ]
}

# --- JSON report: the run ---------------------------------------------------

@test "the report's run object gives start, wall time, counts and the exit status" {
	t0=$(date +%s)
	run --separate-stderr alloter -x -j 1 --report "$T/r.json" 'sleep 0.3' 'exit 2' 'true'
	t1=$(date +%s)
	[ "$status" -eq 1 ]
	jq .run "$T/r.json"
	[ "$(jq .run.exit_status "$T/r.json")" = 1 ]
	[ "$(jq .run.tasks "$T/r.json")" = 3 ]
	[ "$(jq .run.succeeded "$T/r.json")" = 1 ]
	[ "$(jq .run.failed "$T/r.json")" = 1 ]
	[ "$(jq .run.skipped "$T/r.json")" = 1 ]
	start=$(jq '.run.start | floor' "$T/r.json")
	[ "$start" -ge "$t0" ]
	[ "$start" -le "$t1" ]
	wall=$(jq .run.wall_ms "$T/r.json")
	[ "$wall" -ge 250 ]
	[ "$wall" -lt 10000 ]
}

@test "the report's run exit_status is 0 when every task succeeded" {
	run --separate-stderr alloter --report "$T/r.json" true true
	[ "$status" -eq 0 ]
	[ "$(jq .run.exit_status "$T/r.json")" = 0 ]
}

@test "the report's options are the defaults when nothing is set" {
	run --separate-stderr alloter --report "$T/r.json" true
	[ "$status" -eq 0 ]
	[ "$(jq -c .run.options "$T/r.json")" = "$(jq -nc --argjson l "$(nproc)" \
		'{limit: $l, timeout_ms: 0, task_timeout_ms: 0, grace_ms: 2000, fail_fast: false,
		  kill_others: false, output: "group", tag: false, keep_order: false, shell: "/bin/sh"}')" ]
}

@test "the report's options combine the command line and the task file" {
	cat >"$T/tasks.yaml" <<-EOF
	limit: 3
	timeout: 1m
	task_timeout: 20s
	grace: 5s
	fail_fast: true
	output: line
	tag: true
	shell: /bin/bash
	tasks:
	  - 'true'
	EOF
	run --separate-stderr alloter -f "$T/tasks.yaml" -j 2 -g 500ms -o group --keep-order \
		--report "$T/r.json"
	[ "$status" -eq 0 ]
	jq .run.options "$T/r.json"
	[ "$(jq -c .run.options "$T/r.json")" = "$(jq -nc \
		'{limit: 2, timeout_ms: 60000, task_timeout_ms: 20000, grace_ms: 500, fail_fast: true,
		  kill_others: false, output: "group", tag: true, keep_order: true, shell: "/bin/bash"}')" ]
}

@test "the report's options show -k and the fail-fast it implies" {
	run --separate-stderr alloter -k --report "$T/r.json" true
	[ "$status" -eq 0 ]
	[ "$(jq .run.options.kill_others "$T/r.json")" = true ]
	[ "$(jq .run.options.fail_fast "$T/r.json")" = true ]
}

# --- JSON report: when it is written ----------------------------------------

@test "the report is written after the overall timeout, and the exit status is 124" {
	run --separate-stderr alloter -t 1s --report "$T/r.json" "'$SLEEP' 30"
	[ "$status" -eq 124 ]
	[ "$(jq .run.exit_status "$T/r.json")" = 124 ]
	[ "$(task "$T/r.json" 1 .status)" = terminated ]
	[ "$(jq .run.options.timeout_ms "$T/r.json")" = 1000 ]
	assert_no_survivors
}

@test "the report is written after SIGINT, and the exit status is 130" {
	start_bg -j 1 --report "$T/r.json" "touch '$T/started1'; exec '$SLEEP' 300" "touch '$T/ran2'"
	wait_for_file "$T/started1"
	kill -INT "$BG_PID"
	wait_bg 15
	[ "$bg_status" -eq 130 ]
	[ ! -e "$T/ran2" ]
	jq . "$T/r.json"
	[ "$(jq .run.exit_status "$T/r.json")" = 130 ]
	[ "$(task "$T/r.json" 1 .status)" = terminated ]
	[ "$(task "$T/r.json" 2 .status)" = skipped ]
	[ "$(task "$T/r.json" 2 .skip_reason)" = interrupted ]
	assert_no_survivors
}

@test "the report is written when standard output is closed, and the exit status is 141" {
	alloter --report "$T/r.json" "exec '$SLEEP' 300" 'echo x' 2>"$T/err" | head -n 1 >"$T/out"
	rc=${PIPESTATUS[0]}
	[ "$rc" -eq 141 ]
	[ "$(cat "$T/out")" = x ]
	[ "$(jq .run.exit_status "$T/r.json")" = 141 ]
	[ "$(task "$T/r.json" 1 .status)" = terminated ]
	[ "$(task "$T/r.json" 2 .status)" = succeeded ]
	assert_no_survivors
}

@test "the report appears only when the run ends and leaves no temporary file" {
	mkdir "$T/rep"
	run --separate-stderr alloter --report "$T/rep/r.json" \
		"sleep 0.2; if [ -e '$T/rep/r.json' ]; then touch '$T/early'; fi"
	[ "$status" -eq 0 ]
	[ ! -e "$T/early" ]
	[ "$(ls -A "$T/rep")" = r.json ]
	jq -e . "$T/rep/r.json" >/dev/null
}

@test "a report that cannot be created is exit 2 and nothing runs" {
	run --separate-stderr alloter --report "$T/no/such/dir/r.json" "touch '$T/ran'"
	[ "$status" -eq 2 ]
	[ ! -e "$T/ran" ]
}

# --- JSON report: any bytes -------------------------------------------------

@test "the report is valid JSON for names and commands with quotes, tabs, backslashes and non-ASCII" {
	cat >"$T/tasks.yaml" <<-'EOF'
	tasks:
	  - name: "q\"uote\ttab\\back é中 \u0001"
	    run: "printf '%s\\n' \"a\tb\" 'c\\d' é; exit 1"
	  - name: 'it''s'
	    run: 'echo "$HOME" > /dev/null'
	EOF
	run --separate-stderr alloter -f "$T/tasks.yaml" --report "$T/r.json"
	[ "$status" -eq 1 ]
	jq . "$T/r.json" >/dev/null
	python3 -m json.tool "$T/r.json" >/dev/null
	[ "$(jq -r '.tasks[] | select(.index == 1) | .name' "$T/r.json")" = $'q"uote\ttab\\back é中 \x01' ]
	[ "$(jq -r '.tasks[] | select(.index == 1) | .command' "$T/r.json")" = $'printf \'%s\\n\' "a\tb" \'c\\d\' é; exit 1' ]
	[ "$(jq -r '.tasks[] | select(.index == 2) | .name' "$T/r.json")" = "it's" ]
	[ "$(jq -r '.tasks[] | select(.index == 2) | .command' "$T/r.json")" = 'echo "$HOME" > /dev/null' ]
}

@test "the report is valid JSON for commands with invalid UTF-8 and control bytes" {
	run --separate-stderr alloter --report "$T/r.json" $'true \xff\xfe; exit 2' $'true \x01\x1f\x7f "\\" \xc3'
	[ "$status" -eq 1 ]
	jq . "$T/r.json" >/dev/null
	python3 -m json.tool "$T/r.json" >/dev/null
	# each byte that is not UTF-8 became U+FFFD
	[ "$(task "$T/r.json" 1 .command)" = $'true \uFFFD\uFFFD; exit 2' ]
	[ "$(task "$T/r.json" 2 .command)" = $'true \x01\x1f\x7f "\\" \uFFFD' ]
}

@test "the report is valid JSON for commands read from stdin with invalid UTF-8" {
	run --separate-stderr alloter --report "$T/r.json" < <(printf 'true \x80\xbf "x"\t\n: \xf0\x9f\x98\x80 \xed\xa0\x80\n')
	[ "$status" -eq 0 ]
	python3 -m json.tool "$T/r.json" >/dev/null
	[ "$(jq '.tasks | length' "$T/r.json")" = 2 ]
	[ "$(task "$T/r.json" 1 .command)" = $'true \uFFFD\uFFFD "x"\t' ]
	# a valid 4-byte sequence is kept; an encoded surrogate is not valid UTF-8
	c2=$(task "$T/r.json" 2 .command)
	[[ $c2 == $': \U1F600 '* ]]
	[[ $c2 != *$'\xed'* ]]
}

# --- dry run ----------------------------------------------------------------

@test "-n prints NAME<TAB>COMMAND for each task, runs nothing and exits 0" {
	run --separate-stderr alloter -n "touch '$T/ran1'" "touch '$T/ran2'"
	[ "$status" -eq 0 ]
	[ "$output" = "1	touch '$T/ran1'
2	touch '$T/ran2'" ]
	sleep 0.2
	[ ! -e "$T/ran1" ]
	[ ! -e "$T/ran2" ]
}

@test "-n lists a task file's tasks in an order that respects needs" {
	cat >"$T/tasks.yaml" <<-EOF
	tasks:
	  - {name: c, run: 'touch $T/ran-c', needs: [b, a]}
	  - {name: b, run: 'touch $T/ran-b', needs: a}
	  - {name: a, run: 'touch $T/ran-a'}
	  - {name: d, run: 'touch $T/ran-d'}
	EOF
	run --separate-stderr alloter -n -f "$T/tasks.yaml"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 4 ]
	names=$(cut -f1 <<<"$output" | tr '\n' ' ')
	echo "order: $names"
	[[ $names =~ a.*b.*c ]]
	[[ $names == *d* ]]
	[[ $output == *$'a\ttouch '"$T/ran-a"* ]]
	sleep 0.2
	[ -z "$(ls "$T" | grep '^ran-')" ]
}

@test "-n reads the commands from standard input" {
	run --separate-stderr alloter -n < <(printf '%s\n' "touch '$T/ran1'" '# a comment' '' "touch '$T/ran2'")
	[ "$status" -eq 0 ]
	[ "$output" = "1	touch '$T/ran1'
2	touch '$T/ran2'" ]
	[ ! -e "$T/ran1" ]
}

@test "-n exits 2 for a bad task file and prints no task" {
	printf 'tasks:\n  - {name: a, run: "touch %s/ran"}\n  - {name: b, run: x, needs: nosuch}\n' "$T" >"$T/tasks.yaml"
	run --separate-stderr alloter -n -f "$T/tasks.yaml"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[[ $stderr == *nosuch* ]]
	[ ! -e "$T/ran" ]
}

@test "-n writes neither a job log nor a report" {
	run --separate-stderr alloter -n --joblog "$T/jl" --report "$T/r.json" true
	[ "$status" -eq 0 ]
	[ ! -e "$T/jl" ]
	[ ! -e "$T/r.json" ]
}

@test "-n with hosts lists every command from standard input, taking no host slot" {
	run --separate-stderr alloter -n -S 1/: < <(printf '%s\n' 'echo a' 'echo b' 'echo c')
	[ "$status" -eq 0 ]
	[ "$output" = "1	echo a
2	echo b
3	echo c" ]
}

@test "SIGTERM ends a dry run that waits on standard input" {
	local start=$SECONDS
	run --separate-stderr timeout -s TERM 1 "$ALLOTER" -n < <(echo 'echo a'; exec "$SLEEP" 30)
	[ "$status" -eq 124 ]
	[ "$output" = "1	echo a" ]
	[ $((SECONDS - start)) -lt 20 ]
}

# --- --keep-order -----------------------------------------------------------

# Task 3 ends first, then 2, then 1; each task marks its start, and task 1
# records whether tasks 2 and 3 had started while it ran.
reverse_tasks() {
	wait_for="i=0; until [ -e \"\$1\" ] || [ \$i -gt 200 ]; do i=\$((i + 1)); sleep 0.05; done"
	cmds=(
		"w() { $wait_for; }; touch '$T/s1'; w '$T/s2'; w '$T/s3'; [ -e '$T/s2' ] && [ -e '$T/s3' ] && touch '$T/saw'; w '$T/d2'; sleep 0.3; echo one; echo one-err >&2"
		"w() { $wait_for; }; touch '$T/s2'; w '$T/d3'; sleep 0.3; echo two; echo two-err >&2; touch '$T/d2'"
		"touch '$T/s3'; echo three; echo three-err >&2; touch '$T/d3'"
	)
}

@test "--keep-order prints the blocks in input order when tasks end in reverse order" {
	reverse_tasks
	run --separate-stderr alloter -q -j 3 --keep-order --report "$T/r.json" "${cmds[@]}"
	[ "$status" -eq 0 ]
	[ "$output" = $'one\ntwo\nthree' ]
	[ "$stderr" = $'one-err\ntwo-err\nthree-err' ]
	# they did end in reverse order
	e1=$(task "$T/r.json" 1 '.start * 1000 + .duration_ms | floor')
	e2=$(task "$T/r.json" 2 '.start * 1000 + .duration_ms | floor')
	e3=$(task "$T/r.json" 3 '.start * 1000 + .duration_ms | floor')
	[ "$e3" -lt "$e2" ]
	[ "$e2" -lt "$e1" ]
}

@test "--keep-order does not delay the start of any task" {
	reverse_tasks
	run --separate-stderr alloter -q -j 3 --keep-order --report "$T/r.json" "${cmds[@]}"
	[ "$status" -eq 0 ]
	# task 1 saw tasks 2 and 3 start while it was running
	[ -e "$T/saw" ]
	spread=$(jq '[.tasks[].start] | (max - min) * 1000 | floor' "$T/r.json")
	echo "starts spread over $spread ms"
	[ "$spread" -lt 1000 ]
}

@test "--keep-order keeps input order with a limit below the number of tasks" {
	cmds=()
	for i in 1 2 3 4 5 6; do
		cmds+=("sleep 0.$((7 - i)); echo $i")
	done
	run --separate-stderr alloter -q -j 3 --keep-order "${cmds[@]}"
	[ "$status" -eq 0 ]
	[ "$output" = $'1\n2\n3\n4\n5\n6' ]
}

# --- --progress -------------------------------------------------------------

@test "--progress writes nothing when stderr is not a terminal" {
	args=(-j 2 'sleep 1.2; echo out; echo err >&2' 'sleep 0.8; exit 3')
	alloter --progress "${args[@]}" >"$T/out1" 2>"$T/err1" || true
	alloter "${args[@]}" >"$T/out2" 2>"$T/err2" || true
	cat -A "$T/err1"
	[ "$(strip_summary_time <"$T/err1")" = "$(strip_summary_time <"$T/err2")" ]
	cmp "$T/out1" "$T/out2"
	[[ $(<"$T/err1") != *$'\r'* ]]
	[[ $(<"$T/err1") != *done* ]]
}

@test "--progress draws a line with done, running, failed and elapsed, redrawn in place, on a terminal" {
	on_tty "$(q "$ALLOTER" --progress -j 2 'sleep 1.2' 'sleep 0.8' 'exit 3')"
	[ "$tty_status" -eq 1 ]
	printf '%s\n' "$out" | cat -A
	[[ $out == *$'\r'* ]]
	line=$(grep -a -o $'alloter: [0-9]*/3 done[^\r\e]*' <<<"$out" | head -n 1)
	echo "first progress line: $line"
	[[ $line == *" running"* ]]
	[[ $line == *" failed"* ]]
	[[ $line == *" elapsed"* ]]
	# it was drawn more than once
	[ "$(grep -a -o ' done, ' <<<"$out" | wc -l)" -ge 2 ]
}

@test "--progress shows an estimate of the time left once a task has ended" {
	on_tty "$(q "$ALLOTER" --progress -j 2 'sleep 0.2' "sleep 1.5")"
	[ "$tty_status" -eq 0 ]
	printf '%s\n' "$out" | cat -A
	[[ $out == *"1/2 done"*" left"* ]]
}

@test "--progress counts the running tasks before any has ended" {
	on_tty "$(q "$ALLOTER" --progress -j 3 "exec '$SLEEP' 1.5" "exec '$SLEEP' 1.5" "exec '$SLEEP' 1.5")"
	[ "$tty_status" -eq 0 ]
	printf '%s\n' "$out" | cat -A
	# 0.25 s to 1.5 s into the run, the three tasks are running
	[[ $out == *"0/3 done, 3 running"* ]]
	[[ $out != *"0/3 done, 0 running, 0 failed, 0:01"* ]]
}

@test "--progress erases its line at the end" {
	on_tty "$(q "$ALLOTER" --progress -j 2 'sleep 0.6' 'sleep 0.6')"
	[ "$tty_status" -eq 0 ]
	shown=$(screen <<<"$out")
	printf '%s\n' "$shown"
	[ -z "$(grep ' done, ' <<<"$shown")" ]
	[[ $(summary_line "$shown") == *"2 succeeded"* ]]
}

@test "--progress does not leave its line in front of a failure message" {
	on_tty "$(q "$ALLOTER" --progress -j 2 "sleep 0.8; exit 3" 'sleep 1.5')"
	[ "$tty_status" -eq 1 ]
	shown=$(screen <<<"$out")
	printf '%s\n' "$out" | cat -A
	printf '%s\n' "$shown"
	line=$(grep "task '1': exit status 3" <<<"$shown")
	[ "$line" = "alloter: task '1': exit status 3" ]
}

@test "--progress does not leave its line in front of a task's output on the same terminal" {
	on_tty "$(q "$ALLOTER" --progress -j 2 "sleep 0.8; echo hello-$marker" 'sleep 1.5')"
	[ "$tty_status" -eq 0 ]
	shown=$(screen <<<"$out")
	printf '%s\n' "$out" | cat -A
	printf '%s\n' "$shown"
	[ "$(grep "hello-$marker" <<<"$shown")" = "hello-$marker" ]
}

# --- --color ----------------------------------------------------------------

# A tagged task that prints, and one that fails.
color_args=(--tag -j 1 'echo hi' 'exit 3')

@test "--color always colours tags and failure lines when not a terminal" {
	run --separate-stderr alloter --color always "${color_args[@]}"
	[ "$status" -eq 1 ]
	printf '%s\n' "$output" "$stderr" | cat -A
	[[ $output == *$'\e['*1*$'\e['*$'\thi' ]]
	[ "$(sed 's/\x1b\[[0-9;]*m//g' <<<"$output")" = $'1\thi' ]
	line=$(line_with "$stderr" "task '2': exit status 3")
	[[ $line == *$'\e['* ]]
}

@test "--color never writes no escape codes, even on a terminal" {
	on_tty "$(q "$ALLOTER" --color never "${color_args[@]}")"
	[ "$tty_status" -eq 1 ]
	printf '%s\n' "$out" | cat -A
	[[ $out == *"exit status 3"* ]]
	[[ $out == *$'1\thi'* ]]
	[[ $out != *$'\e'* ]]
}

@test "--color auto colours tags and failure lines on a terminal" {
	on_tty "env -u NO_COLOR $(q "$ALLOTER" "${color_args[@]}")"
	[ "$tty_status" -eq 1 ]
	printf '%s\n' "$out" | cat -A
	[[ $(line_with "$out" "exit status 3") == *$'\e['* ]]
	[[ $(line_with "$out" "hi") == *$'\e['*1*$'\e['*$'\thi'* ]]
}

@test "--color auto with NO_COLOR=1 on a terminal writes no escape codes" {
	on_tty "env NO_COLOR=1 $(q "$ALLOTER" --color auto "${color_args[@]}")"
	[ "$tty_status" -eq 1 ]
	printf '%s\n' "$out" | cat -A
	[[ $out == *"exit status 3"* ]]
	[[ $out == *$'1\thi'* ]]
	[[ $out != *$'\e'* ]]
}

@test "--color auto is the default and writes no escape codes when not a terminal" {
	NO_COLOR='' run --separate-stderr alloter "${color_args[@]}"
	[ "$status" -eq 1 ]
	[[ $output != *$'\e'* ]]
	[[ $stderr != *$'\e'* ]]
	[ "$output" = $'1\thi' ]
}

@test "--color auto colours only the streams that are terminals" {
	on_tty "env -u NO_COLOR $(q "$ALLOTER" "${color_args[@]}") 2>$(q "$T/err")"
	[ "$tty_status" -eq 1 ]
	printf '%s\n' "$out" | cat -A
	cat -A "$T/err"
	[[ $out == *$'\e['*1*$'\e['*$'\thi'* ]]
	grep -q 'exit status 3' "$T/err"
	[[ $(<"$T/err") != *$'\e'* ]]
}

@test "--color with an unknown value is a usage error" {
	run --separate-stderr alloter --color sometimes "touch '$T/ran'"
	[ "$status" -eq 2 ]
	[ ! -e "$T/ran" ]
	[[ $stderr == *sometimes* ]]
}

# --- the summary ------------------------------------------------------------

@test "the summary lists each failed task with its cause after the counts" {
	run --separate-stderr alloter -j 4 -T 500ms true 'exit 3' 'kill -KILL $$' "exec '$SLEEP' 30"
	[ "$status" -eq 1 ]
	printf '%s\n' "$stderr"
	counts=$(grep -n '4 tasks: 1 succeeded, 3 failed, 0 skipped' <<<"$stderr" | cut -d: -f1)
	[ -n "$counts" ]
	failed=$(grep -n '^alloter: failed: ' <<<"$stderr")
	[ "$(wc -l <<<"$failed")" -eq 3 ]
	# all after the counts, and nothing else after them
	[ "$(cut -d: -f1 <<<"$failed" | sort -n | head -n 1)" -gt "$counts" ]
	[ "$(sed -n "$((counts + 1)),\$p" <<<"$stderr" | grep -vc '^alloter: failed: ')" -eq 0 ]
	grep -qFx "alloter: failed: 2 (exit 3): exit status 3" <<<"$stderr"
	grep -qFx 'alloter: failed: 3 (kill -KILL $$): killed by SIGKILL' <<<"$stderr"
	cmd="exec '$SLEEP' 30"
	[ "${#cmd}" -le 63 ] || cmd="${cmd:0:60}..."
	grep -qFx "alloter: failed: 4 ($cmd): timed out after 500ms" <<<"$stderr"
}

@test "the summary does not list skipped tasks as failed" {
	cat >"$T/tasks.yaml" <<-EOF
	tasks:
	  - {name: base, run: 'exit 4'}
	  - {name: child, run: 'true', needs: base}
	EOF
	run --separate-stderr alloter -f "$T/tasks.yaml"
	[ "$status" -eq 1 ]
	[ "$(grep -c '^alloter: failed: ' <<<"$stderr")" -eq 1 ]
	grep -qx "alloter: failed: 'base': exit status 4" <<<"$stderr"
}

@test "the summary lists at most 50 failed tasks, then how many more" {
	cmds=()
	for i in $(seq 53); do
		cmds+=("exit 1")
	done
	run --separate-stderr alloter -j 8 "${cmds[@]}"
	[ "$status" -eq 1 ]
	[ "$(grep -c "^alloter: failed: [0-9]* (exit 1): exit status 1$" <<<"$stderr")" -eq 50 ]
	[ "$(tail -n 1 <<<"$stderr")" = "alloter: failed: and 3 more" ]
}

@test "the summary names a task without a name by its number and its command, abridged to one line" {
	long="echo $(printf 'x%.0s' $(seq 80)); exit 5"
	run --separate-stderr alloter -j 1 "$long" $'true\nexit 6'
	[ "$status" -eq 1 ]
	grep -qFx "alloter: failed: 1 (${long:0:60}...): exit status 5" <<<"$stderr"
	grep -qFx "alloter: failed: 2 (true exit 6): exit status 6" <<<"$stderr"
}

@test "tasks stopped by kill-others or the deadline count as terminated, not failed" {
	run --separate-stderr alloter -j 3 -k "$SLEEP 30" 'sleep 0.2; exit 3' "$SLEEP 31"
	[ "$status" -eq 1 ]
	[[ $(summary_line "$stderr") == *"3 tasks: 0 succeeded, 1 failed, 2 terminated, 0 skipped"* ]]
	[ "$(grep -c '^alloter: failed: ' <<<"$stderr")" -eq 1 ]
	grep -qFx "alloter: failed: 2 (sleep 0.2; exit 3): exit status 3" <<<"$stderr"
	run --separate-stderr alloter -j 2 -t 0.3 --report "$T/r.json" "$SLEEP 30" "$SLEEP 31"
	[ "$status" -eq 124 ]
	[[ $(summary_line "$stderr") == *"0 failed, 2 terminated"* ]]
	python3 - "$T/r.json" <<-'EOF'
	import json, sys
	r = json.load(open(sys.argv[1]))
	assert r["run"]["terminated"] == 2 and r["run"]["failed"] == 0, r["run"]
	assert all(t["status"] == "terminated" for t in r["tasks"]), r["tasks"]
	EOF
}

@test "-q leaves out the list of failed tasks with the summary" {
	run --separate-stderr alloter -q 'exit 3'
	[ "$status" -eq 1 ]
	[[ $stderr == *"task '1': exit status 3"* ]]
	[[ $stderr != *"failed: '1'"* ]]
}
