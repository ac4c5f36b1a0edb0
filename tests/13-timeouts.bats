#!/usr/bin/env bats
# Deadlines: --timeout (whole run), --task-timeout (each task), --grace, and
# the duration syntax.

bats_require_minimum_version 1.5.0
load helpers

@test "-t ends the run at the deadline with exit status 124" {
	timed_run --separate-stderr alloter -t 1 "'$SLEEP' 30"
	[ "$status" -eq 124 ]
	[ "$elapsed_ms" -ge 900 ]
	[ "$elapsed_ms" -lt 10000 ]
	assert_no_survivors
}

@test "--timeout terminates every running task" {
	timed_run --separate-stderr alloter -j 3 --timeout 1 "'$SLEEP' 30" "'$SLEEP' 31" "'$SLEEP' 32"
	[ "$status" -eq 124 ]
	[ "$elapsed_ms" -lt 10000 ]
	assert_no_survivors
}

@test "after the overall deadline no new task starts" {
	run --separate-stderr alloter -j 1 -t 1 "'$SLEEP' 30" "touch '$T/ran2'"
	[ "$status" -eq 124 ]
	[ ! -e "$T/ran2" ]
	[[ $(summary_line "$stderr") == *"1 skipped"* ]]
}

@test "the overall deadline kills grandchildren too" {
	timed_run --separate-stderr alloter -t 1 "'$SLEEP' 300 & '$SLEEP' 300 & wait"
	[ "$status" -eq 124 ]
	[ "$elapsed_ms" -lt 10000 ]
	assert_no_survivors
}

@test "a run that ends before its deadline does not wait for it" {
	timed_run --separate-stderr alloter -t 30 true
	[ "$status" -eq 0 ]
	[ "$elapsed_ms" -lt 5000 ]
}

@test "a task that ignores SIGTERM gets SIGKILL after the grace period" {
	timed_run --separate-stderr alloter -g 1 -t 1 "trap '' TERM; exec '$SLEEP' 30"
	[ "$status" -eq 124 ]
	[ "$elapsed_ms" -ge 1800 ]
	[ "$elapsed_ms" -lt 10000 ]
	assert_no_survivors
}

@test "a grandchild that ignores SIGTERM gets SIGKILL after the grace period" {
	# The task itself dies of SIGTERM, its grandchild does not.
	timed_run --separate-stderr alloter --grace 1 -t 1 \
		"(trap '' TERM; exec '$SLEEP' 300) & exec '$SLEEP' 300"
	[ "$status" -eq 124 ]
	[ "$elapsed_ms" -lt 10000 ]
	assert_no_survivors
}

@test "the default grace period is about 2 seconds" {
	timed_run --separate-stderr alloter -T 0.5 "trap '' TERM; exec '$SLEEP' 30"
	[ "$status" -eq 1 ]
	[ "$elapsed_ms" -ge 2300 ]
	[ "$elapsed_ms" -lt 8000 ]
	assert_no_survivors
}

@test "a task that dies of SIGTERM does not wait for the grace period" {
	timed_run --separate-stderr alloter -g 30 -T 0.5 "'$SLEEP' 30"
	[ "$status" -eq 1 ]
	[ "$elapsed_ms" -lt 8000 ]
	assert_no_survivors
}

@test "-T terminates a task past its deadline and reports it as timed out" {
	timed_run --separate-stderr alloter -j 2 -T 1 "'$SLEEP' 30" 'echo other'
	[ "$status" -eq 1 ]
	[ "$output" = other ]
	[ "$elapsed_ms" -lt 10000 ]
	line=$(line_with "$stderr" "timed out")
	[ -n "$line" ]
	[[ $line == *1* ]]
	line=$(summary_line "$stderr")
	[[ $line == *"1 succeeded"* ]]
	[[ $line == *"1 failed"* ]]
	assert_no_survivors
}

@test "after a task times out the next tasks still start" {
	run --separate-stderr alloter -j 1 --task-timeout 0.5 "'$SLEEP' 30" "touch '$T/ran2'"
	[ "$status" -eq 1 ]
	[ -e "$T/ran2" ]
	[[ $stderr == *"timed out"* ]]
}

@test "the timeout message gives the duration" {
	run --separate-stderr alloter -T 2 "'$SLEEP' 30"
	[ "$status" -eq 1 ]
	[[ $stderr == *"timed out after 2s"* ]]
}

@test "a task within its deadline is not affected by -T" {
	run --separate-stderr alloter -T 10 'sleep 0.2; echo fine'
	[ "$status" -eq 0 ]
	[ "$output" = fine ]
}

@test "-T applies to each task separately, not to the run" {
	# Three 0.6 s tasks one after another take 1.8 s, more than -T 1.
	run --separate-stderr alloter -j 1 -T 1 'sleep 0.6' 'sleep 0.6' 'sleep 0.6'
	[ "$status" -eq 0 ]
}

@test "a fractional number of seconds is a duration" {
	timed_run --separate-stderr alloter -t 0.5 "'$SLEEP' 30"
	[ "$status" -eq 124 ]
	[ "$elapsed_ms" -lt 5000 ]
}

@test "ms is a duration unit" {
	timed_run --separate-stderr alloter -t 300ms "'$SLEEP' 30"
	[ "$status" -eq 124 ]
	[ "$elapsed_ms" -lt 5000 ]
}

@test "m is minutes, not milliseconds" {
	run --separate-stderr alloter -t 1m 'sleep 0.3'
	[ "$status" -eq 0 ]
}

@test "units combine, as in 1m30s" {
	run --separate-stderr alloter --timeout 1m30s --task-timeout 1h -g 0.5s 'sleep 0.3'
	[ "$status" -eq 0 ]
}

@test "combined units add up" {
	# 0s400ms is 0.4 s: the run must time out quickly.
	timed_run --separate-stderr alloter -t 0s400ms "'$SLEEP' 30"
	[ "$status" -eq 124 ]
	[ "$elapsed_ms" -lt 5000 ]
}
