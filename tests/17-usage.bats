#!/usr/bin/env bats
# Options: --help, --version, "--", and usage errors (exit 2, nothing run).

bats_require_minimum_version 1.5.0
load helpers

# usage_error ARGS... : alloter ARGS followed by a command that would create
# $T/ran must exit 2 with a message on stderr and run nothing.
usage_error() {
	run --separate-stderr alloter "$@" "touch '$T/ran'"
	echo "status $status, stderr: $stderr"
	[ "$status" -eq 2 ]
	[ -n "$stderr" ]
	[ ! -e "$T/ran" ]
}

@test "-h prints usage on stdout and exits 0" {
	run --separate-stderr alloter -h
	[ "$status" -eq 0 ]
	[[ $output == *[Uu]sage* ]]
	[[ $output == *--limit* ]]
}

@test "--help prints usage on stdout, exits 0 and runs nothing" {
	run --separate-stderr alloter --help "touch '$T/ran'"
	[ "$status" -eq 0 ]
	[[ $output == *[Uu]sage* ]]
	[ ! -e "$T/ran" ]
}

@test "--help lists the exit statuses in its last lines" {
	run --separate-stderr alloter --help
	[ "$status" -eq 0 ]
	tail=$(tail -n 12 <<<"$output")
	[[ $tail == *124* ]]
	[[ $tail == *141* ]]
	[[ $tail == *130* ]]
}

@test "--help describes every option" {
	run --separate-stderr alloter --help
	for opt in --limit --timeout --task-timeout --fail-fast --kill-others --grace --output --tag --quiet --help --version; do
		[[ $output == *"$opt"* ]] || { echo "missing $opt"; false; }
	done
}

@test "-V prints a version and exits 0" {
	run --separate-stderr alloter -V
	[ "$status" -eq 0 ]
	[[ $output =~ [0-9]+\.[0-9]+ ]]
}

@test "--version prints a version and exits 0" {
	run --separate-stderr alloter --version "touch '$T/ran'"
	[ "$status" -eq 0 ]
	[[ $output =~ [0-9]+\.[0-9]+ ]]
	[ ! -e "$T/ran" ]
}

@test "-- ends the options" {
	run --separate-stderr alloter -q -- 'echo after-dashes'
	[ "$status" -eq 0 ]
	[ "$output" = after-dashes ]
}

@test "after -- an argument that looks like an option is a command" {
	# "--bogus" would be a usage error (2); as a command it fails (1).
	run --separate-stderr alloter -q -- --bogus
	[ "$status" -eq 1 ]
	run --separate-stderr alloter -q -- -V
	[ "$status" -eq 1 ]
	[ -z "$output" ]
}

@test "an unknown long option is a usage error" {
	usage_error --bogus
}

@test "an unknown short option is a usage error" {
	usage_error -Z
}

@test "options without a COMMAND read the commands from standard input" {
	run --separate-stderr alloter -q -j 2 </dev/null
	[ "$status" -eq 0 ]
}

@test "-j -1x is a usage error" {
	usage_error -j -1x
}

@test "-j abc is a usage error" {
	usage_error -j abc
}

@test "a -j too large for any integer is a usage error" {
	usage_error -j 99999999999999999999
}

@test "--limit with trailing junk is a usage error" {
	usage_error --limit 3x
}

@test "-j without a value is a usage error" {
	run --separate-stderr alloter -j
	[ "$status" -eq 2 ]
	[ -n "$stderr" ]
}

@test "-t abc is a usage error" {
	usage_error -t abc
}

@test "-t 5x is a usage error" {
	usage_error -t 5x
}

@test "an empty -t is a usage error" {
	usage_error -t ''
}

@test "a unit without a number is a usage error" {
	usage_error --timeout ms
}

@test "a bad --task-timeout is a usage error" {
	usage_error --task-timeout 1y
}

@test "a bad -T is a usage error" {
	usage_error -T abc
}

@test "a bad --grace is a usage error" {
	usage_error --grace soon
}

@test "an unknown output mode is a usage error" {
	usage_error -o fancy
}

@test "a bad --output is a usage error" {
	usage_error --output ''
}

@test "long options work like short ones" {
	run --separate-stderr alloter --limit 1 --timeout 10 --task-timeout 10 --grace 1 \
		--output line --tag --quiet 'echo x'
	[ "$status" -eq 0 ]
	[ "$output" = $'1\tx' ]
	[ -z "$stderr" ]
}
