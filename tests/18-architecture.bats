#!/usr/bin/env bats
# The shape of a run: each attempt is built afresh from its job, and no
# reader of alloter's output, however slow, holds up a start, the deadline
# or an interrupt.

bats_require_minimum_version 1.5.0
load helpers

# fake_ssh : writes $T/ssh, an "ssh" that fails as an unreachable host
# does: its message in the -E log file, exit status 255.
fake_ssh() {
	cat >"$T/ssh" <<'SH'
#!/bin/sh
while [ $# -gt 0 ]; do
	[ "$1" = -E ] && { echo "ssh: connect to host badhost port 22: Connection refused" >"$2"; }
	shift
done
exit 255
SH
	chmod +x "$T/ssh"
}

@test "a task moved off a failed host runs there as it would alone (its env's PATH is searched)" {
	fake_ssh
	mkdir "$T/bin"
	printf '#!/bin/sh\necho mycmd-ran\n' >"$T/bin/mycmd"
	chmod +x "$T/bin/mycmd"
	printf 'tasks:\n  - name: t\n    run: mycmd\n    env:\n      PATH: "%s/bin:/usr/bin:/bin"\n' "$T" >"$T/t.yaml"
	run --separate-stderr alloter --ssh "$T/ssh" -S '1/badhost,1/:' -f "$T/t.yaml"
	echo "status $status; stdout: $output; stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = mycmd-ran ]
	[[ $stderr == *"host 'badhost': taken out of rotation"* ]]
	# And alone, for comparison, it is the same.
	run --separate-stderr alloter -f "$T/t.yaml"
	[ "$status" -eq 0 ]
	[ "$output" = mycmd-ran ]
}

# slow_reader FILE : reads its stdin at about 1 MB/s into FILE.
slow_reader() {
	python3 -c '
import sys, time
out = open(sys.argv[1], "wb")
while True:
    b = sys.stdin.buffer.read1(65536)
    if not b:
        break
    out.write(b)
    time.sleep(0.064)
' "$1"
}

@test "tasks start at once while another task's big block is still being written to a slow reader" {
	# Task 1 prints 20 MB, which takes about 20 s to reach the reader;
	# tasks 2 and 3 print nothing and must not wait for that.
	local t0 t2
	t0=$(now_ms)
	alloter -j 1 'head -c 20000000 /dev/zero' "touch '$T/two'" "touch '$T/three'" \
		2>"$T/err" | slow_reader "$T/out" &
	wait_for_file "$T/three" 30
	t2=$(now_ms)
	echo "the tasks without output started after $((t2 - t0)) ms"
	[ $((t2 - t0)) -lt 8000 ]
	wait
	# Nothing of the block was lost on the way.
	[ "$(stat -c %s "$T/out")" -eq 20000000 ]
}

# unread_fifo : $T/fifo, opened for reading by a process that never reads
# (its pid in $reader), so a writer blocks once the pipe is full.
unread_fifo() {
	mkfifo "$T/fifo"
	"$SLEEP" 60 <"$T/fifo" &
	reader=$!
}

@test "the deadline ends the run on time even when its output is not being read" {
	unread_fifo
	local t0 st=0 took
	t0=$(now_ms)
	timeout -s KILL 30 "$ALLOTER" -t 1 -g 1 'yes | head -c 50000000' >"$T/fifo" 2>"$T/err" 3>&- || st=$?
	took=$(($(now_ms) - t0))
	kill "$reader" 2>/dev/null || true
	echo "status $st after $took ms; stderr: $(cat "$T/err")"
	[ "$st" -eq 124 ]
	# The deadline, the grace period and a moment: well under 6 s.
	[ "$took" -lt 6000 ]
	grep -q "output not delivered" "$T/err"
}

@test "an interrupt ends the run on time even when its output is not being read" {
	unread_fifo
	env --default-signal "$ALLOTER" -g 1 'yes | head -c 50000000' "$SLEEP 30" \
		>"$T/fifo" 2>"$T/err" </dev/null 3>&- &
	BG_PID=$!
	sleep 1.5
	kill -INT "$BG_PID"
	wait_bg 10
	kill "$reader" 2>/dev/null || true
	echo "status $bg_status after $bg_elapsed_ms ms; stderr: $(cat "$T/err")"
	[ "$bg_status" -eq 130 ]
	[ "$bg_elapsed_ms" -lt 6000 ]
	assert_no_survivors
}

@test "with a reader that reads, an interrupted run still delivers every finished task's output" {
	env --default-signal "$ALLOTER" 'echo one' "touch '$T/started'; $SLEEP 30" \
		>"$T/out" 2>"$T/err" </dev/null 3>&- &
	BG_PID=$!
	wait_for_file "$T/started"
	sleep 0.3
	kill -INT "$BG_PID"
	wait_bg 10
	[ "$bg_status" -eq 130 ]
	[ "$(cat "$T/out")" = one ]
	run ! grep -q "output not delivered" "$T/err"
}
