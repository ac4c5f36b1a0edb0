#!/usr/bin/env bats
# Slurm (--slurm): tasks run as job steps inside an allocation and as jobs
# of their own from outside one, on a private one-node cluster on this
# machine (tests/slurm.bash).

bats_require_minimum_version 1.5.0
load helpers
load slurm

setup_file() {
	slurm_start
}

teardown_file() {
	slurm_stop
}

setup() {
	slurm_require
	common_setup
}

@test "the test cluster runs a job" {
	run srun -N1 -n1 echo hi
	[ "$status" -eq 0 ]
	[ "$output" = hi ]
}
