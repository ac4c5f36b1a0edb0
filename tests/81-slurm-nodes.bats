#!/usr/bin/env bats
# Slurm (--slurm) on a cluster of two nodes, n1 and n2 (tests/slurm.bash
# with SLURM_NODES=2, both on this machine): where Slurm places each step
# or job is only known once it has, and the tag, the job log's Host and
# the report's node must say that node.

bats_require_minimum_version 1.5.0
load helpers
load slurm

setup_file() {
	SLURM_NODES=2 slurm_start
}

teardown_file() {
	slurm_stop
}

setup() {
	slurm_test_setup
}

teardown() {
	slurm_test_teardown
}

@test "the two-node test cluster runs a job on each node" {
	run -0 srun -N2 -n2 -l hostname
	[ "$(sinfo -h -N -o %N | sort -u | tr '\n' ' ')" = "n1 n2 " ]
}

# check_places REPORT LOG OUTPUT : each task's tag, its job log Host and
# its report's node are one node, and the tasks ran on both.
check_places() {
	local i node tagged
	for i in 1 2; do
		node=$(jq -r --argjson i "$i" '.tasks[] | select(.index == $i) | .node' "$1")
		[[ $node == n[12] ]]
		[ "$(awk -F'\t' -v i="$i" '$1 == i { print $2 }' "$2")" = "$node" ]
		tagged=$(printf '%s\n' "$3" | grep -c "^$node:$i	")
		[ "$tagged" -eq 2 ]
	done
	[ "$(jq -r '[.tasks[] | .node] | unique | join(",")' "$1")" = n1,n2 ]
}

@test "inside a two-node allocation each step's tag, Host and node are the node Slurm chose" {
	# One task on each node: two steps at once can only go one to each.
	run -0 timeout "$ALLOTER_TEST_LIMIT" salloc -Q -N2 -n2 "$ALLOTER" --slurm --tag -q \
		--report "$T/r.json" --joblog "$T/log" \
		'sleep 1; echo a; echo b >&2' 'sleep 1; echo a; echo b >&2' 3>&-
	check_places "$T/r.json" "$T/log" "$output"
}

@test "outside an allocation each job's tag, Host and node are the node Slurm chose" {
	# A job asking for every CPU of a node leaves the other node for the
	# second one.
	run -0 alloter --slurm --tag -q -o line --report "$T/r.json" --joblog "$T/log" \
		--slurm-args "--cpus-per-task=$SLURM_CPUS" \
		'sleep 1; echo a; echo b >&2' 'sleep 1; echo a; echo b >&2'
	check_places "$T/r.json" "$T/log" "$output"
	assert_queue_empty 10
}
