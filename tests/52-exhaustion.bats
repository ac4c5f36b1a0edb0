#!/usr/bin/env bats
# Resource exhaustion: too few file descriptors for --limit, a spool disk
# that fills up, no processes left under ulimit -u, and an endless task
# writing to a slow reader.  Each gets a clear, bounded behaviour: never a
# crash, a hang, a half-run or silent truncation.

bats_require_minimum_version 1.5.0
load helpers

teardown() {
	if [ -n "${SPOOL_MNT:-}" ] && mountpoint -q "$SPOOL_MNT"; then
		umount -l "$SPOOL_MNT" || true
	fi
	if [ -n "${NPROC_DIR:-}" ]; then
		pkill -KILL -u 65534 -f -- "$NPROC_DIR" 2>/dev/null || true
		rm -rf "$NPROC_DIR"
	fi
	common_teardown
}

# max_overlap REPORT : the most tasks of REPORT that ran at the same time,
# from their start and duration.  Both are rounded to milliseconds, so each
# task is taken to end 2 ms early: a task started the moment another ended
# does not count as overlapping it.
max_overlap() {
	jq -r '.tasks[] | select(.start != null) |
		"\(.start * 1000 | floor) 1\n\(.start * 1000 + .duration_ms - 2 | floor) -1"' "$1" |
		sort -n -k1,1 -k2,2n | awk '{ n += $2; if (n > m) m = n } END { print m + 0 }'
}

# --- descriptors -----------------------------------------------------------

@test "a --limit the descriptor limit cannot hold is lowered with a message and every task still runs" {
	local cmds=() i
	for i in $(seq 20); do cmds+=("echo task-$i"); done
	run --separate-stderr bash -c 'ulimit -n 64 && exec "$@"' _ \
		timeout -s KILL 60 "$ALLOTER" -j 1000 "${cmds[@]}" 3>&-
	echo "status $status; stderr: $stderr"
	[ "$status" -eq 0 ]
	[[ $stderr == *"alloter: --limit 1000 lowered to "*": the descriptor limit is 64"* ]]
	[ "$(sort <<<"$output")" = "$(for i in $(seq 20); do echo "task-$i"; done | sort)" ]
}

@test "the lowered limit is obeyed and fits: tasks spooling both streams all succeed" {
	local cmds=() i lowered
	for i in $(seq 40); do
		cmds+=("head -c 100000 /dev/zero; head -c 100000 /dev/zero >&2; sleep 0.1")
	done
	mkdir "$T/tmp"
	run --separate-stderr bash -c 'ulimit -n 128 && exec "$@" >/dev/null' _ \
		env TMPDIR="$T/tmp" timeout -s KILL 60 "$ALLOTER" -j 1000 --report "$T/report.json" \
		"${cmds[@]}" 3>&-
	echo "status $status; stderr: $(grep -a '^alloter' <<<"$stderr")"
	[ "$status" -eq 0 ]
	lowered=$(grep -ao 'lowered to [0-9]*' <<<"$stderr" | grep -o '[0-9]*$')
	[ -n "$lowered" ]
	[ "$lowered" -ge 1 ]
	[ "$(jq '[.tasks[] | select(.status == "succeeded")] | length' "$T/report.json")" -eq 40 ]
	echo "lowered to $lowered; at most $(max_overlap "$T/report.json") at once"
	[ "$(max_overlap "$T/report.json")" -le "$lowered" ]
}

@test "with -j 0 past the descriptor limit, tasks without a descriptor fail with the reason and the run ends" {
	local cmds=() i
	for i in $(seq 100); do cmds+=("sleep 0.3"); done
	timed_run --separate-stderr bash -c 'ulimit -n 64 && exec "$@"' _ \
		timeout -s KILL 60 "$ALLOTER" -j 0 --report "$T/report.json" "${cmds[@]}" 3>&-
	echo "status $status; stderr tail: ${stderr: -400}"
	[ "$status" -eq 1 ]
	[ "$elapsed_ms" -lt 30000 ]
	# Every task is accounted for, and each failure names its cause.
	[ "$(jq '.tasks | length' "$T/report.json")" -eq 100 ]
	[ "$(jq '[.tasks[] | select(.status == "succeeded" or
		(.status == "failed" and .error == "Too many open files"))] | length' \
		"$T/report.json")" -eq 100 ]
	[ "$(jq '[.tasks[] | select(.status == "failed")] | length' "$T/report.json")" -ge 1 ]
	[ "$(grep -c "cannot start: Too many open files" <<<"$stderr")" -ge 1 ]
}

# --- a spool disk that fills up ----------------------------------------------

# small_spool : mounts a 1 MiB tmpfs as $SPOOL_MNT, or skips the test.
small_spool() {
	SPOOL_MNT="$T/spool"
	mkdir -p "$SPOOL_MNT"
	if ! mount -t tmpfs -o size=1m tmpfs "$SPOOL_MNT" 2>/dev/null; then
		SPOOL_MNT=
		skip "cannot mount a tmpfs here"
	fi
}

@test "when the spool disk fills up, the task's output is reported lost and the run fails" {
	small_spool
	run --separate-stderr env TMPDIR="$SPOOL_MNT" timeout -s KILL 60 "$ALLOTER" \
		--report "$T/report.json" "head -c 5000000 /dev/zero" 3>&-
	echo "status $status; stderr: $stderr"
	[ "$status" -eq 1 ]
	[[ $stderr == *"alloter: task '1': output lost: No space left on device"* ]]
	[ "$(jq -r '.tasks[0].status' "$T/report.json")" = failed ]
	[ "$(jq -r '.tasks[0].error' "$T/report.json")" = "No space left on device" ]
}

@test "when the spool disk fills up, a task whose output fits in memory still succeeds with all of it" {
	small_spool
	run --separate-stderr env TMPDIR="$SPOOL_MNT" timeout -s KILL 60 "$ALLOTER" -j 2 \
		--report "$T/report.json" "head -c 5000000 /dev/zero" "seq 1000" 3>&-
	[ "$status" -eq 1 ]
	[ "$(jq -r '.tasks[] | select(.name == "2") | .status' "$T/report.json")" = succeeded ]
	[[ $output == *"$(seq 1000)"* ]]
}

@test "a full spool disk never truncates output silently: each task has all its bytes or is reported lost" {
	small_spool
	local cmds=() i letters=(a b c d) st err n
	for i in 0 1 2 3; do
		# Each writes 400,000 bytes of its own letter, then waits until all
		# four have written, so that more than 1 MiB is spooled at once.
		cmds+=("head -c 400000 /dev/zero | tr '\\0' ${letters[$i]}; touch '$T/w$i';
			n=0; while [ \$n -lt 200 ] && ! { [ -e '$T/w0' ] && [ -e '$T/w1' ] && [ -e '$T/w2' ] && [ -e '$T/w3' ]; }; do n=\$((n+1)); sleep 0.05; done")
	done
	run --separate-stderr env TMPDIR="$SPOOL_MNT" timeout -s KILL 60 "$ALLOTER" -j 4 \
		--report "$T/report.json" "${cmds[@]}" 3>&-
	echo "status $status; stderr: $stderr"
	printf '%s' "$output" >"$T/out"
	[ "$status" -eq 1 ]
	for i in 0 1 2 3; do
		st=$(jq -r ".tasks[] | select(.index == $((i + 1))) | .status" "$T/report.json")
		err=$(jq -r ".tasks[] | select(.index == $((i + 1))) | .error" "$T/report.json")
		n=$(tr -cd "${letters[$i]}" <"$T/out" | wc -c)
		echo "task $((i + 1)): $st, error $err, $n bytes"
		if [ "$st" = succeeded ]; then
			[ "$n" -eq 400000 ]
		else
			[ "$st" = failed ]
			[ "$err" = "No space left on device" ]
			[[ $stderr == *"alloter: task '$((i + 1))': output lost: No space left on device"* ]]
		fi
	done
}

# --- no processes left: ulimit -u ------------------------------------------

# nproc_setup : a folder that nobody can use, with a copy of alloter; skips
# without setpriv.  Root ignores RLIMIT_NPROC, so the runs are nobody's.
nproc_setup() {
	command -v setpriv >/dev/null || skip "no setpriv"
	NPROC_DIR=$(mktemp -d "/tmp/alloter-nproc-$marker.XXXXXX")
	chmod 777 "$NPROC_DIR"
	cp "$ALLOTER" "$NPROC_DIR/alloter"
	chmod 755 "$NPROC_DIR/alloter"
	if pgrep -u 65534 >/dev/null; then
		skip "user nobody already runs processes; ulimit -u would count them"
	fi
}

# as_nobody_limited N ARGS... : runs alloter ARGS as nobody under ulimit -u N,
# in $NPROC_DIR, with a report there; sets $status, $output, $stderr,
# $elapsed_ms.
as_nobody_limited() {
	local n=$1
	shift
	rm -f "$NPROC_DIR/report.json"
	timed_run --separate-stderr timeout -s KILL 90 setpriv --reuid=65534 --regid=65534 \
		--clear-groups bash -c 'ulimit -u "$1" && cd "$2" && shift 2 && exec ./alloter --report report.json "$@"' \
		_ "$n" "$NPROC_DIR" "$@" 3>&-
}

# check_nproc_run N : the run under ulimit -u N ended in time with 0 or 1,
# and each of its 6 tasks succeeded, or failed saying why it could not start.
check_nproc_run() {
	local r="$NPROC_DIR/report.json"
	echo "ulimit -u $1: status $status in ${elapsed_ms} ms; stderr: $stderr"
	[ "$status" -eq 0 ] || [ "$status" -eq 1 ]
	[ "$elapsed_ms" -lt 60000 ]
	[ -s "$r" ]
	jq -c '.tasks[] | {name, status, exit_code, error}' "$r"
	[ "$(jq '.tasks | length' "$r")" -eq 6 ]
	[ "$(jq '[.tasks[] | select(.status == "succeeded" or
		(.status == "failed" and .error == "Resource temporarily unavailable"))] | length' "$r")" -eq 6 ]
	[[ $stderr != *"exit status 0"* ]]
	local failed
	failed=$(jq '[.tasks[] | select(.status == "failed")] | length' "$r")
	[ "$(grep -c "cannot start: Resource temporarily unavailable" <<<"$stderr")" -ge "$failed" ]
	[[ $(summary_line "$stderr") == *"6 tasks: $((6 - failed)) succeeded, $failed failed, 0 skipped"* ]]
}

@test "under a tight ulimit -u each task succeeds or fails saying it cannot start, with no crash or hang" {
	nproc_setup
	local n
	for n in 3 5 8; do
		as_nobody_limited "$n" -j 30 "sleep 0.2" "sleep 0.2" "sleep 0.2" "sleep 0.2" "sleep 0.2" "sleep 0.2"
		check_nproc_run "$n"
	done
}

@test "when ulimit -u leaves room for no worker thread, the tasks fail saying why, none is skipped or called a failure with exit status 0" {
	nproc_setup
	as_nobody_limited 2 -j 30 "sleep 0.2" "sleep 0.2" "sleep 0.2" "sleep 0.2" "sleep 0.2" "sleep 0.2"
	check_nproc_run 2
}

# --- endless output, slow reader ---------------------------------------------

# slow_reader_rss ARGS... : runs alloter -t 3 ARGS... with its stdout read
# at about 400 KB/s, samples alloter's VmRSS every 50 ms, and sets $peak_kb
# and $astatus.  (The commands hold $marker, so teardown finds a hung run.)
slow_reader_rss() {
	local apid rss i
	(
		bash -c 'echo $$ >"$0/apid"; exec env --default-signal "$@"' "$T" \
			"$ALLOTER" -t 3 "$@" 2>"$T/err" 3>&- |
			python3 -c '
import os, sys, time
while True:
    b = os.read(0, 4096)
    if not b:
        break
    time.sleep(0.01)
'
		echo "${PIPESTATUS[0]}" >"$T/status"
	) 3>&- &
	BG_PID=$!
	wait_for_file "$T/apid"
	apid=$(cat "$T/apid")
	peak_kb=0
	for i in $(seq 600); do
		[ -e "$T/status" ] && break
		rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$apid/status" 2>/dev/null) || rss=0
		[ "${rss:-0}" -gt "$peak_kb" ] && peak_kb=$rss
		sleep 0.05
	done
	wait_for_file "$T/status" 30
	wait "$BG_PID" || true
	BG_PID=
	astatus=$(cat "$T/status")
}

@test "an endless task writing to a slow reader in line mode keeps alloter's memory bounded" {
	slow_reader_rss -o line "'$YES' $marker"
	echo "status $astatus; peak VmRSS ${peak_kb} kB; stderr: $(cat "$T/err")"
	[ "$astatus" -eq 124 ]
	[ "$peak_kb" -gt 0 ]
	[ "$peak_kb" -lt 51200 ]
	assert_no_survivors
}

@test "an endless line without a newline, written to a slow reader in line mode, keeps alloter's memory bounded" {
	slow_reader_rss -o line "'$YES' $marker | tr -d '\\n'"
	echo "status $astatus; peak VmRSS ${peak_kb} kB; stderr: $(cat "$T/err")"
	[ "$astatus" -eq 124 ]
	[ "$peak_kb" -gt 0 ]
	[ "$peak_kb" -lt 51200 ]
	assert_no_survivors
}

@test "an endless task writing to a slow reader in raw mode keeps alloter's memory bounded" {
	slow_reader_rss -o raw "'$YES' $marker"
	echo "status $astatus; peak VmRSS ${peak_kb} kB; stderr: $(cat "$T/err")"
	[ "$astatus" -eq 124 ]
	[ "$peak_kb" -gt 0 ]
	[ "$peak_kb" -lt 51200 ]
	assert_no_survivors
}
