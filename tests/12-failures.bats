#!/usr/bin/env bats
# Failed tasks: how they are reported, --fail-fast and --kill-others.

bats_require_minimum_version 1.5.0
load helpers

# core_dumped_by_sh : prints "core" if a shell killing itself with SIGSEGV
# dumps core under the current limits here, else "nocore".
core_dumped_by_sh() {
	perl -e 'system("/bin/sh", "-c", q{kill -SEGV $$}); print(($? & 128) ? "core" : "nocore")'
}

@test "a failure names the task and its exit status on one line" {
	run --separate-stderr alloter -j 1 true true true 'exit 3'
	[ "$status" -eq 1 ]
	line=$(line_with "$stderr" "exit status 3")
	[ -n "$line" ]
	[[ $line == *4* ]]
	# the tasks that succeeded are not reported as failures
	[ -z "$(grep 'exit status' <<<"$stderr" | grep -v 'exit status 3')" ]
}

@test "a command that is not found fails with exit status 127" {
	run --separate-stderr alloter "no-such-command-$marker"
	[ "$status" -eq 1 ]
	[[ $stderr == *"exit status 127"* ]]
}

@test "a failure is reported on stderr as it happens" {
	# Task 2 succeeds only if the failure of task 1 is already in the
	# stderr file while the run is still going.
	rc=0
	alloter -j 2 'exit 3' "i=0; until grep -q 'exit status 3' '$T/err'; do
		i=\$((i + 1)); [ \$i -gt 100 ] && exit 1; sleep 0.1; done" \
		>"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -eq 1 ]
	line=$(summary_line "$(cat "$T/err")")
	[[ $line == *"1 succeeded"* ]]
	[[ $line == *"1 failed"* ]]
}

@test "a task killed by SIGSEGV is reported as killed by SIGSEGV" {
	ulimit -c 0
	run --separate-stderr alloter -j 1 true 'kill -SEGV $$'
	[ "$status" -eq 1 ]
	line=$(line_with "$stderr" "killed by SIGSEGV")
	[ -n "$line" ]
	[[ $line == *2* ]]
}

@test "a task killed by SIGABRT is reported as killed by SIGABRT" {
	ulimit -c 0
	run --separate-stderr alloter 'kill -ABRT $$'
	[ "$status" -eq 1 ]
	[[ $stderr == *"killed by SIGABRT"* ]]
}

@test "a task killed by SIGKILL is reported as killed by SIGKILL" {
	run --separate-stderr alloter 'kill -KILL $$'
	[ "$status" -eq 1 ]
	[[ $stderr == *"killed by SIGKILL"* ]]
}

@test "without a core dump the crash is not reported as core dumped" {
	ulimit -c 0
	[ "$(core_dumped_by_sh)" = nocore ] || skip "cores are dumped even with ulimit -c 0 here"
	run --separate-stderr alloter 'kill -SEGV $$'
	[ "$status" -eq 1 ]
	[[ $stderr == *"killed by SIGSEGV"* ]]
	[[ $stderr != *"core dumped"* ]]
}

@test "a crash that dumped core is reported as core dumped" {
	cd "$T"
	ulimit -c unlimited 2>/dev/null || skip "cannot raise the core size limit"
	[ "$(core_dumped_by_sh)" = core ] || skip "no core is dumped here (core_pattern)"
	run --separate-stderr alloter 'kill -SEGV $$'
	[ "$status" -eq 1 ]
	[[ $stderr == *"killed by SIGSEGV (core dumped)"* ]]
}

@test "crashing tasks neither crash nor hang alloter" {
	ulimit -c 0
	timed_run --separate-stderr alloter -j 2 'kill -SEGV $$' 'kill -ABRT $$' 'kill -BUS $$' 'echo still here'
	[ "$status" -eq 1 ]
	[ "$output" = "still here" ]
	line=$(summary_line "$stderr")
	[[ $line == *"1 succeeded"* ]]
	[[ $line == *"3 failed"* ]]
	[ "$elapsed_ms" -lt 10000 ]
}

@test "-x starts no new task after the first failure" {
	run --separate-stderr alloter -j 1 -x 'exit 1' "touch '$T/ran2'" "touch '$T/ran3'"
	[ "$status" -eq 1 ]
	[ ! -e "$T/ran2" ]
	[ ! -e "$T/ran3" ]
	line=$(summary_line "$stderr")
	[[ $line == *"0 succeeded"* ]]
	[[ $line == *"1 failed"* ]]
	[[ $line == *"2 skipped"* ]]
}

@test "--fail-fast lets running tasks finish" {
	run --separate-stderr alloter -j 2 --fail-fast \
		"touch '$T/started1'; sleep 1; touch '$T/done1'" \
		"i=0; until [ -e '$T/started1' ] || [ \$i -gt 100 ]; do i=\$((i+1)); sleep 0.05; done; exit 1" \
		"touch '$T/ran3'"
	[ "$status" -eq 1 ]
	[ -e "$T/done1" ]
	[ ! -e "$T/ran3" ]
	line=$(summary_line "$stderr")
	[[ $line == *"1 succeeded"* ]]
	[[ $line == *"1 failed"* ]]
	[[ $line == *"1 skipped"* ]]
}

@test "-k terminates the running tasks after the first failure" {
	timed_run --separate-stderr alloter -j 2 -k \
		"touch '$T/started1'; exec '$SLEEP' 300" \
		"i=0; until [ -e '$T/started1' ] || [ \$i -gt 100 ]; do i=\$((i+1)); sleep 0.05; done; exit 1"
	[ "$status" -eq 1 ]
	[ "$elapsed_ms" -lt 10000 ]
	line=$(line_with "$stderr" "terminated: another task failed")
	[ -n "$line" ]
	[[ $line == *1* ]]
	assert_no_survivors
}

@test "--kill-others also kills the grandchildren of the other tasks" {
	timed_run --separate-stderr alloter -j 2 --kill-others \
		"'$SLEEP' 300 & '$SLEEP' 300 & touch '$T/started1'; wait" \
		"i=0; until [ -e '$T/started1' ] || [ \$i -gt 100 ]; do i=\$((i+1)); sleep 0.05; done; exit 1"
	[ "$status" -eq 1 ]
	[ "$elapsed_ms" -lt 10000 ]
	assert_no_survivors
}

@test "--kill-others implies --fail-fast" {
	run --separate-stderr alloter -j 1 --kill-others 'exit 1' "touch '$T/ran2'"
	[ "$status" -eq 1 ]
	[ ! -e "$T/ran2" ]
	[[ $(summary_line "$stderr") == *"1 skipped"* ]]
}
