#!/usr/bin/env bats
# The command line: options end at the first command, GNU parallel's -j
# forms, messages that name the option (with a hint for the options of GNU
# parallel and xargs that alloter lacks), and combinations that are refused
# rather than ignored.

bats_require_minimum_version 1.5.0
load helpers

MANPAGE="$BATS_TEST_DIRNAME/../man/alloter.1"

# refused MESSAGE ARGS... : alloter ARGS followed by a command that would
# create $T/ran must exit 2, run nothing, and print MESSAGE as its first
# line on stderr.
refused() {
	local want=$1
	shift
	run --separate-stderr alloter "$@" "touch '$T/ran'"
	echo "status $status, stderr: $stderr"
	[ "$status" -eq 2 ]
	[ ! -e "$T/ran" ]
	[ "${stderr%%$'\n'*}" = "$want" ]
}

# limit_of ARGS... : the limit that alloter ARGS settles on, as its report
# gives it.
limit_of() {
	alloter -q --report "$T/report.json" "$@" true >&2 &&
		jq -r .run.options.limit "$T/report.json"
}

cpus() {
	getconf _NPROCESSORS_ONLN
}

@test "an option after the first command is a command of its own" {
	unset POSIXLY_CORRECT
	run --separate-stderr alloter -n 'echo a' -j4
	[ "$status" -eq 0 ]
	[ "$output" = $'1\techo a\n2\t-j4' ]
}

@test "-n after a command does not make a dry run" {
	unset POSIXLY_CORRECT
	run --separate-stderr alloter -q "touch '$T/ran'" -n
	# "-n" is run as a command, which is not found.
	[ "$status" -eq 1 ]
	[ -e "$T/ran" ]
	[[ $stderr == *"-n: not found"* ]]
}

@test "-k after a command does not turn kill-others on" {
	unset POSIXLY_CORRECT
	run --separate-stderr alloter -n gzip -k f1
	[ "$status" -eq 0 ]
	[ "$output" = $'1\tgzip\n2\t-k\n3\tf1' ]
}

@test "-- after a command is a command too" {
	unset POSIXLY_CORRECT
	run --separate-stderr alloter -n a -- b
	[ "$status" -eq 0 ]
	[ "$output" = $'1\ta\n2\t--\n3\tb' ]
}

@test "-j 50% is half the online processors, rounded down, at least 1" {
	local n=$(($(cpus) / 2))
	[ "$n" -ge 1 ] || n=1
	[ "$(limit_of -j 50%)" -eq "$n" ]
}

@test "-j 200% is twice the online processors" {
	[ "$(limit_of -j 200%)" -eq $(($(cpus) * 2)) ]
}

@test "-j 0% is 1, not unlimited" {
	[ "$(limit_of -j 0%)" -eq 1 ]
}

@test "-j +0 is the number of online processors, not unlimited" {
	[ "$(limit_of -j +0)" -eq "$(cpus)" ]
}

@test "-j +2 is the online processors plus 2" {
	[ "$(limit_of -j +2)" -eq $(($(cpus) + 2)) ]
}

@test "--limit=+1 is the long form of -j +1" {
	[ "$(limit_of --limit=+1)" -eq $(($(cpus) + 1)) ]
}

@test "-j -1 is the online processors minus 1, at least 1" {
	local n=$(($(cpus) - 1))
	[ "$n" -ge 1 ] || n=1
	[ "$(limit_of -j -1)" -eq "$n" ]
}

@test "-j -1000 is 1" {
	[ "$(limit_of -j -1000)" -eq 1 ]
}

@test "a -j that is not N, N%, +N or -N is refused with the forms it takes" {
	local v
	for v in 5x '' % +% 5%% +5% -5% 1.5% ' 5' 5' ' +-1 -+1 ++1 0x10 '5 %'; do
		refused "alloter: --limit: invalid value '$v' (want N, N%, +N or -N, with N a whole number from 0 to 1000000)" -j "$v"
	done
}

@test "a -j +N beyond 1000000 tasks is refused" {
	refused "alloter: --limit: '+1000000' is $(($(cpus) + 1000000)) tasks at once, more than 1000000" -j +1000000
}

@test "--tag=yes says that --tag takes no value" {
	refused "alloter: option '--tag' takes no value" --tag=yes
}

@test "--quiet=1 and an abbreviated --qui=1 say that --quiet takes no value" {
	refused "alloter: option '--quiet' takes no value" --quiet=1
	refused "alloter: option '--quiet' takes no value" --qui=1
}

@test "--keep-order=x says that --keep-order takes no value" {
	refused "alloter: option '--keep-order' takes no value" --keep-order=x
}

@test "--progress= says that --progress takes no value" {
	refused "alloter: option '--progress' takes no value" --progress=
}

@test "-P 4 says that xargs' -P is -j here" {
	refused "alloter: unknown option '-P' (xargs' -P is -j here)" -P 4
}

@test "-P in a cluster of letters gets the hint too" {
	refused "alloter: unknown option '-P' (xargs' -P is -j here)" -qP4
}

@test "--jobs says that GNU parallel's --jobs is -j or --limit here" {
	refused "alloter: unknown option '--jobs' (GNU parallel's --jobs is -j or --limit here)" --jobs 4
	refused "alloter: unknown option '--jobs' (GNU parallel's --jobs is -j or --limit here)" --jobs=4
}

@test "--halt-on-error points to --halt, -x and -k" {
	refused "alloter: unknown option '--halt-on-error' (GNU parallel's --halt-on-error 1 is --halt soon,fail=1 (-x) here, and --halt-on-error 2 is --halt now,fail=1 (-k))" --halt-on-error 1
}

@test "xargs' -i and -d point to -I and -0" {
	refused "alloter: unknown option '-i' (xargs' -i is -I {} here)" -i
	refused "alloter: unknown option '-d' (xargs' and GNU parallel's -d is not supported yet (-0 takes NUL-separated records))" -d ,
}

@test "a long option that abbreviates several is called ambiguous" {
	refused "alloter: option '--k' is ambiguous (--kill-others, --keep-order)" --k
}

@test "a missing value at the end of a cluster names the letter" {
	run --separate-stderr alloter -xj
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "alloter: option '-j' needs a value" ]
}

@test "--tag with -o raw is refused, in either order" {
	refused "alloter: --tag: cannot be combined with -o raw: raw output goes straight out, unseen, so its lines cannot be prefixed" --tag -o raw
	refused "alloter: --tag: cannot be combined with -o raw: raw output goes straight out, unseen, so its lines cannot be prefixed" --output=raw --tag
}

@test "--keep-order with -o raw is refused" {
	refused "alloter: --keep-order: cannot be combined with -o raw: raw output goes straight out, unseen, so it cannot be held back (use -o group)" -o raw --keep-order
}

@test "--keep-order with -o line is refused" {
	refused "alloter: --keep-order: cannot be combined with -o line: lines are written as they arrive (use -o group)" --keep-order -o line
}

@test "--help says where the options end and what -j takes" {
	run --separate-stderr alloter --help
	[ "$status" -eq 0 ]
	[[ $output == *"The options end at the first command"* ]]
	[[ $output == *"N%: that share of the CPUs"* ]]
	[[ $output == *"+N, -N: the CPUs plus or minus N"* ]]
}

@test "the man page has a table for users of GNU parallel and xargs" {
	local table
	table=$(sed -n '/^\.Ss Coming from GNU parallel or xargs$/,/^\.S[hs] /p' "$MANPAGE")
	[ -n "$table" ]
	grep -q '^\.It Li -k Ta ' <<<"$table"
	grep -q '^\.It Li -n Ar N Ta ' <<<"$table"
	grep -q '^\.It Li -P Ar N Ta ' <<<"$table"
	grep -q '^\.It Li -j Ar N Ns Li % ' <<<"$table"
	grep -q '^\.It Ar command Li -q Ta ' <<<"$table"
}

@test "the man page no longer lets options follow the commands" {
	run ! grep -n 'POSIXLY_CORRECT' "$MANPAGE"
	run ! grep -n 'Options may come before or after the commands' "$MANPAGE"
}

@test "commands with a piped stdin that has data: one hint that stdin is not read" {
	hint="alloter: standard input is not read when commands are given; to run a command once per input line, write {} where the line goes: alloter echo {}"
	# A FIFO held open here, its data written before alloter starts.
	mkfifo "$T/p"
	exec 4<>"$T/p"
	printf 'a\nb\n' >&4
	run --separate-stderr alloter echo <"$T/p"
	exec 4>&-
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	[ "$(grep -c -F -- "$hint" <<<"$stderr")" -eq 1 ]
	printf 'x\n' >"$T/in"
	run --separate-stderr alloter 'wc -l' <"$T/in"
	[ "$output" = 0 ]
	[[ $stderr == *"$hint"* ]]
}

@test "no stdin hint with -q, with an empty or /dev/null stdin, or for a template" {
	run --separate-stderr bash -c 'printf "a\n" | "$ALLOTER" -q echo'
	[ "$stderr" = "" ]
	: >"$T/empty"
	run --separate-stderr alloter echo <"$T/empty"
	[[ $stderr != *"not read"* ]]
	run --separate-stderr alloter echo </dev/null
	[[ $stderr != *"not read"* ]]
	run --separate-stderr bash -c 'printf "a\n" | "$ALLOTER" echo {}'
	[ "$output" = a ]
	[[ $stderr != *"not read"* ]]
}

@test "a task file's raw output with --tag, tag: true or --keep-order is refused, nothing run" {
	printf 'output: raw\ntag: true\ntasks:\n  - touch ran\n' >"$T/a.yaml"
	run --separate-stderr alloter -f "$T/a.yaml"
	[ "$status" -eq 2 ]
	[[ $stderr == *"cannot be combined with raw output"* ]]
	printf 'output: raw\ntasks:\n  - touch ran\n' >"$T/b.yaml"
	run --separate-stderr alloter -f "$T/b.yaml" --tag
	[ "$status" -eq 2 ]
	run --separate-stderr alloter -f "$T/b.yaml" --keep-order
	[ "$status" -eq 2 ]
	printf 'output: line\ntasks:\n  - touch ran\n' >"$T/c.yaml"
	run --separate-stderr alloter -f "$T/c.yaml" --keep-order
	[ "$status" -eq 2 ]
	[[ $stderr == *"cannot be combined with line output"* ]]
	[ ! -e "$T/ran" ] && [ ! -e ran ]
}

@test "an unquoted ': ' in a run value gets a hint to quote the command" {
	printf 'tasks:\n  - name: x\n    run: echo a: b\n' >"$T/t.yaml"
	run --separate-stderr alloter -f "$T/t.yaml"
	[ "$status" -eq 2 ]
	[ "$stderr" = "$T/t.yaml:3:16: mapping values are not allowed in this context (quote a command that contains ': ')" ]
	printf 'tasks:\n  - name: a: b\n    run: "true"\n' >"$T/u.yaml"
	run --separate-stderr alloter -f "$T/u.yaml"
	[ "$status" -eq 2 ]
	[[ $stderr != *"quote a command"* ]]
}

@test "-n prints a multi-line command on one line, escaped" {
	run --separate-stderr alloter -n $'echo a\necho\tb' 'true'
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[ "${lines[0]}" = '1	echo a\necho\tb' ]
	[ "${lines[1]}" = '2	true' ]
}
