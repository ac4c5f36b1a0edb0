#!/usr/bin/env bats
# The concurrency limit: -j N / --limit N, the default, and 0 = no limit.

bats_require_minimum_version 1.5.0
load helpers

# A task that records how many tasks run at once: it creates its own file in
# $T/running, counts the files there (at start and before it ends) into
# $T/counts, holds for HOLD seconds and removes its file.  A file exists only
# while its task runs, so every count is at most the real concurrency.
setup() {
	common_setup
	mkdir "$T/running"
	cat >"$T/probe.sh" <<'EOF'
d=$1 log=$2 hold=$3
touch "$d/$ALLOTER_TASK_INDEX"
set -- "$d"/*
echo $# >>"$log"
sleep "$hold"
set -- "$d"/*
echo $# >>"$log"
rm -f "$d/$ALLOTER_TASK_INDEX"
EOF
	PROBE="sh '$T/probe.sh' '$T/running' '$T/counts'"
}

max_count() {
	sort -n "$T/counts" | tail -n 1
}

# probes N HOLD : N probe commands, one per line.
probes() {
	local i
	for i in $(seq "$1"); do
		printf '%s %s\n' "$PROBE" "$2"
	done
}

@test "-j 3 runs at most 3 tasks at once and reaches 3" {
	mapfile -t cmds < <(probes 12 0.4)
	run --separate-stderr alloter -j 3 "${cmds[@]}"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$T/counts")" -eq 24 ]
	[ "$(max_count)" -eq 3 ]
}

@test "--limit 2 runs at most 2 tasks at once and reaches 2" {
	mapfile -t cmds < <(probes 8 0.4)
	run --separate-stderr alloter --limit 2 "${cmds[@]}"
	[ "$status" -eq 0 ]
	[ "$(max_count)" -eq 2 ]
}

@test "-j 1 runs the tasks one at a time" {
	mapfile -t cmds < <(probes 4 0.2)
	run --separate-stderr alloter -j 1 "${cmds[@]}"
	[ "$status" -eq 0 ]
	[ "$(max_count)" -eq 1 ]
}

@test "the limit applies to commands read from standard input" {
	probes 8 0.4 >"$T/commands"
	run --separate-stderr alloter -j 2 <"$T/commands"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$T/counts")" -eq 16 ]
	[ "$(max_count)" -eq 2 ]
}

@test "the default limit is the number of online CPUs" {
	n=$(getconf _NPROCESSORS_ONLN)
	if [ "$(nproc)" != "$n" ]; then
		skip "nproc ($(nproc)) and the online CPU count ($n) differ here"
	fi
	mapfile -t cmds < <(probes $((3 * n)) 0.5)
	run --separate-stderr alloter "${cmds[@]}"
	[ "$status" -eq 0 ]
	[ "$(max_count)" -eq "$n" ]
}

@test "-j 0 sets no limit: 20 tasks all run at once" {
	# Each task waits (up to 15 s) until all 20 have started.
	cmd="touch '$T/running/'\$ALLOTER_TASK_INDEX; i=0
while set -- '$T/running'/*; [ \$# -lt 20 ]; do
	i=\$((i + 1)); [ \$i -gt 150 ] && exit 1; sleep 0.1
done"
	cmds=()
	for i in $(seq 20); do cmds+=("$cmd"); done
	run --separate-stderr alloter -j 0 "${cmds[@]}"
	[ "$status" -eq 0 ]
	[[ $stderr == *"20 succeeded"* ]]
}

@test "500 one-second tasks with --limit 500 finish in a few seconds" {
	yes 'sleep 1' | head -n 500 >"$T/commands"
	timed_run --separate-stderr alloter --limit 500 <"$T/commands"
	[ "$status" -eq 0 ]
	[[ $stderr == *"500 succeeded"* ]]
	[ "$elapsed_ms" -lt 30000 ]
}
