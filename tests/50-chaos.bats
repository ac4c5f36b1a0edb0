#!/usr/bin/env bats
# Chaos: 5,100 tasks drawn from a fixed seed (random exit codes, crashes
# with random signals, sleeps, per-task deadlines, bursts on both streams,
# endless grandchildren in the background, tasks that ignore SIGTERM,
# retries) in three runs at -j 4 (group), -j 16 (line) and -j 64 (group
# --keep-order).  The runs happen once, in setup_file; each test checks one
# property of all three from the report, the captured output, the job log,
# the process table and TMPDIR.  tests/chaos-gen.py draws the tasks and does
# the bookkeeping.

bats_require_minimum_version 1.5.0
load helpers

GEN="$BATS_TEST_DIRNAME/chaos-gen.py"
# name limit output-mode seed: 3 x 1,700 = 5,100 tasks.
RUNS=("j4 4 group 4004" "j16 16 line 1616" "j64 64 group-keep-order 6464")
CHAOS_TASKS=1700

setup_file() {
	export CHAOS_MARKER="alloter-chaos-$$-$RANDOM$RANDOM"
	export C="$BATS_FILE_TMPDIR/$CHAOS_MARKER"
	mkdir -p "$C"
	ln -s "$(command -v sleep)" "$C/sleep"
	local spec name j mode seed args rc
	for spec in "${RUNS[@]}"; do
		read -r name j mode seed <<<"$spec"
		mkdir -p "$C/$name/state" "$C/$name/tmp" "$C/$name/report"
		python3 "$GEN" gen "$seed" "$CHAOS_TASKS" "$name" "$C/$name/state" \
			"$C/sleep" "$C/$name"
		case $mode in
		line) args=(-o line) ;;
		group) args=(-o group) ;;
		group-keep-order) args=(-o group --keep-order) ;;
		esac
		rc=0
		(
			ulimit -c 0
			cd "$C/$name/state" &&
				TMPDIR="$C/$name/tmp" timeout -s KILL 100 "$ALLOTER" \
					-f "$C/$name/tasks.yaml" -j "$j" -g 200ms --tag "${args[@]}" \
					--report "$C/$name/report/report.json" \
					--joblog "$C/$name/joblog.tsv" \
					>"$C/$name/stdout" 2>"$C/$name/stderr" </dev/null 3>&-
		) || rc=$?
		echo "$rc" >"$C/$name/status"
		# Processes left behind are looked for right after each run.
		sleep 0.3
		pgrep -a -f -- "$CHAOS_MARKER" >"$C/$name/survivors" || true
	done
}

teardown_file() {
	if [ -n "${CHAOS_MARKER:-}" ]; then
		pkill -KILL -f -- "$CHAOS_MARKER" 2>/dev/null || true
	fi
}

# each_run CHECK... : runs `CHECK name limit mode` for every run and fails if
# any of them failed, after showing what each said.
each_run() {
	local spec name j mode seed failed=0
	for spec in "${RUNS[@]}"; do
		read -r name j mode seed <<<"$spec"
		if ! "$@" "$name" "$j" "$mode"; then
			echo "-- run $name (-j $j, $mode) failed the check above" >&2
			failed=1
		fi
	done
	return "$failed"
}

ran() { # name: the run ended by itself, with a status
	local st
	st=$(cat "$C/$1/status")
	if [ "$st" -eq 137 ]; then
		echo "run $1 did not end within 100 s" >&2
		return 1
	fi
	if [ "$st" -ge 128 ]; then
		echo "run $1 ended with status $st; stderr tail:" >&2
		tail -5 "$C/$1/stderr" >&2
		return 1
	fi
}

@test "the chaos runs draw at least 5,000 tasks over several limits" {
	local spec name total=0
	for spec in "${RUNS[@]}"; do
		read -r name _ <<<"$spec"
		total=$((total + $(jq length "$C/$name/expected.json")))
	done
	echo "total $total"
	[ "$total" -ge 5000 ]
}

@test "every chaos run ends with exit status 1, as some tasks fail" {
	check() {
		ran "$1" || return 1
		local st
		st=$(cat "$C/$1/status")
		[ "$st" -eq 1 ] || {
			echo "exit status $st, expected 1" >&2
			return 1
		}
	}
	each_run check
}

@test "the report lists every chaos task exactly once with the right status, exit code, signal and attempts" {
	check() {
		ran "$1" || return 1
		[ -s "$C/$1/report/report.json" ] || {
			echo "no report" >&2
			return 1
		}
		python3 "$GEN" report "$C/$1" "$C/$1/report/report.json" 1 >&2
	}
	each_run check
}

@test "every line each chaos task wrote arrives, on its own stream, tagged, and nothing else" {
	check() {
		ran "$1" || return 1
		python3 "$GEN" output "$C/$1" "$C/$1/stdout" "$C/$1/stderr" "$3" >&2
	}
	each_run check
}

@test "each failed chaos task has exactly one failure line with its cause, and the summary counts are right" {
	check() {
		ran "$1" || return 1
		python3 "$GEN" stderr "$C/$1" "$C/$1/stderr" >&2
	}
	each_run check
}

@test "the job log has one line per attempt of every chaos task" {
	check() {
		ran "$1" || return 1
		python3 "$GEN" joblog "$C/$1" "$C/$1/joblog.tsv" >&2
	}
	each_run check
}

@test "no process started by a chaos run is left after it" {
	check() {
		if [ -s "$C/$1/survivors" ]; then
			echo "$(wc -l <"$C/$1/survivors") processes left, e.g.:" >&2
			head -5 "$C/$1/survivors" >&2
			return 1
		fi
	}
	each_run check
}

@test "no temporary file is left in TMPDIR or next to the report after a chaos run" {
	check() {
		local left
		left=$(find "$C/$1/tmp" -mindepth 1)
		[ -z "$left" ] || {
			echo "left in TMPDIR: $left" >&2
			return 1
		}
		left=$(find "$C/$1/report" -mindepth 1 ! -name report.json)
		[ -z "$left" ] || {
			echo "left next to the report: $left" >&2
			return 1
		}
	}
	each_run check
}
