#!/usr/bin/env bats
# Basics: commands, the task environment, process groups, cleanup.

bats_require_minimum_version 1.5.0
load helpers

@test "each argument is run as one shell command by /bin/sh" {
	run --separate-stderr alloter -q -j 1 'echo "a  b" | tr a A' 'echo $((6 * 7)) > /dev/stdout'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "A  b" ]
	[ "${lines[1]}" = "42" ]
	[ "${#lines[@]}" -eq 2 ]
}

@test "all tasks succeeding exits 0" {
	run --separate-stderr alloter true 'exit 0' ':'
	[ "$status" -eq 0 ]
}

@test "one failing task makes the exit status 1" {
	run --separate-stderr alloter true 'exit 5' true
	[ "$status" -eq 1 ]
}

@test "every task runs even when an earlier one failed" {
	run --separate-stderr alloter -j 1 'exit 3' "touch '$T/two'" "touch '$T/three'"
	[ "$status" -eq 1 ]
	[ -e "$T/two" ]
	[ -e "$T/three" ]
}

@test "tasks get ALLOTER_TASK_INDEX and ALLOTER_TASK_NAME, their 1-based sequence number" {
	cmd='echo "$ALLOTER_TASK_INDEX:$ALLOTER_TASK_NAME"'
	run --separate-stderr alloter -q -j 1 "$cmd" "$cmd" "$cmd"
	[ "$status" -eq 0 ]
	[ "$output" = $'1:1\n2:2\n3:3' ]
}

@test "a task inherits a descriptor given to alloter below 256, none from 256 up" {
	exec 5>"$T/five" 260>"$T/high"
	run --separate-stderr alloter -q -j 2 -o group 'echo five >&5' \
		'for f in 5 260; do [ -e /proc/self/fd/$f ] && echo $f; done' \
		'echo raw >&5' 'echo high >&260'
	exec 5>&- 260>&-
	[ "$status" -eq 1 ]
	[ "$output" = 5 ]
	[ "$(sort "$T/five")" = $'five\nraw' ]
	[ ! -s "$T/high" ]
}

@test "tasks inherit alloter's environment" {
	export ALLOTER_BATS_PROBE="hello $marker"
	run --separate-stderr alloter -q 'echo "$ALLOTER_BATS_PROBE"'
	[ "$status" -eq 0 ]
	[ "$output" = "hello $marker" ]
}

@test "a task's standard input is /dev/null" {
	echo data >"$T/data"
	run --separate-stderr alloter -q 'readlink /proc/$$/fd/0' <"$T/data"
	[ "$status" -eq 0 ]
	[ "$output" = /dev/null ]
}

@test "tasks do not read alloter's standard input" {
	printf 'data from stdin\n' >"$T/data"
	timed_run --separate-stderr alloter -q cat <"$T/data"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$elapsed_ms" -lt 10000 ]
}

@test "a task whose stdin would block still gets EOF at once" {
	mkfifo "$T/fifo"
	# Keep a writer open on the fifo: a task reading alloter's stdin would
	# block forever instead of seeing EOF.
	exec 4<>"$T/fifo"
	timed_run --separate-stderr alloter -q cat <"$T/fifo"
	exec 4>&-
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$elapsed_ms" -lt 10000 ]
}

@test "each task is the leader of its own process group" {
	cmd='[ "$(ps -o pgid= -p $$ | tr -d " ")" = "$$" ] && echo leader'
	run --separate-stderr alloter -q -j 2 "$cmd" "$cmd"
	[ "$status" -eq 0 ]
	[ "$output" = $'leader\nleader' ]
}

@test "two tasks are in different process groups" {
	cmd='ps -o pgid= -p $$ | tr -d " "'
	run --separate-stderr alloter -q -j 2 "$cmd" "$cmd"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[ "${lines[0]}" != "${lines[1]}" ]
	[ "${lines[0]}" != "$(ps -o pgid= -p $$ | tr -d ' ')" ]
}

@test "finished tasks are reaped while other tasks still run" {
	start_bg -j 0 true true true 'exit 1' "touch '$T/long'; exec '$SLEEP' 300"
	wait_for_file "$T/long"
	assert_no_zombie_children "$BG_PID"
	kill -TERM "$BG_PID"
	wait_bg 10
	assert_no_survivors
}

@test "after success no background process of a task is left running" {
	timed_run --separate-stderr alloter "'$SLEEP' 300 >/dev/null 2>&1 & echo started"
	[ "$status" -eq 0 ]
	[ "$output" = started ]
	[ "$elapsed_ms" -lt 10000 ]
	assert_no_survivors
}

@test "a background process that keeps the task's output open neither hangs alloter nor survives" {
	timed_run --separate-stderr alloter "'$SLEEP' 300 & echo started"
	[ "$output" = started ]
	[ "$elapsed_ms" -lt 10000 ]
	assert_no_survivors
}

@test "after a failure no process of any task is left running" {
	run --separate-stderr alloter -j 2 "'$SLEEP' 300 >/dev/null 2>&1 & exit 4" "'$SLEEP' 0.2"
	[ "$status" -eq 1 ]
	assert_no_survivors
}

@test "the summary counts succeeded, failed and skipped tasks" {
	run --separate-stderr alloter true true 'exit 1'
	[ "$status" -eq 1 ]
	line=$(summary_line "$stderr")
	[[ $line == *"2 succeeded"* ]]
	[[ $line == *"1 failed"* ]]
	[[ $line == *"0 skipped"* ]]
}

@test "the summary goes to stderr, not stdout" {
	run --separate-stderr alloter true
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[[ $stderr == *"1 succeeded"* ]]
}

@test "the summary includes the wall time" {
	run --separate-stderr alloter true
	line=$(summary_line "$stderr")
	[[ $line =~ [0-9](\.[0-9]+)?(ms|s|m|h)([^a-zA-Z]|$) ]]
}

@test "-q leaves out the summary" {
	run --separate-stderr alloter -q true true
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}

@test "--quiet leaves out the summary but still reports failures" {
	run --separate-stderr alloter --quiet true 'exit 3'
	[ "$status" -eq 1 ]
	[[ $stderr == *"exit status 3"* ]]
	[[ $stderr != *"succeeded"* ]]
}
