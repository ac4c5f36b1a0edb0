# tests/helpers.bash - shared setup for the alloter bats suites (black-box:
# they only run the binary named by $ALLOTER).  Load with `load helpers`.
#
# Every test gets:
#   $marker  a string unique to the test; put it in the command line of every
#            process a test starts that might outlive its task, so that
#            `pgrep -f "$marker"` finds leftovers.
#   $T       a fresh work folder whose path contains $marker.
#   $SLEEP   $T/sleep, a symlink to sleep(1): "$SLEEP 300" has the marker in
#            its argv, so grandchildren started that way are found too.
#   $YES     $T/yes, likewise for yes(1).
# and a teardown that kills anything left with the marker, so a failing test
# never leaves processes behind.

: "${ALLOTER:=$BATS_TEST_DIRNAME/../build/alloter}"
export ALLOTER

# The longest one alloter run may take in a test before it is killed: a
# hanging implementation fails a test (status 137) instead of the suite.
: "${ALLOTER_TEST_LIMIT:=60}"

setup() {
	common_setup
}

teardown() {
	common_teardown
}

common_setup() {
	marker="alloter-bats-${BATS_SUITE_TEST_NUMBER:-$BATS_TEST_NUMBER}-$$-$RANDOM$RANDOM"
	T="$BATS_TEST_TMPDIR/$marker"
	mkdir -p "$T"
	ln -s "$(command -v sleep)" "$T/sleep"
	ln -s "$(command -v yes)" "$T/yes"
	SLEEP="$T/sleep"
	YES="$T/yes"
	BG_PID=
	if [ ! -x "$ALLOTER" ]; then
		echo "alloter binary not found at $ALLOTER" >&2
		return 1
	fi
}

common_teardown() {
	if [ -n "${BG_PID:-}" ] && kill -0 "$BG_PID" 2>/dev/null; then
		kill -KILL "$BG_PID" 2>/dev/null || true
		wait "$BG_PID" 2>/dev/null || true
	fi
	if [ -n "${marker:-}" ] && pgrep -f -- "$marker" >/dev/null 2>&1; then
		pkill -KILL -f -- "$marker" 2>/dev/null || true
	fi
	validate_reports
}

# validate_reports : fails, naming each violation, unless every report this
# test (or its suite's setup_file) wrote conforms to docs/report.schema.json;
# common_teardown calls it, so every --report of the suite is checked.
validate_reports() {
	"$BATS_TEST_DIRNAME/check-reports.py" --cache "$BATS_FILE_TMPDIR/.reports-checked" \
		"$BATS_TEST_TMPDIR" "$BATS_FILE_TMPDIR" >&2 3>&-
}

# alloter ARGS... : runs the binary with a safety time limit and without the
# bats output descriptor (a leftover task holding fd 3 would hang bats).
alloter() {
	timeout -s KILL "$ALLOTER_TEST_LIMIT" "$ALLOTER" "$@" 3>&-
}

# Milliseconds since the epoch.
now_ms() {
	local t=${EPOCHREALTIME//[.,]/}
	echo $((t / 1000))
}

# timed_run ARGS... : `run ARGS...`, then $elapsed_ms holds how long it took.
timed_run() {
	local t0
	t0=$(now_ms)
	run "$@"
	elapsed_ms=$(($(now_ms) - t0))
}

# wait_for_file PATH [SECONDS] : waits until PATH exists (default 10 s).
wait_for_file() {
	local path=$1 limit=$((${2:-10} * 1000)) t0
	t0=$(now_ms)
	while [ ! -e "$path" ]; do
		if [ $(($(now_ms) - t0)) -gt "$limit" ]; then
			echo "timed out waiting for $path" >&2
			return 1
		fi
		sleep 0.02
	done
}

# assert_no_survivors : fails unless, within ~3 s, no process whose command
# line contains $marker is left.
assert_no_survivors() {
	local i pids
	for i in $(seq 30); do
		pgrep -f -- "$marker" >/dev/null 2>&1 || return 0
		sleep 0.1
	done
	pids=$(pgrep -d, -f -- "$marker") || return 0
	echo "processes left behind (marker $marker):" >&2
	ps -o pid,ppid,pgid,stat,args -p "$pids" >&2 || true
	return 1
}

# assert_no_zombie_children PID : fails unless, within ~3 s, PID has no
# child in state Z (finished children are reaped).
assert_no_zombie_children() {
	local pid=$1 i
	for i in $(seq 30); do
		ps -o stat= --ppid "$pid" | grep -q '^Z' || return 0
		sleep 0.1
	done
	echo "zombie children of $pid:" >&2
	ps -o pid,stat,args --ppid "$pid" >&2 || true
	return 1
}

# start_bg ARGS... : starts alloter ARGS in the background with every signal
# at its default disposition (a non-interactive shell would start it with
# SIGINT and SIGQUIT ignored); stdout to $T/out, stderr to $T/err.  Sets
# BG_PID.  Use wait_bg to collect it.
start_bg() {
	env --default-signal "$ALLOTER" "$@" >"$T/out" 2>"$T/err" </dev/null 3>&- &
	BG_PID=$!
}

# wait_bg SECONDS : waits up to SECONDS for the background alloter to end and
# sets $bg_status and $bg_elapsed_ms (since wait_bg was called); if it does not
# end in time, kills it and fails.
wait_bg() {
	local limit=$(($1 * 1000)) t0 st
	t0=$(now_ms)
	while :; do
		st=$(ps -o stat= -p "$BG_PID" 2>/dev/null) || break
		[[ $st == Z* ]] && break
		if [ $(($(now_ms) - t0)) -gt "$limit" ]; then
			echo "alloter (pid $BG_PID) did not exit within $1 s" >&2
			kill -KILL "$BG_PID" 2>/dev/null || true
			wait "$BG_PID" 2>/dev/null || true
			BG_PID=
			return 1
		fi
		sleep 0.02
	done
	bg_status=0
	wait "$BG_PID" || bg_status=$?
	bg_elapsed_ms=$(($(now_ms) - t0))
	BG_PID=
}

# summary_line TEXT : prints the one summary line of alloter's stderr TEXT
# (the line that says "succeeded"); fails unless there is exactly one.
summary_line() {
	local lines n
	lines=$(grep 'succeeded' <<<"$1") || {
		echo "no summary line in: $1" >&2
		return 1
	}
	n=$(wc -l <<<"$lines")
	if [ "$n" -ne 1 ]; then
		echo "expected one summary line, got $n: $lines" >&2
		return 1
	fi
	printf '%s\n' "$lines"
}

# line_with TEXT NEEDLE : prints the lines of TEXT that contain NEEDLE.
line_with() {
	grep -F -- "$2" <<<"$1"
}

# subreaped LEFTOVERS CMD... : runs CMD as the only child of a small child
# subreaper (PR_SET_CHILD_SUBREAPER) with every signal at its default, writes
# CMD's pid to LEFTOVERS.pid, and exits with CMD's status (128+N if a signal
# N ended it).  Whatever CMD leaves behind is reparented to the subreaper
# when CMD ends: each such process, running or a zombie, is written to
# LEFTOVERS as "pid state args", then killed and reaped.  An empty LEFTOVERS
# therefore means CMD left neither a process nor an unreaped zombie.
subreaped() {
	python3 -c "$_SUBREAPER_PY" "$@" 3>&-
}

_SUBREAPER_PY='
import ctypes, os, signal, sys, time
out = sys.argv[1]
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(36, 1, 0, 0, 0) != 0:   # PR_SET_CHILD_SUBREAPER
    sys.exit("subreaped: prctl failed")
pid = os.fork()
if pid == 0:
    for s in range(1, signal.NSIG):
        try:
            signal.signal(s, signal.SIG_DFL)
        except (OSError, ValueError):
            pass
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
with open(out + ".pid", "w") as f:
    f.write("%d\n" % pid)
for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
    signal.signal(s, signal.SIG_IGN)
while True:
    try:
        _, st = os.waitpid(pid, 0)
        break
    except ChildProcessError:
        st = 0
        break
    except InterruptedError:
        pass
status = os.waitstatus_to_exitcode(st)
status = 128 - status if status < 0 else status
def children():
    kids = set()
    for t in os.listdir("/proc/self/task"):
        try:
            with open("/proc/self/task/%s/children" % t) as f:
                kids.update(int(x) for x in f.read().split())
        except OSError:
            pass
    return kids
def describe(p):
    try:
        with open("/proc/%d/stat" % p) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        with open("/proc/%d/cmdline" % p, "rb") as f:
            args = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        state, args = "?", ""
    return "%d %s %s" % (p, state, args.strip())
found = {}
for k in children():
    found[k] = describe(k)
# Processes that end right away are reparented too: collect them as well.
deadline = time.monotonic() + 0.2
while time.monotonic() < deadline:
    try:
        p, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        break
    if p:
        found.setdefault(p, "%d reaped" % p)
    else:
        time.sleep(0.01)
for k in children():
    found.setdefault(k, describe(k))
with open(out, "w") as f:
    for k in sorted(found):
        f.write(found[k] + "\n")
# Kill and reap them, and whatever of theirs is reparented here in turn.
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    kids = children()
    for k in kids:
        try:
            os.kill(k, signal.SIGKILL)
        except OSError:
            pass
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        break
    time.sleep(0.01)
sys.exit(status)
'

# assert_nothing_reparented LEFTOVERS : fails, listing them, unless the
# subreaped run that wrote LEFTOVERS left no process and no zombie.
assert_nothing_reparented() {
	if [ ! -e "$1" ]; then
		echo "no leftovers list $1 (did the subreaper run?)" >&2
		return 1
	fi
	if [ -s "$1" ]; then
		echo "left behind by the run (pid state args):" >&2
		cat "$1" >&2
		return 1
	fi
}

# assert_empty_dir DIR : fails, listing it, unless DIR holds nothing.
assert_empty_dir() {
	local left
	left=$(find "$1" -mindepth 1)
	if [ -n "$left" ]; then
		echo "left in $1:" >&2
		printf '%s\n' "$left" >&2
		return 1
	fi
}
