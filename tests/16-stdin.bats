#!/usr/bin/env bats
# Commands read from standard input, one per line.

bats_require_minimum_version 1.5.0
load helpers

@test "with no COMMAND each line of standard input is a command" {
	printf '%s\n' 'echo one' 'echo two | tr o 0' 'echo "three  3"' >"$T/commands"
	run --separate-stderr alloter -q -j 1 <"$T/commands"
	[ "$status" -eq 0 ]
	[ "$output" = $'one\ntw0\nthree  3' ]
}

@test "blank lines and comment lines are skipped" {
	printf '%s\n' '' '# a comment' '   ' '   # an indented comment' "$(printf '\t#tabbed')" \
		'echo "$ALLOTER_TASK_NAME one"' '' 'echo "$ALLOTER_TASK_NAME two"' >"$T/commands"
	run --separate-stderr alloter -j 1 <"$T/commands"
	[ "$status" -eq 0 ]
	[ "$output" = $'1 one\n2 two' ]
	line=$(summary_line "$stderr")
	[[ $line == *"2 succeeded"* ]]
	[[ $line == *"0 failed"* ]]
}

@test "a last line without a newline is still a command" {
	printf 'echo a\necho b' >"$T/commands"
	run --separate-stderr alloter -q -j 1 <"$T/commands"
	[ "$status" -eq 0 ]
	[ "$output" = $'a\nb' ]
}

@test "an empty standard input runs nothing and exits 0" {
	run --separate-stderr alloter </dev/null
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[[ $(summary_line "$stderr") == *"0 succeeded"* ]]
}

@test "tasks start while the producer is still writing" {
	# The producer writes one command, then waits (up to 10 s) for the file
	# that command creates before it writes the next one.
	producer() {
		echo "touch '$T/first'"
		local i=0
		while [ ! -e "$T/first" ]; do
			i=$((i + 1))
			if [ $i -gt 100 ]; then
				echo "gave up" >"$T/producer-gave-up"
				break
			fi
			sleep 0.1
		done
		echo "echo second"
	}
	producer | alloter -q >"$T/out" 2>"$T/err"
	[ ! -e "$T/producer-gave-up" ]
	[ "$(cat "$T/out")" = second ]
}

@test "a task does not read the command stream" {
	printf '%s\n' 'cat' 'echo after-cat' >"$T/commands"
	run --separate-stderr alloter -q -j 1 <"$T/commands"
	[ "$status" -eq 0 ]
	[ "$output" = after-cat ]
}

@test "2000 tasks read from standard input all succeed" {
	yes true | head -n 2000 >"$T/commands"
	run --separate-stderr alloter <"$T/commands"
	[ "$status" -eq 0 ]
	[[ $(summary_line "$stderr") == *"2000 succeeded"* ]]
}

@test "failures among commands from standard input make the exit status 1" {
	printf '%s\n' true 'exit 3' true >"$T/commands"
	run --separate-stderr alloter <"$T/commands"
	[ "$status" -eq 1 ]
	[[ $stderr == *"exit status 3"* ]]
	[[ $(summary_line "$stderr") == *"2 succeeded"* ]]
}

@test "with no COMMAND and a terminal on standard input it is a usage error" {
	command -v script >/dev/null || skip "script(1) is not installed"
	run timeout -s KILL 20 script -qec "$(printf '%q' "$ALLOTER")" /dev/null </dev/null
	[ "$status" -eq 2 ]
}

@test "a command stream that cannot be read is an input error" {
	# A directory opens for reading, but reading it fails (EISDIR).
	run --separate-stderr alloter </
	[ "$status" -eq 2 ]
	[ -n "$stderr" ]
}
