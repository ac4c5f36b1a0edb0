#!/usr/bin/env bats
# Signals: SIGINT/SIGTERM/SIGHUP to alloter, the second SIGINT, and the
# signal state tasks start with.

bats_require_minimum_version 1.5.0
load helpers

# long_task N : a task that marks itself started, then sleeps.
long_task() {
	echo "touch '$T/started$1'; exec '$SLEEP' 300"
}

# interrupt SIGNAL STATUS : starts two long tasks, sends SIGNAL once both run
# and checks alloter exits with STATUS, reports, and leaves nothing behind.
interrupt() {
	start_bg -j 2 "$(long_task 1)" "$(long_task 2)"
	wait_for_file "$T/started1"
	wait_for_file "$T/started2"
	kill -"$1" "$BG_PID"
	wait_bg 10
	echo "status $bg_status, stderr: $(cat "$T/err")"
	[ "$bg_status" -eq "$2" ]
	[[ $(summary_line "$(cat "$T/err")") == *"0 succeeded"* ]]
	assert_no_survivors
}

@test "SIGINT terminates the tasks, reports and exits 130" {
	interrupt INT 130
}

@test "SIGTERM terminates the tasks, reports and exits 143" {
	interrupt TERM 143
}

@test "SIGHUP terminates the tasks, reports and exits 129" {
	interrupt HUP 129
}

@test "on SIGINT the tasks get SIGTERM" {
	start_bg "trap \"touch '$T/gotterm'; exit 0\" TERM; touch '$T/started1'; while :; do sleep 0.1; done"
	wait_for_file "$T/started1"
	kill -INT "$BG_PID"
	wait_bg 10
	[ "$bg_status" -eq 130 ]
	[ -e "$T/gotterm" ]
}

@test "after SIGTERM no new task starts" {
	start_bg -j 1 "$(long_task 1)" "touch '$T/ran2'" "touch '$T/ran3'"
	wait_for_file "$T/started1"
	kill -TERM "$BG_PID"
	wait_bg 10
	[ "$bg_status" -eq 143 ]
	[ ! -e "$T/ran2" ]
	[ ! -e "$T/ran3" ]
	[[ $(summary_line "$(cat "$T/err")") == *"2 skipped"* ]]
}

@test "SIGINT kills grandchildren too" {
	start_bg "'$SLEEP' 300 & '$SLEEP' 300 & touch '$T/started1'; wait"
	wait_for_file "$T/started1"
	kill -INT "$BG_PID"
	wait_bg 10
	[ "$bg_status" -eq 130 ]
	assert_no_survivors
}

@test "a second SIGINT sends SIGKILL at once" {
	start_bg -j 2 -g 30 \
		"trap '' TERM; touch '$T/started1'; exec '$SLEEP' 300" \
		"trap '' TERM; touch '$T/started2'; exec '$SLEEP' 300"
	wait_for_file "$T/started1"
	wait_for_file "$T/started2"
	kill -INT "$BG_PID"
	sleep 0.5
	kill -INT "$BG_PID"
	wait_bg 8
	[ "$bg_status" -eq 130 ]
	assert_no_survivors
}

@test "one SIGINT leaves a task that ignores SIGTERM its grace period" {
	start_bg -g 30 "trap '' TERM; touch '$T/started1'; exec '$SLEEP' 300"
	wait_for_file "$T/started1"
	kill -INT "$BG_PID"
	sleep 1.5
	# still waiting for the grace period to pass
	pgrep -f -- "$T/sleep 300" >/dev/null
	kill -INT "$BG_PID"
	wait_bg 8
	[ "$bg_status" -eq 130 ]
	assert_no_survivors
}

@test "tasks start with no signal ignored, even when alloter's were" {
	# sanity: the trap below does make the signals ignored across exec
	sanity=$(bash -c "trap '' PIPE INT; exec grep '^SigIgn' /proc/self/status")
	[[ $sanity != *"0000000000000000" ]]
	run --separate-stderr bash -c "trap '' PIPE INT; exec \"\$ALLOTER\" -q 'grep ^SigIgn /proc/self/status'" 3>&-
	[ "$status" -eq 0 ]
	[[ $output == "SigIgn:"*"0000000000000000" ]]
}

@test "tasks start with an empty signal mask" {
	run --separate-stderr bash -c "trap '' PIPE INT; exec \"\$ALLOTER\" -q 'grep ^SigBlk /proc/self/status'" 3>&-
	[ "$status" -eq 0 ]
	[[ $output == "SigBlk:"*"0000000000000000" ]]
}

@test "a task killed by SIGINT is reported as killed by SIGINT" {
	# A task's SIGINT disposition is the default: a SIGINT sent to the task's
	# own process group kills it.
	run --separate-stderr alloter -q 'kill -INT 0; sleep 5; echo survived'
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ $stderr == *"killed by SIGINT"* ]]
}
