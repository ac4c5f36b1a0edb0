#!/usr/bin/env bats
# Output modes: group (default), line, raw, and --tag.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	head -c 100000000 /dev/urandom >"$BATS_FILE_TMPDIR/big"
}

# burst_task LETTER : prints 3 bursts of 100 lines "LETTER burst i" on stdout
# and "eLETTER burst i" on stderr, pausing between bursts.
burst_task() {
	echo "for b in 1 2 3; do i=0; while [ \$i -lt 100 ]; do echo \"$1 \$b \$i\"; echo \"e$1 \$b \$i\" >&2; i=\$((i + 1)); done; sleep 0.2; done"
}

# blocks TEXT : how many contiguous blocks of equal first words TEXT has.
blocks() {
	awk '{ print $1 }' <<<"$1" | uniq | wc -l
}

@test "group mode keeps each task's stdout in one block" {
	run --separate-stderr alloter -q -j 2 "$(burst_task A)" "$(burst_task B)"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^A ' <<<"$output")" -eq 300 ]
	[ "$(grep -c '^B ' <<<"$output")" -eq 300 ]
	[ "$(blocks "$output")" -eq 2 ]
}

@test "group mode keeps each task's stderr in one block" {
	run --separate-stderr alloter -q -o group -j 2 "$(burst_task A)" "$(burst_task B)"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^eA ' <<<"$stderr")" -eq 300 ]
	[ "$(grep -c '^eB ' <<<"$stderr")" -eq 300 ]
	[ "$(blocks "$stderr")" -eq 2 ]
}

@test "group mode sends a task's stdout to stdout and its stderr to stderr" {
	run --separate-stderr alloter -q 'echo to-out; echo to-err >&2'
	[ "$status" -eq 0 ]
	[ "$output" = to-out ]
	[ "$stderr" = to-err ]
}

@test "group mode writes a task's output only when the task ends" {
	alloter -q -j 2 \
		"echo early; i=0; until [ -e '$T/go' ] || [ \$i -gt 100 ]; do i=\$((i+1)); sleep 0.05; done; echo late" \
		"sleep 0.7; if grep -q early '$T/out'; then echo seen; else echo unseen; fi >'$T/probe'; touch '$T/go'" \
		>"$T/out" 2>"$T/err"
	[ "$(cat "$T/probe")" = unseen ]
	[ "$(cat "$T/out")" = $'early\nlate' ]
}

@test "group mode writes the output of tasks in the order they end" {
	run --separate-stderr alloter -q -j 2 \
		"i=0; until [ -e '$T/second-started' ] || [ \$i -gt 100 ]; do i=\$((i+1)); sleep 0.05; done; sleep 1; echo slow" \
		"touch '$T/second-started'; echo fast"
	[ "$status" -eq 0 ]
	[ "$output" = $'fast\nslow' ]
}

@test "group mode writes the output of a failed task too" {
	run --separate-stderr alloter -q 'echo before-failing; echo why >&2; exit 3'
	[ "$status" -eq 1 ]
	[ "$output" = before-failing ]
	[[ $stderr == *why* ]]
}

@test "line mode writes a line before the task ends" {
	alloter -q -o line -j 2 \
		"echo first; i=0; until [ -e '$T/go' ] || [ \$i -gt 100 ]; do i=\$((i+1)); sleep 0.05; done; echo second" \
		"i=0; until grep -q first '$T/out' || [ \$i -gt 100 ]; do i=\$((i+1)); sleep 0.05; done
		grep -q first '$T/out' && touch '$T/found'; touch '$T/go'" \
		>"$T/out" 2>"$T/err"
	[ "$(cat "$T/out")" = $'first\nsecond' ]
	# the second task found "first" in the output while the first task ran
	[ -e "$T/found" ]
}

# long_lines LENGTH : 8 tasks each print 200 lines of LENGTH copies of their
# letter, concurrently, through -o line into a pipe; every line that comes out
# must be one whole line of one task.
long_lines() {
	local letter cmds=()
	for letter in A B C D E F G H; do
		cmds+=("L=\$(printf '%$1s' '' | tr ' ' $letter); i=0; while [ \$i -lt 200 ]; do echo \"\$L\"; i=\$((i + 1)); done")
	done
	alloter -q -o line -j 8 "${cmds[@]}" 2>"$T/err" | cat >"$T/out"
	rc=${PIPESTATUS[0]}
	echo "status $rc, $(wc -l <"$T/out") lines, stderr: $(head -c 2000 "$T/err")"
	[ "$rc" -eq 0 ]
	[ "$(wc -l <"$T/out")" -eq 1600 ]
	bad=$(awk -v len="$1" '{ c = substr($0, 1, 1); s = $0; gsub(c, "", s); if (s != "" || length($0) != len) n++ } END { print n + 0 }' "$T/out")
	[ "$bad" -eq 0 ]
	for letter in A B C D E F G H; do
		[ "$(grep -c "^$letter" "$T/out")" -eq 200 ]
	done
}

@test "line mode never mixes parts of 4000-byte lines of different tasks" {
	long_lines 4000
}

@test "line mode never mixes parts of 10000-byte lines of different tasks" {
	long_lines 10000
}

@test "line mode holds a partial line until its end arrives" {
	# Each task writes every line in two halves with a pause between them.
	cmds=()
	for letter in a b c d; do
		cmds+=("i=0; while [ \$i -lt 5 ]; do printf '%s' '$letter-head-'; sleep 0.05; printf '%s\n' '$letter-tail'; i=\$((i + 1)); done")
	done
	run --separate-stderr alloter -q --output line -j 4 "${cmds[@]}"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 20 ]
	for l in "${lines[@]}"; do
		[[ $l =~ ^([a-d])-head-([a-d])-tail$ ]]
		[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]
	done
}

@test "line mode sends stderr lines to stderr" {
	run --separate-stderr alloter -q -o line 'echo to-out; echo to-err >&2'
	[ "$status" -eq 0 ]
	[ "$output" = to-out ]
	[ "$stderr" = to-err ]
}

@test "raw mode gives tasks alloter's own stdout and stderr" {
	alloter -q -o raw 'readlink /proc/$$/fd/1; readlink /proc/$$/fd/2 >&2' >"$T/out" 2>"$T/err"
	[ "$(cat "$T/out")" = "$T/out" ]
	[ "$(cat "$T/err")" = "$T/err" ]
}

@test "--tag prefixes every stdout and stderr line with the task name and a tab in group mode" {
	run --separate-stderr alloter -q -j 1 --tag 'echo a; echo b >&2' 'printf "c\nd\n"'
	[ "$status" -eq 0 ]
	[ "$output" = $'1\ta\n2\tc\n2\td' ]
	[ "$stderr" = $'1\tb' ]
}

@test "--tag prefixes every line in line mode" {
	run --separate-stderr alloter -q -j 1 -o line --tag 'echo a; echo b >&2' 'printf "c\nd\n"'
	[ "$status" -eq 0 ]
	[ "$output" = $'1\ta\n2\tc\n2\td' ]
	[ "$stderr" = $'1\tb' ]
}

@test "--tag uses the sequence number beyond 9" {
	cmds=()
	for i in $(seq 12); do cmds+=("echo x"); done
	run --separate-stderr alloter -q -j 1 --tag "${cmds[@]}"
	[ "$status" -eq 0 ]
	[ "${lines[11]}" = $'12\tx' ]
}

@test "without --tag the output is not prefixed" {
	run --separate-stderr alloter -q 'echo plain'
	[ "$output" = plain ]
}

# big_copy MODE : a task cats the 100 MB file; alloter's stdout must be
# byte-identical to it.
big_copy() {
	rc=0
	alloter -q -o "$1" "cat '$BATS_FILE_TMPDIR/big'" >"$T/out" 2>"$T/err" || rc=$?
	echo "status $rc, stderr: $(head -c 2000 "$T/err")"
	[ "$rc" -eq 0 ]
	cmp "$BATS_FILE_TMPDIR/big" "$T/out"
	rm -f "$T/out"
}

@test "100 MB of output arrive byte-exact in group mode" {
	big_copy group
}

@test "100 MB of output arrive byte-exact in line mode" {
	big_copy line
}

@test "100 MB of output arrive byte-exact in raw mode" {
	big_copy raw
}

@test "closing alloter's stdout ends the run with status 141, quietly" {
	t0=$(now_ms)
	alloter -j 2 -o line "'$YES'" "'$YES'" 2>"$T/err" | head -n 1 >"$T/out"
	rc=${PIPESTATUS[0]}
	elapsed=$(($(now_ms) - t0))
	[ "$rc" -eq 141 ]
	[ "$(cat "$T/out")" = y ]
	[ "$elapsed" -lt 10000 ]
	cat "$T/err"
	[ "$(wc -l <"$T/err")" -le 3 ]
	[ -z "$(grep -i 'broken pipe' "$T/err")" ]
	assert_no_survivors
}

@test "closing stdout in group mode terminates the other tasks and exits 141" {
	t0=$(now_ms)
	alloter -j 2 'seq 1 200000' "touch '$T/started2'; exec '$SLEEP' 300" 2>"$T/err" | head -n 1 >"$T/out"
	rc=${PIPESTATUS[0]}
	elapsed=$(($(now_ms) - t0))
	[ "$rc" -eq 141 ]
	[ "$elapsed" -lt 10000 ]
	[ "$(cat "$T/out")" = 1 ]
	[ "$(wc -l <"$T/err")" -le 3 ]
	assert_no_survivors
}
