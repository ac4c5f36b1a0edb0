#!/usr/bin/env bats
# --results DIR and -o none: each task's streams and exit status in files.

bats_require_minimum_version 1.5.0
load helpers

@test "--results DIR: DIR/SEQ/stdout, stderr and exit, beside the normal output" {
	run --separate-stderr alloter -j 2 --results "$T/res" 'echo out; echo err >&2; exit 3' 'echo two'
	[ "$status" -eq 1 ]
	[ "$(sort <<<"$output")" = $'out\ntwo' ]
	[ "$(cat "$T/res/1/stdout")" = out ]
	[ "$(cat "$T/res/1/stderr")" = err ]
	[ "$(cat "$T/res/1/exit")" = 3 ]
	[ "$(cat "$T/res/2/stdout")" = two ]
	[ ! -s "$T/res/2/stderr" ]
	[ "$(cat "$T/res/2/exit")" = 0 ]
	[ ! -e "$T/res/1/args" ]
}

@test "--results: a template task's arguments in DIR/SEQ/args, one per line" {
	alloter -q -j 1 --results "$T/res" echo {1} {2} ::: 'a b' ::: c
	[ "$(cat "$T/res/1/args")" = $'a b\nc' ]
	[ "$(cat "$T/res/1/stdout")" = 'a b c' ]
}

@test "--results files are written as the task runs" {
	start_bg --results "$T/res" "echo early; while [ ! -e $T/go ]; do sleep 0.05; done; echo late"
	for _ in $(seq 200); do [ -s "$T/res/1/stdout" ] && break; sleep 0.05; done
	[ "$(cat "$T/res/1/stdout")" = early ]
	touch "$T/go"
	wait_bg 20
	[ "$bg_status" -eq 0 ]
	[ "$(cat "$T/res/1/stdout")" = $'early\nlate' ]
}

@test "--results keeps every byte, in every output mode" {
	head -c 300000 /dev/urandom >"$T/bytes"
	for mode in group line raw none; do
		alloter -q -o "$mode" --results "$T/$mode" "cat $T/bytes" >"$T/out.$mode"
		cmp "$T/bytes" "$T/$mode/1/stdout"
	done
	cmp "$T/bytes" "$T/out.group"
	cmp "$T/bytes" "$T/out.raw"
	[ ! -s "$T/out.none" ]
}

@test "--results: a death by a signal is 128 plus its number, as a shell says" {
	alloter -q --results "$T/res" 'kill -KILL $$' '/no/such/program' || true
	[ "$(cat "$T/res/1/exit")" = 137 ]
	[ "$(cat "$T/res/2/exit")" = 127 ]
}

@test "--results: each attempt of a retried task starts its files anew" {
	alloter -q -r 1 --results "$T/res" "if [ -e $T/once ]; then echo second; else touch $T/once; echo first; exit 1; fi"
	[ "$(cat "$T/res/1/stdout")" = second ]
	[ "$(cat "$T/res/1/exit")" = 0 ]
}

@test "-o none discards the tasks' output but not alloter's messages" {
	run --separate-stderr alloter -o none 'x=sec; echo ${x}ret; echo ${x}ret >&2; exit 3'
	[ "$status" -eq 1 ]
	[ "$output" = "" ]
	[[ $stderr != *secret* ]]
	[[ $stderr == *"exit status 3"* ]]
}

@test "--results that cannot be made, and -o none with --tag or --keep-order: exit 2, nothing run" {
	: >"$T/file"
	run --separate-stderr alloter --results "$T/file" "touch $T/ran"
	[ "$status" -eq 2 ]
	[[ $stderr == *"--results '$T/file'"* ]]
	run --separate-stderr alloter --results "$T/file/sub" "touch $T/ran"
	[ "$status" -eq 2 ]
	run --separate-stderr alloter -o none --tag "touch $T/ran"
	[ "$status" -eq 2 ]
	run --separate-stderr alloter -o none --keep-order "touch $T/ran"
	[ "$status" -eq 2 ]
	[ ! -e "$T/ran" ]
}
