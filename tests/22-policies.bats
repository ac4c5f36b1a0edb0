#!/usr/bin/env bats
# Rerun and pacing policies: -r, --retry-delay, --resume, --resume-failed,
# --halt, --delay, --load, --memfree, and their task-file keys.

bats_require_minimum_version 1.5.0
load helpers

# start times of the report's tasks, sorted, one per line (seconds)
starts() {
	python3 - "$1" <<-'EOF'
	import json, sys
	for s in sorted(t["start"] for t in json.load(open(sys.argv[1]))["tasks"] if "start" in t):
	    print(s)
	EOF
}

@test "-r N runs a failed task up to N more times; it keeps its number and name" {
	run --separate-stderr alloter -j 1 -r 2 --joblog "$T/log" "echo x >>$T/tries; exit 1" 'true'
	[ "$status" -eq 1 ]
	[ "$(wc -l <"$T/tries")" -eq 3 ]
	[ "$(cut -f1 "$T/log" | grep -c '^1$')" -eq 3 ]
	[[ $(summary_line "$stderr") == *"2 tasks: 1 succeeded, 1 failed, 0 skipped (4 attempts)"* ]]
	[[ $stderr == *"task '1': exit status 1 (attempt 1 of 3; retrying)"* ]]
	run --separate-stderr alloter -j 1 --retries 1 "test -e $T/ok || { touch $T/ok; exit 1; }"
	[ "$status" -eq 0 ]
}

@test "-r: a timeout counts as a failure; a task terminated by kill-others is not retried" {
	run --separate-stderr alloter -j 1 -r 1 -T 0.2 "echo x >>$T/t; exec $SLEEP 5"
	[ "$status" -eq 1 ]
	[ "$(wc -l <"$T/t")" -eq 2 ]
	run --separate-stderr alloter -j 2 -r 3 -k "echo x >>$T/k; exec $SLEEP 30" 'sleep 0.3; exit 1'
	[ "$status" -eq 1 ]
	[ "$(wc -l <"$T/k")" -eq 1 ]
}

@test "-r overrides the task file's retries, the task's own and the top-level one" {
	printf 'retries: 3\ntasks:\n  - name: a\n    run: echo x >>%s/a; exit 1\n    retries: 2\n  - name: b\n    run: echo x >>%s/b; exit 1\n' "$T" "$T" >"$T/t.yaml"
	run --separate-stderr alloter -j 1 -f "$T/t.yaml"
	[ "$(wc -l <"$T/a")" -eq 3 ]
	[ "$(wc -l <"$T/b")" -eq 4 ]
	rm "$T/a" "$T/b"
	run --separate-stderr alloter -j 1 -f "$T/t.yaml" -r 0
	[ "$(wc -l <"$T/a")" -eq 1 ]
	[ "$(wc -l <"$T/b")" -eq 1 ]
}

@test "--retry-delay waits before each retry, growing by the factor up to the cap" {
	start=$(now_ms)
	run --separate-stderr alloter -j 1 -r 3 --retry-delay 0.2,2,0.5 --report "$T/r.json" "date +%s.%N >>$T/at; exit 1"
	[ "$status" -eq 1 ]
	mapfile -t at <"$T/at"
	[ "${#at[@]}" -eq 4 ]
	# waits 0.2, 0.4, 0.5 (cap), each within 10 %: generous bounds below
	gaps=$(awk 'NR > 1 { printf "%.3f\n", $1 - p } { p = $1 }' "$T/at")
	read -r g1 g2 g3 <<<"$(echo $gaps)"
	awk -v a="$g1" -v b="$g2" -v c="$g3" 'BEGIN { exit !(a >= 0.17 && b >= 0.35 && c >= 0.44 && c < 2.0) }'
}

@test "a retry waiting for its delay holds no slot: -j 1 runs the next task meanwhile" {
	run --separate-stderr alloter -j 1 -r 1 --retry-delay 1 "echo first >>$T/order; exit 1" "echo second >>$T/order"
	[ "$(head -n 2 "$T/order" | tr '\n' ' ')" = "first second " ]
	[ "$(wc -l <"$T/order")" -eq 3 ]
}

@test "retry_delay in a task file, top level and per task" {
	printf 'retry_delay: 5s\ntasks:\n  - name: a\n    run: date +%%s.%%N >>%s/a; exit 1\n    retries: 1\n    retry_delay: 0.1\n' "$T" >"$T/t.yaml"
	start=$(now_ms)
	run --separate-stderr alloter -f "$T/t.yaml"
	[ "$(wc -l <"$T/a")" -eq 2 ]
	[ $(( $(now_ms) - start )) -lt 4000 ]
}

@test "--resume: an interrupted run is finished, each task once to success or failed once more" {
	{
		echo 'tasks:'
		for i in $(seq 50); do
			if [ $((i % 7)) -eq 0 ]; then cmd="echo $i >>$T/ran; exit 1"
			else cmd="echo $i >>$T/ran; sleep 0.2 && echo $i >>$T/done"; fi
			printf '  - name: t%d\n    run: "%s"\n' "$i" "$cmd"
		done
	} >"$T/t.yaml"
	# Interrupt once about half of the tasks have run.
	start_bg -j 2 -q --joblog "$T/log" -f "$T/t.yaml"
	for _ in $(seq 400); do [ "$(wc -l <"$T/ran" 2>/dev/null || echo 0)" -ge 20 ] && break; sleep 0.05; done
	kill -INT "$BG_PID"
	wait_bg 30
	[ "$bg_status" -eq 130 ]
	first=$(wc -l <"$T/ran")
	[ "$first" -lt 50 ]
	cp "$T/ran" "$T/ran1"
	run --separate-stderr alloter -j 2 --resume "$T/log" -f "$T/t.yaml"
	[ "$status" -eq 1 ]
	# every task succeeded exactly once overall, or failed once more
	for i in $(seq 50); do
		if [ $((i % 7)) -eq 0 ]; then
			n=$(grep -cx "$i" "$T/ran" || true)
			in1=$(grep -cx "$i" "$T/ran1" || true)
			[ "$n" -eq $((in1 + 1)) ] || { echo "task $i ran $n times"; false; }
		else
			n=$(grep -cx "$i" "$T/done" || true)
			[ "$n" -eq 1 ] || { echo "task $i succeeded $n times"; false; }
		fi
	done
	# one job-log line per attempt, the header once
	[ "$(grep -c '^Seq' "$T/log")" -eq 1 ]
	[ "$(($(wc -l <"$T/log") - 1))" -eq "$(wc -l <"$T/ran")" ]
	[[ $(summary_line "$stderr") == *"done earlier"* ]]
}

@test "--resume-failed runs again only what failed, and what the log lacks" {
	alloter -q -j 1 --joblog "$T/log" "echo a >>$T/ran" "echo b >>$T/ran; exit 2" || true
	run --separate-stderr alloter -j 1 --resume-failed "$T/log" "echo a >>$T/ran" "echo b >>$T/ran; exit 2" "echo c >>$T/ran"
	[ "$status" -eq 1 ]
	[ "$(tr '\n' ' ' <"$T/ran")" = "a b b c " ]
	[[ $(summary_line "$stderr") == *"1 skipped (1 done earlier)"* ]]
}

@test "--resume accepts a job log written by GNU parallel" {
	command -v parallel >/dev/null && parallel --version 2>/dev/null | grep -q 'GNU parallel' || skip "GNU parallel is not installed"
	printf '%s\n' "echo a >>$T/ran" "echo b >>$T/ran; exit 3" >"$T/cmds"
	parallel --will-cite -j 1 --joblog "$T/log" <"$T/cmds" || true
	run --separate-stderr alloter -j 1 --resume "$T/log" <"$T/cmds"
	[ "$status" -eq 1 ]
	[ "$(tr '\n' ' ' <"$T/ran")" = "a b b " ]
}

@test "--resume refuses a log of other commands, and a file that is not a job log" {
	alloter -q --joblog "$T/log" "echo a" "echo b"
	run --separate-stderr alloter --resume "$T/log" "touch $T/ran" "echo b"
	[ "$status" -eq 2 ]
	[[ $stderr == *"task 1 is 'touch $T/ran' here but 'echo a' in the log (line "* ]]
	printf 'hello\nworld\n' >"$T/notlog"
	run --separate-stderr alloter --resume "$T/notlog" "touch $T/ran"
	[ "$status" -eq 2 ]
	[[ $stderr == *"line 1 is not a job log's"* ]]
	printf 'Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n1\tx\n' >"$T/badlog"
	run --separate-stderr alloter --resume "$T/badlog" "touch $T/ran"
	[ "$status" -eq 2 ]
	[[ $stderr == *"line 2 is not a job log's"* ]]
	run --separate-stderr alloter --resume "$T/log" --resume-failed "$T/log" "touch $T/ran"
	[ "$status" -eq 2 ]
	[ ! -e "$T/ran" ]
	# the refused log is left as it was
	[ "$(wc -l <"$T/log")" -eq 3 ]
}

@test "--joblog +FILE appends, the header once" {
	alloter -q --joblog "$T/log" 'echo a'
	alloter -q --joblog "+$T/log" 'echo b'
	[ "$(wc -l <"$T/log")" -eq 3 ]
	[ "$(grep -c '^Seq' "$T/log")" -eq 1 ]
	[ "$(tail -n 1 "$T/log" | cut -f9)" = "echo b" ]
}

@test "--halt now,fail=20% over 100 tasks, 30 of them failing, stops at the 20th failure" {
	cmds=()
	for i in $(seq 100); do
		if [ $((i % 3)) -eq 0 ] && [ "$i" -le 90 ]; then cmds+=("exit 1"); else cmds+=("true"); fi
	done
	run --separate-stderr alloter -j 1 --halt now,fail=20% --report "$T/r.json" "${cmds[@]}"
	[ "$status" -eq 1 ]
	[[ $stderr == *"halted: 20% of the tasks failed (--halt now,fail=20%)"* ]]
	python3 - "$T/r.json" <<-'EOF'
	import json, sys
	r = json.load(open(sys.argv[1]))
	assert r["run"]["failed"] == 20, r["run"]
	ran = [t for t in r["tasks"] if t["status"] != "skipped"]
	assert max(t["index"] for t in ran) == 60, max(t["index"] for t in ran)
	assert all(t["skip_reason"] == "halt" for t in r["tasks"] if t["status"] == "skipped")
	EOF
}

@test "--halt now terminates the running tasks; soon lets them finish" {
	run --separate-stderr alloter -j 3 --halt now,fail=2 "$SLEEP 30" 'exit 1' 'sleep 0.2; exit 1'
	[ "$status" -eq 1 ]
	[[ $stderr == *"terminated: the --halt policy was met"* ]]
	run --separate-stderr alloter -j 2 --halt soon,fail=2 "sleep 0.6; touch $T/finished" 'exit 1' 'sleep 0.2; exit 1' "touch $T/never"
	[ "$status" -eq 1 ]
	[ -e "$T/finished" ]
	[ ! -e "$T/never" ]
}

@test "--halt soon,success=1 stops at the first success and exits 0" {
	run --separate-stderr alloter -j 1 --halt soon,success=1 'exit 1' 'true' "touch $T/never"
	[ "$status" -eq 0 ]
	[ ! -e "$T/never" ]
	[[ $stderr == *"halted: 1 task succeeded"* ]]
}

@test "--halt in a task file" {
	printf 'halt: soon,done=2\ntasks:\n  - "true"\n  - "exit 1"\n  - touch %s/never\n' "$T" >"$T/t.yaml"
	run --separate-stderr alloter -j 1 -f "$T/t.yaml"
	[ "$status" -eq 1 ]
	[ ! -e "$T/never" ]
}

@test "--delay 0.2 with -j 8: starts at least 0.2 s apart" {
	cmds=()
	for i in $(seq 10); do cmds+=("true"); done
	run --separate-stderr alloter -j 8 --delay 0.2 --report "$T/r.json" "${cmds[@]}"
	[ "$status" -eq 0 ]
	starts "$T/r.json" | awk 'NR > 1 && $1 - p < 0.195 { bad = 1 } { p = $1 } END { exit bad }'
}

@test "--delay holds up neither the deadline nor an interrupt" {
	start=$(now_ms)
	run --separate-stderr alloter -j 4 --delay 30 -t 1 true true true
	[ "$status" -eq 124 ]
	[ $(( $(now_ms) - start )) -lt 10000 ]
	start_bg -j 4 --delay 30 true true true
	sleep 0.5
	kill -INT "$BG_PID"
	wait_bg 10
	[ "$bg_status" -eq 130 ]
}

@test "--load waits while the load average is high (a fake /proc/loadavg)" {
	echo "9.00 1.00 1.00 1/100 1" >"$T/loadavg"
	export ALLOTER_TEST_LOADAVG="$T/loadavg"
	start_bg --load 2 "touch $T/ran"
	sleep 1
	[ ! -e "$T/ran" ]
	echo "0.50 1.00 1.00 1/100 1" >"$T/loadavg"
	wait_bg 20
	[ "$bg_status" -eq 0 ]
	[ -e "$T/ran" ]
}

@test "--memfree waits for memory, and takes the youngest task back below half" {
	printf 'MemTotal: 8000000 kB\nMemAvailable: 100000 kB\n' >"$T/meminfo"
	export ALLOTER_TEST_MEMINFO="$T/meminfo"
	start_bg --memfree 500M "touch $T/ran"
	sleep 1
	[ ! -e "$T/ran" ]
	printf 'MemTotal: 8000000 kB\nMemAvailable: 1000000 kB\n' >"$T/meminfo"
	wait_bg 20
	[ "$bg_status" -eq 0 ]
	[ -e "$T/ran" ]
	# below half while it runs: terminated and queued again, then done
	printf 'MemAvailable: 1000000 kB\n' >"$T/meminfo"
	start_bg --memfree 500M "echo x >>$T/tries; $SLEEP 1"
	for _ in $(seq 100); do [ -e "$T/tries" ] && break; sleep 0.05; done
	printf 'MemAvailable: 100000 kB\n' >"$T/meminfo"
	sleep 1
	printf 'MemAvailable: 1000000 kB\n' >"$T/meminfo"
	wait_bg 30
	[ "$bg_status" -eq 0 ]
	[ "$(wc -l <"$T/tries")" -eq 2 ]
	grep -q "queued again" "$T/err"
}

@test "bad policies: exit 2, a clear message, nothing run" {
	bad() { # OPTION... ; the message must name the option
		run --separate-stderr alloter "$@" "touch $T/ran"
		[ "$status" -eq 2 ] || { echo "status $status for $*"; false; }
		[[ $stderr == *"${1%% *}"* ]] || { echo "no mention of $1: $stderr"; false; }
	}
	bad --retries -1
	bad --retries 99999999999
	bad --retry-delay 1s,0.5
	bad --halt sometimes,fail=1
	bad --halt now,fail=0
	bad --halt now,fail=150%
	bad --delay -1
	bad --load abc
	bad --memfree 12Q
	printf 'memfree: 12Q\ntasks:\n  - touch %s/ran\n' "$T" >"$T/t.yaml"
	run --separate-stderr alloter -f "$T/t.yaml"
	[ "$status" -eq 2 ]
	[[ $stderr == "$T/t.yaml:1:10: memfree: invalid value '12Q'"* ]]
	[ ! -e "$T/ran" ]
}

@test "-n lists the policies in force on stderr, and runs nothing" {
	run --separate-stderr alloter -n -r 2 --retry-delay 1s,2,30s --halt now,fail=20% --delay 0.2 --load 4 --memfree 2G "touch $T/ran"
	[ "$status" -eq 0 ]
	[ "$stderr" = "alloter: policies: --retries 2, --retry-delay 1s,2,30s, --halt now,fail=20%, --delay 200ms, --load 4, --memfree 2048M" ]
	[ "$output" = "1	touch $T/ran" ]
	run --separate-stderr alloter -n true
	[ "$stderr" = "" ]
	[ ! -e "$T/ran" ]
}

@test "--halt's percentage counts against every task when a template's file source is known ahead" {
	printf '%s\n' 1 1 0 0 >"$T/codes"
	run --separate-stderr alloter -j 1 --halt soon,fail=50% "echo {} >>$T/ran; exit {}" :::: "$T/codes"
	[ "$status" -eq 1 ]
	# 2 of 4 is 50 %: the second failure halts, not the first
	[ "$(wc -l <"$T/ran")" -eq 2 ]
	# streamed from a pipe the total is not known: it counts those read
	run --separate-stderr bash -c 'cat "$1" | "$ALLOTER" -j 1 --halt soon,fail=50% "echo {} >>$2; exit {}"' _ "$T/codes" "$T/ran2"
	[ "$(wc -l <"$T/ran2")" -eq 1 ]
}

@test "the report gives each attempt's CPU time and peak memory" {
	alloter -q --report "$T/r.json" 'python3 -c "a = bytearray(150 * 1024 * 1024); sum(range(3000000))"' 'true'
	python3 - "$T/r.json" <<-'EOF'
	import json, sys
	t = {x["index"]: x for x in json.load(open(sys.argv[1]))["tasks"]}
	assert t[1]["max_rss_kb"] > 150 * 1024, t[1]
	assert t[1]["cpu_user_s"] + t[1]["cpu_sys_s"] > 0.05, t[1]
	assert t[2]["max_rss_kb"] < 50 * 1024, t[2]
	EOF
}
