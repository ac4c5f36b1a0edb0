#!/usr/bin/env bats
# tests/60-direct.bats - running plain commands without a shell (direct
# exec) must look exactly like running them through /bin/sh -c: the same
# output, exit statuses (126 and 127 included), environment and signal
# state; --shell-always and the task file's shell key turn it off.  And an
# idle run costs alloter next to no CPU.

bats_require_minimum_version 1.5.0
load helpers

# joblog_status FILE : "EXITVAL SIGNAL" of the job log's only task.
joblog_status() {
	awk -F'\t' 'NR == 2 { print $7, $8 }' "$1"
}

# both CMD : runs CMD alone, directly and with --shell-always; sets
# d_out/s_out (stdout), d_err/s_err (stderr), d_st/s_st (exit value and
# signal from the job log).
both() {
	alloter -q -j 1 --joblog "$T/d.log" -- "$1" >"$T/d.out" 2>"$T/d.err" || true
	alloter -q -j 1 --shell-always --joblog "$T/s.log" -- "$1" \
		>"$T/s.out" 2>"$T/s.err" || true
	d_out=$(cat "$T/d.out") s_out=$(cat "$T/s.out")
	d_err=$(cat "$T/d.err") s_err=$(cat "$T/s.err")
	d_st=$(joblog_status "$T/d.log") s_st=$(joblog_status "$T/s.log")
}

make_scripts() {
	printf '#!/bin/sh\nfor a; do echo "[$a]"; done\n' >"$T/args"
	printf '#!/bin/sh\nexit 7\n' >"$T/exit7"
	printf '#!/bin/sh\ncat /proc/$PPID/comm\n' >"$T/parent"
	printf '#!/bin/sh\nenv | sort\n' >"$T/envs"
	printf 'echo ran without a shebang\n' >"$T/noshebang"
	printf '#!/bin/sh\necho never\n' >"$T/noexec"
	printf '#!/bin/sh\nkill -USR1 $$\n' >"$T/usr1"
	chmod +x "$T/args" "$T/exit7" "$T/parent" "$T/envs" \
		"$T/noshebang" "$T/usr1"
	mkdir "$T/adir"
}

@test "direct exec and sh -c agree on output and exit status for a table of commands" {
	make_scripts
	local cmds=(
		"true"
		"false"
		"/bin/echo a  b   c"
		"$T/args one  two	three"
		"expr 2 + 3"
		"expr 0 + 0"
		"$T/exit7"
		"sh $T/exit7"
		"$T/noshebang"
		"$T/envs"
		# grep reads its own signal state; a shell script could catch
		# its shell with every signal blocked for a moment.
		"grep -e ^SigBlk -e ^SigIgn /proc/self/status"
	)
	for c in "${cmds[@]}"; do
		both "$c"
		echo "command: $c"
		echo "  direct: out [$d_out] err [$d_err] status [$d_st]"
		echo "  shell:  out [$s_out] err [$s_err] status [$s_st]"
		[ "$d_out" = "$s_out" ]
		[ "$d_err" = "$s_err" ]
		[ -n "$d_st" ]
		[ "$d_st" = "$s_st" ]
	done
	# ... and that state is the default: nothing blocked or ignored.
	both "grep -e ^SigBlk -e ^SigIgn /proc/self/status"
	[ "$d_out" = "$(printf 'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000')" ]
}

@test "a command that is not found is exit status 127 either way" {
	both "no-such-program-$marker arg"
	[ "$d_st" = "127 0" ]
	[ "$s_st" = "127 0" ]
	[[ $d_err == *"no-such-program-$marker"*"not found"* ]]
	[[ $s_err == *"no-such-program-$marker"*"not found"* ]]
	both "$T/no-such-file"
	[ "$d_st" = "127 0" ]
	[ "$s_st" = "127 0" ]
}

@test "a file that cannot be run, or a folder, is exit status 126 either way" {
	make_scripts
	both "$T/noexec"
	[ "$d_st" = "126 0" ]
	[ "$s_st" = "126 0" ]
	[ -z "$d_out" ]
	both "$T/adir"
	[ "$d_st" = "126 0" ]
	[ "$s_st" = "126 0" ]
}

@test "a plain command runs without a shell; --shell-always puts the shell back" {
	make_scripts
	run --separate-stderr alloter -q -- "$T/parent"
	[ "$status" -eq 0 ]
	[ "$output" != sh ]
	[ "$output" = "$(basename "$ALLOTER" | cut -c1-15)" ]
	run --separate-stderr alloter -q --shell-always -- "$T/parent"
	[ "$status" -eq 0 ]
	[ "$output" = sh ]
	# Anything with shell syntax goes to the shell without being asked.
	run --separate-stderr alloter -q -- "$T/parent > $T/redirected"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/redirected")" = sh ]
}

@test "commands read from standard input run directly too" {
	make_scripts
	run --separate-stderr alloter -q <<<"$T/parent"
	[ "$status" -eq 0 ]
	[ "$output" != sh ]
	run --separate-stderr alloter -q --shell-always <<<"$T/parent"
	[ "$output" = sh ]
}

@test "the task file's shell key, set explicitly, turns direct exec off" {
	make_scripts
	cat >"$T/direct.yaml" <<-EOF
	tasks:
	  - $T/parent
	EOF
	cat >"$T/shell.yaml" <<-EOF
	shell: /bin/sh
	tasks:
	  - $T/parent
	EOF
	run --separate-stderr alloter -q -f "$T/direct.yaml"
	[ "$status" -eq 0 ]
	[ "$output" != sh ]
	run --separate-stderr alloter -q -f "$T/shell.yaml"
	[ "$status" -eq 0 ]
	[ "$output" = sh ]
}

@test "a task whose env sets PATH finds its command along that PATH" {
	mkdir "$T/bin"
	printf '#!/bin/sh\necho found in the task PATH\n' >"$T/bin/only-here-$marker"
	chmod +x "$T/bin/only-here-$marker"
	cat >"$T/t.yaml" <<-EOF
	tasks:
	  - name: t
	    run: only-here-$marker
	    env: {PATH: "$T/bin:/usr/bin:/bin"}
	EOF
	run --separate-stderr alloter -q -f "$T/t.yaml"
	[ "$status" -eq 0 ]
	[ "$output" = "found in the task PATH" ]
}

@test "a task killed by a signal fails either way; direct exec names the signal" {
	make_scripts
	# Exec'd directly, the script is alloter's child, so its death by a
	# signal is seen as such.  Through sh -c, the shell forks it and
	# can only exit 128 + N: the one place the two paths differ, and
	# alloter says which signal the shell reported.
	both "$T/usr1"
	[ "$d_st" = "0 10" ]
	[[ $d_err == *"killed by SIGUSR1"* ]]
	[ "$s_st" = "138 0" ]
	[[ $s_err == *"exit status 138 (the shell reports SIGUSR1)"* ]]
}

# cpu_ticks PID : user+system clock ticks of PID itself, all threads,
# children excluded (fields 14 and 15 of /proc/PID/stat, after the name).
cpu_ticks() {
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

@test "200 sleeping tasks at -j 200 cost alloter under 5 % of one CPU" {
	local n=200 hz t0 t1 c0 c1 i
	hz=$(getconf CLK_TCK)
	"$ALLOTER" -q -j "$n" < <(yes "$SLEEP 4" | head -n "$n") 3>&- &
	BG_PID=$!
	# Wait until every task is running, then measure while they sleep.
	for ((i = 0; i < 200; i++)); do
		[ "$(pgrep -c -P "$BG_PID" -f "$marker" || true)" -ge "$n" ] && break
		sleep 0.05
	done
	[ "$(pgrep -c -P "$BG_PID" -f "$marker")" -ge "$n" ]
	c0=$(cpu_ticks "$BG_PID") t0=$(date +%s%N)
	sleep 1.5
	c1=$(cpu_ticks "$BG_PID") t1=$(date +%s%N)
	local used_ms=$(( (c1 - c0) * 1000 / hz )) wall_ms=$(( (t1 - t0) / 1000000 ))
	echo "alloter used $used_ms ms of CPU in $wall_ms ms"
	[ $((used_ms * 100)) -lt $((wall_ms * 5)) ]
	wait "$BG_PID"
}
