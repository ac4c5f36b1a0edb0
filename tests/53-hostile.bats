#!/usr/bin/env bats
# Bad input, systematically: hostile values on every entry point (option
# values, stdin lines, task files, environment values).  Each must get a
# clear error (exit status 2 and a message that starts with "alloter:" or
# "FILE:LINE:COL:", nothing run) or a correct run, within bounded time and
# memory: never a crash (status >= 128), a hang or a silent misreading.

bats_require_minimum_version 1.5.0
load helpers

# The most memory (kB of peak RSS) one run may use, and how long it may take.
MEM_LIMIT_KB=$((1024 * 1024))
TIME_LIMIT=60
# Under AddressSanitizer (make check sets ASAN_OPTIONS) the binary reserves
# terabytes of shadow address space and uses several times the memory, so
# the address-space cap is off and the memory bound is the sanitizer's.
ADDRESS_CAP=4194304
if [ -n "${ASAN_OPTIONS:-}" ]; then
	ADDRESS_CAP=unlimited
	MEM_LIMIT_KB=$((4 * 1024 * 1024))
	TIME_LIMIT=180
fi

setup() {
	common_setup
	command -v /usr/bin/time >/dev/null || skip "needs /usr/bin/time (package time)"
	mkdir -p "$T/work"
	cd "$T/work"
}

# bounded ARGS... : `run --separate-stderr ARGS` under a time limit, with
# the peak memory in $peak_kb and the time in $elapsed_ms.  The address
# space is capped at 4 GiB only to protect the machine: the assertions use
# the much lower $MEM_LIMIT_KB.
bounded() {
	local t0
	t0=$(now_ms)
	run --separate-stderr bash -c 'ulimit -v "$0"; exec "$@"' "$ADDRESS_CAP" \
		/usr/bin/time -f %M -o "$T/peak" timeout -s KILL "$TIME_LIMIT" "$@" 3>&-
	elapsed_ms=$(($(now_ms) - t0))
	peak_kb=$(tail -1 "$T/peak" 2>/dev/null)
	[[ $peak_kb =~ ^[0-9]+$ ]] || peak_kb=0
}

# within_bounds : the last bounded run was no crash, no kill, no hang, and
# stayed under the memory limit.
within_bounds() {
	if [ "$status" -ge 3 ]; then
		echo "status $status (a crash, a kill or the time limit)" >&2
		return 1
	fi
	if [ "$peak_kb" -ge "$MEM_LIMIT_KB" ]; then
		echo "peak memory ${peak_kb} kB" >&2
		return 1
	fi
}

# clear_error [FILE] : the last run was refused with status 2 and a message
# "alloter: ..." (or "FILE:LINE:COL: ..." for a task file), before running
# anything.
clear_error() {
	local first=${stderr%%$'\n'*}
	if [ "$status" -ne 2 ]; then
		echo "status $status, expected 2" >&2
		return 1
	fi
	# Without FILE, a task file's error may name whichever file it was.
	local clear=no
	if [[ $first == "alloter: "* ]]; then
		clear=yes
	elif [ -n "${1:-}" ] && [[ $first =~ ^"$1":[0-9]+:[0-9]+:\  ]]; then
		clear=yes
	elif [ -z "${1:-}" ] && [[ $first =~ ^[^\ ]+:[0-9]+:[0-9]+:\  ]]; then
		clear=yes
	fi
	if [ "$clear" != yes ]; then
		echo "unclear message: $first" >&2
		return 1
	fi
	if [ -e "$T/ran" ]; then
		echo "a task ran although the input was refused" >&2
		return 1
	fi
	if [[ $stderr == *" succeeded, "* ]]; then
		echo "a run was summarised although the input was refused" >&2
		return 1
	fi
}

# --- command-line values ---------------------------------------------------

# cli EXPECT [--no-command] ARGS... : one row of the table.  EXPECT is 2 (a
# clear error) or any (a clear error or a correct run of `touch $T/ran`).
cli_rows_failed=0
cli() {
	local expect=$1 cmd=("touch '$T/ran'")
	shift
	if [ "$1" = --no-command ]; then
		cmd=()
		shift
	fi
	rm -f "$T/ran"
	bounded "$ALLOTER" "$@" "${cmd[@]}"
	local shown
	shown=$(printf '%q ' "$@" | cut -c1-80)
	if ! within_bounds; then
		echo "FAIL: $shown -> $stderr" >&2
		cli_rows_failed=$((cli_rows_failed + 1))
		return 0
	fi
	if [ "$expect" = 2 ] || [ "$status" -eq 2 ]; then
		clear_error || {
			echo "FAIL: $shown (${stderr:0:200})" >&2
			cli_rows_failed=$((cli_rows_failed + 1))
		}
		return 0
	fi
	# A run: it must have done what it was asked.
	if [ ${#cmd[@]} -gt 0 ] && [ "$status" -eq 0 ] && [ ! -e "$T/ran" ]; then
		echo "FAIL: $shown: status 0 but the task did not run" >&2
		cli_rows_failed=$((cli_rows_failed + 1))
	elif [ "$status" -ne 0 ] && ! summary_line "$stderr" >/dev/null; then
		echo "FAIL: $shown: status $status without a summary: $stderr" >&2
		cli_rows_failed=$((cli_rows_failed + 1))
	fi
}

@test "hostile option values get a clear usage error or a correct run, never a crash" {
	local long9 longx
	long9=$(printf '9%.0s' $(seq 100000))
	longx=$(head -c 100000 /dev/zero | tr '\0' x)
	cli 2 -j ''
	cli 2 -j abc
	cli any -j -1
	cli 2 -j 1000001
	cli 2 -j 2147483648
	cli 2 -j 4294967297
	cli 2 -j 99999999999999999999
	cli 2 -j 18446744073709551617
	cli 2 -j "$long9"
	cli 2 -j 1e3
	cli 2 -j 0x10
	cli 2 -j '4 '
	cli 2 -j $'4\n'
	cli 2 -j $'\x01\x02\xff'
	cli 2 -j $'\xd9\xa3'
	cli any -j 1000000
	cli any -j +4
	cli any -j ' 4'
	cli any -j 0
	cli 2 -t ''
	cli 2 -t 1e999s
	cli 2 -t 1e999
	cli any -t -0
	cli any -t -0s
	cli 2 -t -1s
	cli 2 -t nan
	cli 2 -t inf
	cli 2 -t 1m1m
	cli 2 -t 1s1m
	cli 2 -t 999999999999999999h
	cli 2 -t 9223372036854775807ms
	cli 2 -t 9223372036854775808ms
	cli 2 -t "${long9}s"
	cli any -t 0.0000001ms
	cli any -t 0.000000000000000000000000000000000000000000000000001s
	cli 2 -t 1.5.5s
	cli 2 -t s
	cli 2 -t .s
	cli 2 -t '1 s'
	cli 2 -t $'1s\n'
	cli 2 -t $'\xff\xfe'
	cli 2 -t "$longx"
	cli 2 -T 1e999999999999999999s
	cli any -T -0
	cli 2 -T 1e-9
	cli 2 -g 1e999s
	cli 2 -g -1
	cli any -g -0
	cli 2 -o ''
	cli 2 -o grp
	cli 2 -o $'group\n'
	cli 2 -o "$longx"
	cli 2 --color ''
	cli 2 --color $'\xff'
	cli 2 --joblog ''
	cli 2 --joblog /nonexistent/dir/jobs.tsv
	cli 2 --report ''
	cli 2 --report /nonexistent/dir/report.json
	cli 2 --nope
	cli 2 -Z
	cli 2 --limit=
	cli 2 --limit=5=5
	cli 2 -jj
	cli 2 $'--\xff'
	cli 2 "--$longx"
	cli 2 --no-command -j
	cli 2 --no-command -f ''
	cli 2 --no-command -f /nonexistent
	cli 2 --no-command -f /dev/null
	cli 2 --no-command -f /
	cli any --no-command ''
	cli any --no-command '   '
	cli any --no-command $'\t\n'
	echo "$cli_rows_failed rows failed"
	[ "$cli_rows_failed" -eq 0 ]
}

# --- standard input ------------------------------------------------------------

@test "a 1 MB stdin line gets a clear failure or runs, and the next line still runs" {
	{
		printf ': '
		head -c 1000000 /dev/zero | tr '\0' A
		printf '\necho after\n'
	} >"$T/in"
	bounded "$ALLOTER" <"$T/in"
	within_bounds
	echo "status $status; stderr: ${stderr:0:300}"
	[ "$status" -eq 0 ] || [ "$status" -eq 1 ]
	[ "$output" = after ]
	if [ "$status" -eq 1 ]; then
		[[ $stderr =~ "alloter: task '1': "("cannot start: "|"exit status 12"[67]) ]]
	fi
}

@test "a 200 MB stdin line gets a clear failure or runs, within bounded time and memory" {
	{
		printf ': '
		head -c 200000000 /dev/zero | tr '\0' A
		printf '\necho after\n'
	} >"$T/in"
	bounded "$ALLOTER" <"$T/in"
	rm -f "$T/in"
	echo "status $status in $elapsed_ms ms, peak ${peak_kb} kB; stderr: ${stderr:0:300}"
	within_bounds
	[ "$status" -eq 0 ] || [ "$status" -eq 1 ]
	[ "$output" = after ]
	if [ "$status" -eq 1 ]; then
		[[ $stderr =~ "alloter: task '1': "("cannot start: "|"exit status 12"[67]) ]]
	fi
}

@test "binary bytes in stdin commands reach the task unchanged" {
	# 500 commands printf '%s\n' '<random bytes>', from a fixed seed, with
	# every byte but NUL, newline and the single quote.
	python3 - "$T/in" "$T/want" <<'EOF'
import random, sys
rng = random.Random(53)
alphabet = bytes(b for b in range(1, 256) if b not in (10, 39))
cmds, want = [], []
for i in range(500):
    data = b"%d:" % i + bytes(rng.choice(alphabet) for _ in range(rng.randint(1, 300)))
    cmds.append(b"printf '%s\\n' '" + data + b"'\n")
    want.append(data + b"\n")
open(sys.argv[1], "wb").write(b"".join(cmds))
open(sys.argv[2], "wb").write(b"".join(sorted(want)))
EOF
	"$ALLOTER" -q -j 4 <"$T/in" >"$T/out" 2>"$T/err" 3>&- || {
		echo "status $?: $(cat "$T/err")"
		false
	}
	# Group mode writes each task's line whole; compare them sorted, as bytes.
	python3 -c 'import sys; sys.stdout.buffer.write(b"".join(sorted(l + b"\n" for l in open(sys.argv[1], "rb").read().split(b"\n")[:-1])))' \
		"$T/out" >"$T/got"
	cmp "$T/want" "$T/got"
}

@test "invalid UTF-8 in a command runs unchanged and the report stays valid JSON" {
	printf "printf %%s '\377\376\303(x'\n" >"$T/in"
	bounded "$ALLOTER" --report "$T/report.json" <"$T/in"
	within_bounds
	[ "$status" -eq 0 ]
	[ "$output" = $'\377\376\303(x' ]
	jq -e '.tasks[0].command == "printf %s '"'"'\ufffd\ufffd\ufffd(x'"'"'"' "$T/report.json"
}

@test "invalid UTF-8 in a command-line command runs unchanged and the report stays valid JSON" {
	bounded "$ALLOTER" --report "$T/report.json" $'printf %s \xff\xc3'
	within_bounds
	[ "$status" -eq 0 ]
	[ "$output" = $'\xff\xc3' ]
	jq -e '.tasks[0].command == "printf %s \ufffd\ufffd"' "$T/report.json"
}

@test "100,000 comment lines and a 1 MB blank line are skipped quickly" {
	{
		seq 100000 | sed 's/^/# comment /'
		head -c 1000000 /dev/zero | tr '\0' ' '
		printf '\necho only\n'
	} >"$T/in"
	bounded "$ALLOTER" <"$T/in"
	within_bounds
	[ "$status" -eq 0 ]
	[ "$output" = only ]
	[[ $(summary_line "$stderr") == "alloter: 1 task: 1 succeeded"* ]]
	[ "$elapsed_ms" -lt 20000 ]
}

@test "a stdin line with a NUL byte is refused or fails clearly, never run cut short at the NUL" {
	printf "touch '%s/ran'\0; echo rest\n" "$T" >"$T/in"
	bounded "$ALLOTER" --report "$T/report.json" <"$T/in"
	within_bounds
	echo "status $status; output: $output; stderr: $stderr"
	# Running `touch .../ran` alone would run a command the line did not hold.
	[ ! -e "$T/ran" ]
	[ "$status" -ne 0 ]
	[[ $stderr == "alloter: "* ]]
}

# --- the environment -----------------------------------------------------------

@test "task file env values with = and newlines reach the task unchanged" {
	cat >"$T/tasks.yaml" <<'EOF'
env:
  TOP: "a=b=c"
tasks:
  - run: printf '[%s][%s][%s][%s]' "$TOP" "$EQ" "$NL" "$BOTH"
    env:
      EQ: "="
      NL: "line 1\nline 2\n"
      BOTH: "k=v\n=\n"
EOF
	bounded "$ALLOTER" -q -f "$T/tasks.yaml"
	within_bounds
	[ "$status" -eq 0 ]
	[ "$output" = $'[a=b=c][=][line 1\nline 2\n][k=v\n=\n]' ]
}

@test "alloter's own environment values with = and newlines reach the task unchanged" {
	bounded env $'HOSTILE=x=y\n=z\n' "$ALLOTER" -q 'printf "[%s]" "$HOSTILE"'
	within_bounds
	[ "$status" -eq 0 ]
	[ "$output" = $'[x=y\n=z\n]' ]
}

# --- task files --------------------------------------------------------------

# yaml EXPECT PRINTF-FORMAT : one row: a task file made with printf; EXPECT
# is 2 (refused with FILE:LINE:COL or alloter:) or any (that, or a run).
yaml_rows_failed=0
yaml() {
	local expect=$1 f="$T/row.yaml"
	# shellcheck disable=SC2059
	printf "$2" >"$f"
	rm -f "$T/ran"
	bounded "$ALLOTER" -q -f "$f"
	local shown
	shown=$(printf '%q' "$2" | cut -c1-80)
	if ! within_bounds; then
		echo "FAIL: $shown -> ${stderr:0:200}" >&2
		yaml_rows_failed=$((yaml_rows_failed + 1))
	elif [ "$expect" = 2 ] || [ "$status" -eq 2 ]; then
		clear_error "$f" || {
			echo "FAIL: $shown (${stderr:0:200})" >&2
			yaml_rows_failed=$((yaml_rows_failed + 1))
		}
	elif [ "$status" -ne 0 ]; then
		echo "FAIL: $shown: status $status: ${stderr:0:200}" >&2
		yaml_rows_failed=$((yaml_rows_failed + 1))
	fi
}

@test "hostile task files get a clear FILE:LINE:COL error or a correct run, never a crash" {
	local R="touch '$T/ran'"
	yaml 2 "tasks:\n  - name: a\377b\n    run: $R\n"
	yaml 2 "tasks:\n  - run: echo \377\376\n"
	yaml 2 "# \300\300 comment\ntasks:\n  - run: $R\n"
	yaml 2 "tasks:\n  - run: $R\n    env:\n      A: \"\355\240\200\"\n"
	yaml 2 "tasks: [tr\0ue]\n"
	yaml any "tasks:\n  - run: $R\n    name: \"\\\\x01\"\n"
	yaml 2 "limit: 99999999999999999999\ntasks: [\"$R\"]\n"
	yaml 2 "limit: -1\ntasks: [\"$R\"]\n"
	yaml 2 "limit: 1e3\ntasks: [\"$R\"]\n"
	yaml 2 "tasks:\n  - run: $R\n    retries: 99999999999999999999\n"
	yaml 2 "tasks:\n  - run: $R\n    retries: -1\n"
	yaml 2 "tasks:\n  - run: $R\n    timeout: 1e999s\n"
	yaml 2 "timeout: 9223372036854775808ms\ntasks: [\"$R\"]\n"
	yaml 2 "grace: -1s\ntasks: [\"$R\"]\n"
	yaml any "tasks:\n  - run: $R\n    timeout: -0\n"
	yaml 2 "tasks:\n  - run: $R\n    env: {\"A=B\": x}\n"
	yaml 2 "tasks:\n  - run: $R\n    env: {\"\": x}\n"
	yaml 2 "tasks:\n  - run: $R\n    env: {A: {b: c}}\n"
	yaml 2 "tasks:\n  - run: $R\n    env: [A, B]\n"
	yaml 2 "tasks: null\n"
	yaml 2 "tasks: 5\n"
	yaml 2 "tasks: []\n"
	yaml 2 ""
	yaml 2 "# only a comment\n"
	yaml 2 "tasks: [\"$R\"]\n---\ntasks: [\"$R\"]\n"
	yaml 2 "tasks:\n  - run: \"\"\n"
	yaml 2 "tasks:\n  - run: $R\n    cwd: /nonexistent\n"
	yaml 2 "tasks:\n  - {run: \"$R\", name: 1}\n  - {run: \"$R\", name: \"1\"}\n"
	yaml 2 "tasks:\n  - {run: \"$R\", needs: [nosuch]}\n"
	yaml 2 "tasks: [\"$R\"\n"
	yaml 2 "tasks:\n\t- run: $R\n"
	yaml 2 "tasks: *nosuch\n"
	yaml 2 "\377\376t\0a\0s\0k\0s\0:\0"
	yaml any "\357\273\277tasks: [\"$R\"]\n"
	yaml any "tasks:\n  - name: \"a\\\\tb\\\\nc\"\n    run: $R\n"
	yaml any "tasks:\n  - name: \"\\\\u202e\\\\u0000x\"\n    run: $R\n"
	echo "$yaml_rows_failed rows failed"
	[ "$yaml_rows_failed" -eq 0 ]
}

@test "a task file nested 100,000 levels deep is refused clearly (flow sequences, flow mappings, block sequences)" {
	local failed=0 kind
	for kind in flowseq flowmap blockseq; do
		python3 - "$kind" "$T/deep.yaml" <<'EOF'
import sys
kind, path, d = sys.argv[1], sys.argv[2], 100000
with open(path, "w") as f:
    if kind == "flowseq":
        f.write("tasks:\n  - run: true\n    name: " + "[" * d + "]" * d + "\n")
    elif kind == "flowmap":
        f.write("tasks:\n  - run: true\n    env: " + "{a: " * d + "1" + "}" * d + "\n")
    else:
        f.write("tasks:\n  - " + "- " * d + "x\n")
EOF
		bounded "$ALLOTER" -f "$T/deep.yaml"
		echo "$kind: status $status in $elapsed_ms ms, peak ${peak_kb} kB: ${stderr:0:200}"
		within_bounds && clear_error "$T/deep.yaml" || failed=1
	done
	[ "$failed" -eq 0 ]
}

@test "a YAML alias bomb is refused clearly, within bounded time and memory" {
	{
		echo 'a: &a ["x","x","x","x","x","x","x","x","x","x"]'
		local prev=a l
		for l in b c d e f g h i j; do
			echo "$l: &$l [*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev]"
			prev=$l
		done
		printf 'tasks:\n  - run: true\n    env: *j\n'
	} >"$T/bomb.yaml"
	bounded "$ALLOTER" -f "$T/bomb.yaml"
	echo "status $status in $elapsed_ms ms, peak ${peak_kb} kB: $stderr"
	within_bounds
	clear_error "$T/bomb.yaml"
}

@test "a 50 MB task file is read within bounded time and memory" {
	python3 - "$T/big.yaml" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("tasks:\n")
    for i in range(1, 700001):
        f.write('  - run: "echo %d %s"\n' % (i, "x" * 50))
EOF
	[ "$(stat -c %s "$T/big.yaml")" -ge 50000000 ]
	bounded "$ALLOTER" -n -f "$T/big.yaml"
	echo "status $status in $elapsed_ms ms, peak ${peak_kb} kB: ${stderr:0:300}"
	within_bounds
	[ "$status" -eq 0 ]
	[ "$(wc -l <<<"$output")" -eq 700000 ]
	[[ ${output##*$'\n'} == $'700000\techo 700000 '* ]]
}

@test "an endless task file (-f /dev/zero) is refused within bounded time and memory" {
	bounded "$ALLOTER" -f /dev/zero
	echo "status $status in $elapsed_ms ms, peak ${peak_kb} kB: ${stderr:0:300}"
	within_bounds
	clear_error /dev/zero
}

@test "SIGINT ends alloter while it is still reading the task file" {
	mkfifo "$T/fifo"
	start_bg -f "$T/fifo"
	exec 7>"$T/fifo"
	printf 'tasks:\n' >&7
	sleep 0.3
	kill -INT "$BG_PID"
	local st=0
	wait_bg 5 || st=$?
	exec 7>&-
	echo "stderr: $(cat "$T/err")"
	[ "$st" -eq 0 ]
	[ "$bg_status" -eq 130 ] || [ "$bg_status" -eq 2 ]
}

@test "a huge retries value does not overflow the attempt count" {
	printf 'tasks:\n  - run: "false"\n    retries: 2147483647\n' >"$T/tasks.yaml"
	bounded "$ALLOTER" -t 1 -f "$T/tasks.yaml"
	echo "status $status; stderr head: ${stderr:0:300}"
	# Either a clear refusal of the value, placed in the file, or a run
	# that retries until the deadline with sane counts.
	if [ "$status" -eq 2 ]; then
		[[ $stderr == *"tasks.yaml:3:"*"retries"* ]]
		return 0
	fi
	[ "$status" -eq 124 ]
	[ "$peak_kb" -lt "$MEM_LIMIT_KB" ]
	[[ $stderr == *"(attempt 1 of 2147483648; retrying)"* ]]
	[[ $stderr != *'of -'* ]]
}
