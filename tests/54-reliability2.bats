#!/usr/bin/env bats
# Reliability, round 2: hostile uses that once hung alloter, lost or
# destroyed data, or gave a wrong count or status.  Each case of the issue
# has a test, and each class one more of its own.

bats_require_minimum_version 1.5.0
load helpers

teardown() {
	if [ -n "${SMALL_MNT:-}" ] && mountpoint -q "$SMALL_MNT"; then
		umount -l "$SMALL_MNT" || true
	fi
	common_teardown
}

# full_disk : mounts a 1 MiB tmpfs as $SMALL_MNT and fills it, or skips.
full_disk() {
	SMALL_MNT="$T/small"
	mkdir -p "$SMALL_MNT"
	if ! mount -t tmpfs -o size=1m tmpfs "$SMALL_MNT" 2>/dev/null; then
		SMALL_MNT=
		skip "cannot mount a tmpfs here"
	fi
	head -c 2000000 /dev/zero >"$SMALL_MNT/fill" 2>/dev/null || true
}

# --- never hang --------------------------------------------------------------

@test "case 2: a closed standard output is reported as such, and the run fails" {
	run --separate-stderr bash -c '"$ALLOTER" "echo hi" >&-'
	echo "status $status; stderr: $stderr"
	[ "$status" -eq 1 ]
	[[ $stderr == *"alloter: output lost: standard output is closed"* ]]
}

# ended_while_waiting OPTION SIGNAL STATUS : while OPTION waits on a FIFO
# that no one opens, SIGNAL ends alloter with STATUS, and nothing runs.
ended_while_waiting() {
	mkfifo "$T/fifo"
	start_bg "$1" "$T/fifo" "touch '$T/ran'"
	sleep 0.5
	kill "-$2" "$BG_PID"
	wait_bg 5
	echo "status $bg_status; stderr: $(cat "$T/err")"
	[ "$bg_status" -eq "$3" ]
	[ ! -e "$T/ran" ]
	[ -p "$T/fifo" ]
}

@test "case 3: SIGINT ends alloter while --joblog waits for a reader of a FIFO" {
	ended_while_waiting --joblog INT 130
}

@test "case 3: SIGTERM ends alloter while --report waits for a reader of a FIFO" {
	ended_while_waiting --report TERM 143
}

@test "case 3: SIGINT ends alloter while it waits for a --hosts-file FIFO" {
	ended_while_waiting --hosts-file INT 130
}

@test "case 3: a job log FIFO whose reader comes later gets the whole log" {
	mkfifo "$T/fifo"
	start_bg --joblog "$T/fifo" 'echo one' 'echo two'
	sleep 0.3
	timeout 20 cat "$T/fifo" >"$T/log"
	wait_bg 10
	cat "$T/log"
	[ "$bg_status" -eq 0 ]
	[ "$(wc -l <"$T/log")" -eq 3 ]
	[ -p "$T/fifo" ]
}

# escaping_task : a task whose setsid grandchild ignores SIGTERM.
escaping_task() {
	echo "setsid sh -c 'trap \"\" TERM; exec $SLEEP 100' & exec $SLEEP 100"
}

@test "case 5: SIGINT during the clean-up after -t makes the exit status 130" {
	start_bg -t 1 -g 6 "$(escaping_task)"
	sleep 1.8
	kill -INT "$BG_PID"
	wait_bg 20
	echo "status $bg_status; stderr: $(cat "$T/err")"
	[ "$bg_status" -eq 130 ]
	assert_no_survivors
}

@test "case 5: a second SIGINT during the clean-up after -t skips the grace period" {
	start_bg -t 1 -g 20 "$(escaping_task)"
	sleep 1.8
	kill -INT "$BG_PID"
	sleep 0.3
	kill -INT "$BG_PID"
	wait_bg 10
	echo "status $bg_status in $bg_elapsed_ms ms; stderr: $(cat "$T/err")"
	[ "$bg_status" -eq 130 ]
	[ "$bg_elapsed_ms" -lt 5000 ]
	assert_no_survivors
}

# --- never destroy or lose data ----------------------------------------------

@test "case 6: --report onto a character device writes to it and leaves it a device" {
	mknod "$T/null" c 1 3 2>/dev/null || skip "cannot make a device node here"
	run --separate-stderr alloter --report "$T/null" true
	echo "status $status; stderr: $stderr"
	[ "$status" -eq 0 ]
	[ -c "$T/null" ]
	[ -z "$(ls "$T" | grep -v -e '^null$' -e '^sleep$' -e '^yes$')" ]
}

@test "case 6: --report through a symlink to a FIFO writes into the FIFO" {
	mkfifo "$T/fifo"
	ln -s "$T/fifo" "$T/link"
	timeout 20 cat "$T/fifo" >"$T/got" &
	run --separate-stderr alloter --report "$T/link" 'echo hi'
	wait
	echo "status $status; stderr: $stderr"
	[ "$status" -eq 0 ]
	[ -p "$T/fifo" ]
	[ -L "$T/link" ]
	[ "$(jq -r '.tasks[0].status' "$T/got")" = succeeded ]
}

@test "case 6: --report /dev/fd/2 adds the report to standard error's file" {
	local st=0
	alloter --report /dev/fd/2 'echo hi' 2>"$T/err" >/dev/null || st=$?
	echo "status $st"
	cat "$T/err"
	[ "$st" -eq 0 ]
	[ -f "$T/err" ]
	grep -q '"status": "succeeded"' "$T/err"
	grep -q '1 succeeded' "$T/err"
}

@test "case 6: --report through a symlink to a regular file replaces the file and keeps the link" {
	echo old >"$T/real"
	ln -s "$T/real" "$T/link"
	run --separate-stderr alloter --report "$T/link" true
	[ "$status" -eq 0 ]
	[ -L "$T/link" ]
	[ "$(jq -r '.run.succeeded' "$T/real")" = 1 ]
}

# refused_dir OPTION : OPTION naming a directory is exit 2 before anything
# runs, and leaves no temporary file.
refused_dir() {
	mkdir -p "$T/dir"
	run --separate-stderr alloter "$1" "$T/dir" "touch '$T/ran'"
	echo "status $status; stderr: $stderr"
	[ "$status" -eq 2 ]
	[[ $stderr == *"$1 '$T/dir': Is a directory"* ]]
	[ ! -e "$T/ran" ]
	[ -z "$(ls "$T" | grep -F 'dir.')" ]
}

@test "case 7: --report naming a directory is exit 2 before anything runs" {
	refused_dir --report
}

@test "case 7: --joblog naming a directory is exit 2 before anything runs" {
	refused_dir --joblog
}

@test "case 8: --joblog and --report naming the same file are refused with exit 2" {
	run --separate-stderr alloter --joblog "$T/x" --report "$T/./x" "touch '$T/ran'"
	echo "status $status; stderr: $stderr"
	[ "$status" -eq 2 ]
	[[ $stderr == *"name the same file"* ]]
	[ ! -e "$T/ran" ]
	[ ! -e "$T/x" ]
	[ -z "$(ls "$T" | grep -F 'x.')" ]
}

@test "case 8: --joblog and --report naming one file by two hard links are refused" {
	echo keep >"$T/x"
	ln "$T/x" "$T/y"
	run --separate-stderr alloter --joblog "$T/x" --report "$T/y" "touch '$T/ran'"
	echo "status $status; stderr: $stderr"
	[ "$status" -eq 2 ]
	[ ! -e "$T/ran" ]
	[ "$(cat "$T/x")" = keep ]
}

@test "case 8: --joblog /dev/stdout loses no line of the tasks' output" {
	alloter --joblog /dev/stdout 'seq 1 60' >"$T/out" 2>/dev/null
	cat "$T/out"
	[ "$(grep -c -x '[0-9]*' "$T/out")" -eq 60 ]
	[ "$(seq 1 60)" = "$(grep -x '[0-9]*' "$T/out")" ]
	grep -q '^Seq' "$T/out"
	[ "$(grep -c 'seq 1 60$' "$T/out")" -eq 1 ]
}

@test "case 8: --joblog /proc/self/fd/1 onto a file also written by tasks loses nothing" {
	alloter -j 4 --joblog /proc/self/fd/1 'seq 1 100' 'seq 101 200' 'seq 201 300' >"$T/out" 2>/dev/null
	[ "$(grep -x '[0-9]*' "$T/out" | sort -n)" = "$(seq 1 300)" ]
	[ "$(grep -c '	seq ' "$T/out")" -eq 3 ]
}

@test "case 10: a report on a full file system is exit 1, and nothing is left under its name" {
	full_disk
	run --separate-stderr alloter --report "$SMALL_MNT/r.json" true
	echo "status $status; stderr: $stderr"
	[ "$status" -eq 1 ]
	[[ $stderr == *"--report '$SMALL_MNT/r.json': No space left on device"* ]]
	[ ! -e "$SMALL_MNT/r.json" ]
	[ "$(ls "$SMALL_MNT")" = fill ]
}

@test "case 10: a job log on a full file system is exit 1, and no part of it is left" {
	full_disk
	run --separate-stderr alloter --joblog "$SMALL_MNT/jl" 'echo hi'
	echo "status $status; stderr: $stderr"
	[ "$status" -eq 1 ]
	[[ $stderr == *"--joblog '$SMALL_MNT/jl': No space left on device"* ]]
	[ "$(ls "$SMALL_MNT")" = fill ]
}

@test "case 10: a report to a device that fails writes is exit 1" {
	# A device node of its own: a broken build must not replace /dev/full.
	mknod "$T/full" c 1 7 2>/dev/null || skip "cannot make a device node here"
	run --separate-stderr alloter --report "$T/full" true
	echo "status $status; stderr: $stderr"
	[ "$status" -eq 1 ]
	[[ $stderr == *"--report '$T/full': No space left on device"* ]]
	[ -c "$T/full" ]
}

@test "case 9: past ulimit -f alloter says output lost: File too large, and leaves no task or temporary file" {
	export T SLEEP
	run --separate-stderr timeout -s KILL 30 bash -c 'ulimit -f 100
		exec "$ALLOTER" -o line --report "$T/r.json" "head -c 1000000 /dev/zero" "$SLEEP 2" >"$T/big" 3>&-'
	echo "status $status; stderr: $stderr"
	[ "$status" -eq 1 ]
	[[ $stderr == *"alloter: output lost: File too large"* ]]
	assert_no_survivors
	[ -z "$(ls "$T" | grep -F 'r.json.')" ]
	[ "$(jq -r '.run.exit_status' "$T/r.json")" = 1 ]
}

@test "case 9: a group-mode spool past ulimit -f is that task's output lost, with the reason" {
	export T
	run --separate-stderr timeout -s KILL 30 bash -c 'ulimit -f 100
		exec "$ALLOTER" "head -c 1000000 /dev/zero" "echo fine" >"$T/out" 3>&-'
	echo "status $status; stderr: $stderr"
	[ "$status" -eq 1 ]
	[[ $stderr == *"task '1': output lost: File too large"* ]]
	[ "$(cat "$T/out")" = fine ]
}

# --- never a wrong count or status ---------------------------------------------

@test "case 14: too few descriptors for even one task is exit 2 with the reason, before anything runs" {
	local n
	for n in 10 12 14 16; do
		run --separate-stderr bash -c "ulimit -n $n; exec \"\$ALLOTER\" --report '$T/r.json' \"touch '$T/ran'\" \"touch '$T/ran'\" 3>&-"
		echo "ulimit -n $n: status $status; stderr: $stderr"
		[ "$status" -eq 2 ]
		[[ $stderr == *"the descriptor limit is $n (see ulimit -n): too low to run even one task"* ]]
		[ ! -e "$T/ran" ]
		[ ! -e "$T/r.json" ]
	done
}

@test "case 14: with just enough descriptors for one task every task runs and succeeds" {
	local n ok=0
	for n in 17 18 19 20 21 22 24 28; do
		run --separate-stderr bash -c "ulimit -n $n; exec \"\$ALLOTER\" -j 4 'echo a' 'echo b' 'echo c' 3>&-"
		echo "ulimit -n $n: status $status; stderr: $stderr"
		if [ "$status" -eq 2 ]; then
			[[ $stderr == *"too low to run even one task"* ]]
			continue
		fi
		[ "$status" -eq 0 ]
		[[ $stderr == *"3 succeeded, 0 failed, 0 skipped"* ]]
		ok=$((ok + 1))
	done
	[ "$ok" -ge 4 ]
}

# --- clear messages, checked input -----------------------------------------

@test "case 18: a task file's hosts: [] is exit 2, as an empty -S is" {
	printf 'hosts: []\ntasks:\n  - run: touch %s/ran\n' "$T" >"$T/t.yaml"
	run --separate-stderr alloter -f "$T/t.yaml"
	echo "status $status; stderr: $stderr"
	[ "$status" -eq 2 ]
	[[ $stderr == *"hosts: the list is empty"* ]]
	[ ! -e "$T/ran" ]
}

@test "case 18: a task file's limit past 1000000 is refused, naming the file's key" {
	printf 'limit: 2000000\ntasks:\n  - run: touch %s/ran\n' "$T" >"$T/t.yaml"
	run --separate-stderr alloter -f "$T/t.yaml"
	echo "status $status; stderr: $stderr"
	[ "$status" -eq 2 ]
	[[ $stderr == *"limit: 2000000 is more than the most, 1000000"* ]]
	[[ $stderr != *"--limit"* ]]
	[ ! -e "$T/ran" ]
}

@test "case 18: a task file's limit lowered for descriptors is named as the file's" {
	printf 'limit: 5000\ntasks:\n  - run: "true"\n' >"$T/t.yaml"
	run --separate-stderr bash -c "ulimit -n 300; exec \"\$ALLOTER\" -f '$T/t.yaml' 3>&-"
	echo "status $status; stderr: $stderr"
	[ "$status" -eq 0 ]
	[[ $stderr == *"the task file's limit 5000 lowered to"* ]]
}

@test "case 19: a host beginning with '-' is refused with exit 2 and never reaches ssh" {
	run --separate-stderr alloter -S "1/-oProxyCommand=touch_$T/pwned" "touch '$T/ran'"
	echo "status $status; stderr: $stderr"
	[ "$status" -eq 2 ]
	[[ $stderr == *"must not begin with '-'"* ]]
	[ ! -e "$T/ran" ]
	[ ! -e "$T/pwned" ]
}

@test "case 19: ssh gets -- before the host" {
	printf '#!/bin/sh\nprintf "%%s\\n" "$@" >>"%s/args"\nexit 255\n' "$T" >"$T/fakessh"
	chmod +x "$T/fakessh"
	run --separate-stderr alloter --ssh "$T/fakessh" -S 1/somehost true
	cat "$T/args"
	grep -A1 -x -- '--' "$T/args" | grep -q -x somehost
	[ "$(grep -c -x somehost "$T/args")" -eq "$(grep -B1 -x somehost "$T/args" | grep -c -x -- '--')" ]
}

@test "clear messages: alloter says what it waits for when a job log FIFO has no reader" {
	mkfifo "$T/fifo"
	start_bg --joblog "$T/fifo" true
	sleep 2
	kill -TERM "$BG_PID"
	wait_bg 5
	cat "$T/err"
	grep -q "'$T/fifo': waiting for a reader of the FIFO" "$T/err"
}

@test "case 15: a -T deadline that passes while alloter is stopped is enforced after SIGCONT" {
	start_bg -T 1 "$SLEEP 2"
	sleep 0.3
	kill -STOP "$BG_PID"
	sleep 3
	kill -CONT "$BG_PID"
	wait_bg 20
	[ "$bg_status" -eq 1 ]
	grep -q "timed out after 1s" "$T/err"
	grep -q "0 succeeded, 1 failed" "$T/err"
}

@test "never a wrong status: a task still running after SIGCONT past its deadline is terminated at once" {
	start_bg -T 1 "$SLEEP 30"
	sleep 0.3
	kill -STOP "$BG_PID"
	sleep 2
	t0=$(now_ms)
	kill -CONT "$BG_PID"
	wait_bg 20
	[ "$bg_status" -eq 1 ]
	[ $(( $(now_ms) - t0 )) -lt 5000 ]
	grep -q "timed out after 1s" "$T/err"
}

@test "case 18: an env name holding a NUL is shown escaped" {
	printf 'env:\n  "A\\0B": x\ntasks:\n  - touch ran\n' >"$T/n.yaml"
	run --separate-stderr alloter -f "$T/n.yaml"
	[ "$status" -eq 2 ]
	[ "$stderr" = "$T/n.yaml:2:3: env: invalid name 'A\\0B'" ]
}

@test "case 11: output a setsid descendant writes after its task ended is said not to be read" {
	run --separate-stderr alloter -j 1 "setsid sh -c 'touch $T/ready; sleep 1; echo late' & while [ ! -e $T/ready ]; do sleep 0.01; done; echo early" 'echo two'
	[ "$status" -eq 0 ]
	[ "$output" = $'early\ntwo' ]
	[[ $stderr == *"task '1': output after its end was not read: a process it started outside its process group still holds its output open"* ]]
	[[ $stderr != *"task '2': output after"* ]]
	sleep 1.2
}

@test "never lose data silently: a descendant in the task's group holds nothing back" {
	run --separate-stderr alloter -j 1 "$SLEEP 30 & echo early"
	[ "$status" -eq 0 ]
	[ "$output" = early ]
	[[ $stderr != *"was not read"* ]]
}

@test "case 13: --keep-order with many finished tasks held keeps no descriptor per task" {
	cmds=("sleep 1; seq 1 30000")
	for i in $(seq 300); do cmds+=("seq 1 30000"); done
	run --separate-stderr bash -c 'ulimit -n 100; "$ALLOTER" -j 4 --keep-order "$@" >"$0"' "$T/out" "${cmds[@]}"
	[ "$status" -eq 0 ]
	[[ $(summary_line "$stderr") == *"301 succeeded, 0 failed"* ]]
	for i in $(seq 301); do seq 1 30000; done | cmp - "$T/out"
	[[ $stderr != *"not read"* ]]
}
