#!/usr/bin/env bats
# Command templates and argument sources: {} and its forms, :::, ::::, -a,
# stdin, -0, --colsep, -N, -I, --tagstring, and each argument reaching its
# command as one word, whatever it holds.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	# Prints each argument NUL-terminated: a plain program, so a template
	# that calls it runs without a shell.
	printf '#!/bin/sh\nfor a; do printf "%%s\\0" "$a"; done\n' >"$T/args"
	chmod +x "$T/args"
}

# The hostile values: spaces, quotes, $, backticks, globs, ;, a newline, a
# tab, invalid UTF-8, a leading -, braces, an empty string.
hostile=("a b" "it's" '"q"' '$HOME' '`id`' '$(touch pwned)' '*' '[a]' 'a;b'
	'a|b' '>x' $'a\nb' $'\ttab' $'\xff\xfe' '-rf' '--' '~' '#c' 'x=1' '\'
	"'" '{}' '' ' ')

# The values, NUL-terminated, as a file to compare with.
expected_nul() {
	for v in "${hostile[@]}"; do printf '%s\0' "$v"; done >"$T/want"
}

@test "one task per argument of :::" {
	run --separate-stderr alloter -j 1 echo {} ::: a b c
	[ "$status" -eq 0 ]
	[ "$output" = $'a\nb\nc' ]
}

@test "gzip -9 {} ::: files compresses each file, names with spaces too" {
	printf 'one' >"$T/a b.log"
	printf 'two' >"$T/c.log"
	run --separate-stderr alloter gzip -9 {} ::: "$T/a b.log" "$T/c.log"
	[ "$status" -eq 0 ]
	[ "$(gzip -dc "$T/a b.log.gz")" = one ]
	[ "$(gzip -dc "$T/c.log.gz")" = two ]
}

@test "a template without a replacement string gets {} appended" {
	run --separate-stderr alloter -j 1 echo x ::: a b
	[ "$status" -eq 0 ]
	[ "$output" = $'x a\nx b' ]
}

@test "two sources: the cartesian product, the first outermost" {
	run --separate-stderr alloter -j 1 echo {1}-{2} ::: a b ::: 1 2
	[ "$status" -eq 0 ]
	[ "$output" = $'a-1\na-2\nb-1\nb-2' ]
}

@test ":::+ links a source to the one before it" {
	run --separate-stderr alloter -j 1 echo {1}={2} ::: a b :::+ 1 2
	[ "$status" -eq 0 ]
	[ "$output" = $'a=1\nb=2' ]
}

@test ":::+ with sources of other lengths stops at the shorter, as GNU parallel" {
	run --separate-stderr alloter -j 1 echo {1}={2} ::: a b c :::+ 1 2
	[ "$status" -eq 0 ]
	[ "$output" = $'a=1\nb=2' ]
}

@test "-N 2 gives each task two arguments; a short last task gets empty ones" {
	run --separate-stderr alloter -j 1 -N 2 echo {1}+{2} ::: a b c d e
	[ "$status" -eq 0 ]
	[ "$output" = $'a+b\nc+d\ne+' ]
	run --separate-stderr alloter -j 1 --max-args 3 echo ::: a b c d
	[ "$output" = $'a b c\nd' ]
}

@test "an empty template runs each argument as a command" {
	run --separate-stderr alloter -j 1 ::: 'echo lint' 'echo test | tr t T'
	[ "$status" -eq 0 ]
	[ "$output" = $'lint\nTesT' ]
}

@test "commands without a replacement string keep today's meaning" {
	run --separate-stderr alloter -j 1 'echo a' 'echo b'
	[ "$status" -eq 0 ]
	[ "$output" = $'a\nb' ]
}

@test ":::: FILE and -a FILE: one argument per line" {
	printf '%s\n' one 'two words' >"$T/list"
	run --separate-stderr alloter -j 1 'echo [{}]' :::: "$T/list"
	[ "$status" -eq 0 ]
	[ "$output" = $'[one]\n[two words]' ]
	run --separate-stderr alloter -j 1 -a "$T/list" echo
	[ "$output" = $'one\ntwo words' ]
	run --separate-stderr alloter -j 1 --arg-file "$T/list" --arg-file "$T/list" echo {2}{1}
	[ "$output" = $'oneone\ntwo wordsone\nonetwo words\ntwo wordstwo words' ]
}

@test "an argument that is literally ::: is given through a file" {
	printf ':::\n' >"$T/list"
	run --separate-stderr alloter echo :::: "$T/list"
	[ "$status" -eq 0 ]
	[ "$output" = ':::' ]
}

@test "::: is recognised after --, where the command may begin with -" {
	mkdir "$T/bin"
	printf '#!/bin/sh\necho "weird $1"\n' >"$T/bin/-weird-cmd"
	chmod +x "$T/bin/-weird-cmd"
	PATH="$T/bin:$PATH" run --separate-stderr alloter -- -weird-cmd {} ::: a
	[ "$status" -eq 0 ]
	[ "$output" = 'weird a' ]
}

@test "with no source, words holding {} take their arguments from stdin lines" {
	run --separate-stderr alloter -j 1 echo 'x{}y' <<<$'a\n\nb c'
	[ "$status" -eq 0 ]
	[ "$output" = $'xay\nxy\nxb cy' ]
}

@test "stdin arguments stream: the first task runs while the producer still writes" {
	{
		echo "$T/first"
		# Waits (at most ~20 s) for the first task's file before the rest.
		for _ in $(seq 400); do
			[ -e "$T/first.done" ] && { touch "$T/saw-first"; break; }
			sleep 0.05
		done
		echo "$T/second"
	} | alloter -q touch {}.done
	[ -e "$T/first.done" ]
	[ -e "$T/second.done" ]
	# The first task ran while the producer was still waiting to write.
	[ -e "$T/saw-first" ]
}

@test "-0 takes NUL-separated arguments: find -print0 names with newlines" {
	mkdir "$T/d"
	touch "$T/d/plain.png" "$T/d/with space.png" "$T/d/new"$'\n'"line.png"
	run --separate-stderr bash -c 'find "$1" -name "*.png" -print0 | "$ALLOTER" -0 -q touch {}.seen' _ "$T/d"
	[ "$status" -eq 0 ]
	[ -e "$T/d/plain.png.seen" ]
	[ -e "$T/d/with space.png.seen" ]
	[ -e "$T/d/new"$'\n'"line.png.seen" ]
	[ "$(find "$T/d" -name '*.seen' | wc -l)" -eq 3 ] || [ "$(find "$T/d" -name '*.seen' -print0 | tr -cd '\0' | wc -c)" -eq 3 ]
	run --separate-stderr bash -c 'printf "a\0b c\0" | "$ALLOTER" -q -j 1 --null echo'
	[ "$output" = $'a\nb c' ]
}

@test "-0 without a replacement string still takes arguments from stdin" {
	run --separate-stderr bash -c 'printf "x\0y\0" | "$ALLOTER" -q -j 1 -0 echo got'
	[ "$status" -eq 0 ]
	[ "$output" = $'got x\ngot y' ]
}

@test "--colsep splits each line into columns {1} {2}; the regex is extended" {
	printf 'http://a,file a\nhttp://b,file b\n' >"$T/urls.csv"
	run --separate-stderr alloter -j 1 --colsep , 'echo get {1} into {2}' <"$T/urls.csv"
	[ "$status" -eq 0 ]
	[ "$output" = $'get http://a into file a\nget http://b into file b' ]
	run --separate-stderr alloter -j 1 --colsep '[;:]+' echo {3}-{1} ::: 'a;;b:c'
	[ "$output" = 'c-a' ]
	run --separate-stderr alloter -j 1 --colsep , echo {} ::: 'a,b'
	[ "$output" = 'a b' ]
}

@test "path replacement strings match GNU parallel, but for names that begin with a dot" {
	# Columns: {} {.} {/} {//} {/.}, from GNU parallel 20221122 but for
	# .bashrc and a/.x, which have no extension here.
	want=$(cat <<-'EOF'
	[.bashrc] [.bashrc] [.bashrc] [.] [.bashrc]
	[a.tar.gz] [a.tar] [a.tar.gz] [.] [a.tar]
	[dir.d/file] [dir.d/file] [file] [dir.d] [file]
	[file.] [file] [file.] [.] [file]
	[a/b/] [a/b/] [] [a] []
	[/] [/] [] [/] []
	[a/.x] [a/.x] [.x] [a] [.x]
	[../a.b] [../a] [a.b] [..] [a]
	[//a] [//a] [a] [/] [a]
	[a b.c/d e.f] [a b.c/d e] [d e.f] [a b.c] [d e]
	EOF
	)
	run --separate-stderr alloter -j 1 'echo [{}] [{.}] [{/}] [{//}] [{/.}]' ::: \
		.bashrc a.tar.gz dir.d/file file. a/b/ / a/.x ../a.b //a 'a b.c/d e.f'
	[ "$status" -eq 0 ]
	[ "$output" = "$want" ]
	run --separate-stderr alloter -j 1 echo '{2.} {2/} {2//} {2/.} {1}' ::: x ::: d/e.f
	[ "$output" = 'd/e e.f d e x' ]
}

@test "{#} is the sequence number; {%} the slot, 1..limit, also ALLOTER_TASK_SLOT" {
	run --separate-stderr alloter -j 1 echo '{#}:{}' ::: a b c
	[ "$output" = $'1:a\n2:b\n3:c' ]
	run --separate-stderr alloter -j 2 'echo {%} $ALLOTER_TASK_SLOT; sleep 0.2' ::: 1 2 3 4 5 6
	[ "$status" -eq 0 ]
	while read -r slot env; do
		[ "$slot" = "$env" ]
		[ "$slot" -ge 1 ] && [ "$slot" -le 2 ]
	done <<<"$output"
	[ "$(wc -l <<<"$output")" -eq 6 ]
}

@test "other brace sequences stay as written" {
	run --separate-stderr alloter -j 1 "echo '{foo}' '\${x}' '{ }' {0} {}" ::: a
	[ "$status" -eq 0 ]
	[ "$output" = '{foo} ${x} { } {0} a' ]
}

@test "-I STR stands for the argument instead of {}" {
	run --separate-stderr alloter -j 1 -I XX echo 'XX' '{}' ::: a
	[ "$status" -eq 0 ]
	[ "$output" = 'a {}' ]
	run --separate-stderr alloter -j 1 --replace @@ echo x@@y ::: a
	[ "$output" = 'xay' ]
}

@test "hostile arguments reach a direct command as one word each, byte for byte" {
	expected_nul
	run --separate-stderr alloter -j 1 -k -o group "$T/args" {} ::: "${hostile[@]}"
	[ "$status" -eq 0 ]
	printf '%s' "$output" >/dev/null
	alloter -q -j 1 --keep-order "$T/args" {} ::: "${hostile[@]}" >"$T/got"
	cmp "$T/want" "$T/got"
	[ ! -e pwned ] && [ ! -e "$T/pwned" ]
}

@test "hostile arguments reach a command through the shell as one word each, too" {
	expected_nul
	alloter -q -j 1 --keep-order "$T/args {} | cat" ::: "${hostile[@]}" >"$T/got"
	cmp "$T/want" "$T/got"
	alloter -q -j 1 --keep-order --shell-always "$T/args" {} ::: "${hostile[@]}" >"$T/got2"
	cmp "$T/want" "$T/got2"
	[ ! -e pwned ] && [ ! -e "$T/pwned" ]
}

@test "hostile arguments from find -print0 reach the command as themselves" {
	mkdir "$T/f"
	for v in "${hostile[@]}"; do
		case $v in '' | *'/'* | . | ..) continue ;; esac
		printf x >"$T/f/$v"
	done
	(cd "$T/f" && find . -type f -print0 | sort -z) >"$T/want"
	(cd "$T/f" && find . -type f -print0 | "$ALLOTER" -q -0 -j 1 --keep-order "$T/args" {}) | sort -z >"$T/got"
	cmp "$T/want" "$T/got"
	(cd "$T/f" && find . -type f -print0 | "$ALLOTER" -q -0 -j 3 --keep-order "$T/args {} | cat") | sort -z >"$T/got2"
	cmp "$T/want" "$T/got2"
}

@test "several arguments in {}: each is one word" {
	alloter -q -j 1 -N 2 "$T/args" {} ::: 'a b' 'c d' >"$T/got"
	printf 'a b\0c d\0' | cmp - "$T/got"
}

@test "-n prints the expanded, quoted commands and runs nothing" {
	run --separate-stderr alloter -n touch "$T/ran-{}" ::: 'a b' "c'd"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "1	touch $T/ran-'a b'" ]
	[ "${lines[1]}" = "2	touch $T/ran-'c'\\''d'" ]
	[ ! -e "$T/ran-a b" ]
}

@test "--tag prefixes each line with the task's arguments" {
	run --separate-stderr alloter -j 1 --tag echo x ::: a b ::: 1
	[ "$status" -eq 0 ]
	[ "$output" = $'a 1\tx a 1\nb 1\tx b 1' ]
}

@test "--tagstring takes replacement strings and implies --tag" {
	run --separate-stderr alloter -j 1 --tagstring '{2}/{1}' echo x ::: a ::: 1 2
	[ "$status" -eq 0 ]
	[ "$output" = $'1/a\tx a 1\n2/a\tx a 2' ]
}

@test "--keep-order writes the expanded tasks in input order" {
	run --separate-stderr alloter -j 4 --keep-order 'sleep {}; echo {}' ::: 0.6 0.1 0.4 0
	[ "$status" -eq 0 ]
	[ "$output" = $'0.6\n0.1\n0.4\n0' ]
}

@test "the template's words are joined by spaces into one command, as GNU parallel joins them" {
	run --separate-stderr alloter -j 1 "sh -c 'echo \$0-\$1' _ {}" ::: a
	[ "$output" = "_-a" ]
}

@test "a failing expansion fails the run and is named; the others still run" {
	run --separate-stderr alloter -j 2 'exit {}' ::: 0 3 0
	[ "$status" -eq 1 ]
	[[ $stderr == *"exit status 3"* ]]
	[[ $(summary_line "$stderr") == *"2 succeeded, 1 failed"* ]]
}

@test "fail-fast and task timeouts apply to template tasks" {
	run --separate-stderr alloter -j 1 -x "touch $T/ran{#}; exit {}" ::: 1 0 0
	[ "$status" -eq 1 ]
	[[ $(summary_line "$stderr") == *"1 failed"* ]]
	[ ! -e "$T/ran2" ] && [ ! -e "$T/ran3" ]
	run --separate-stderr alloter -j 2 -T 0.5 "$SLEEP" {} ::: 30 0
	[ "$status" -eq 1 ]
	[[ $stderr == *"timed out"* ]]
}

@test "the job log's Command column holds the expanded command" {
	alloter -q -j 1 --joblog "$T/log" echo {} ::: 'a b'
	[ "$(cut -f9 "$T/log" | tail -n 1)" = "echo 'a b'" ]
}

@test "the JSON report gives each task its arguments" {
	alloter -q -j 1 --report "$T/r.json" echo {1} {2} ::: 'a"b' ::: 1
	python3 - "$T/r.json" <<-'EOF'
	import json, sys
	t = json.load(open(sys.argv[1]))["tasks"]
	assert t[0]["args"] == ['a"b', "1"], t[0]
	EOF
}

@test "an empty source: zero tasks, said on stderr, exit 0" {
	run --separate-stderr alloter touch "$T/ran" :::
	[ "$status" -eq 0 ]
	[[ $stderr == *"no arguments"* ]]
	[ ! -e "$T/ran" ]
	: >"$T/empty"
	run --separate-stderr alloter echo :::: "$T/empty"
	[ "$status" -eq 0 ]
	[[ $stderr == *"no arguments"* ]]
	[[ $stderr == *"$T/empty"* ]]
	run --separate-stderr alloter echo {} </dev/null
	[ "$status" -eq 0 ]
	[[ $stderr == *"no arguments"* ]]
}

@test "bad templates and sources: exit 2, a message, nothing run" {
	run --separate-stderr alloter touch "$T/ran{2}" ::: a
	[ "$status" -eq 2 ]
	[[ $stderr == *"{2}"* ]]
	run --separate-stderr alloter -N 0 touch "$T/ran" ::: a
	[ "$status" -eq 2 ]
	[[ $stderr == *"--max-args"* ]]
	run --separate-stderr alloter touch "$T/ran" :::+ a
	[ "$status" -eq 2 ]
	[[ $stderr == *":::+"* ]]
	run --separate-stderr alloter touch "$T/ran" :::: "$T/missing"
	[ "$status" -eq 2 ]
	[[ $stderr == *"$T/missing"*"No such file"* ]]
	run --separate-stderr alloter --colsep '(' touch "$T/ran" ::: a
	[ "$status" -eq 2 ]
	[[ $stderr == *"--colsep"* ]]
	run --separate-stderr alloter -I '' touch "$T/ran" ::: a
	[ "$status" -eq 2 ]
	run --separate-stderr alloter touch "$T/ran" ::::
	[ "$status" -eq 2 ]
	[ ! -e "$T/ran" ] && [ ! -e "$T/rana" ]
}

@test "-N 2 allows {1} and {2}, and refuses {3} with one source" {
	run --separate-stderr alloter -N 2 touch "$T/ran{3}" ::: a b
	[ "$status" -eq 2 ]
	[ ! -e "$T/ran" ]
}

@test "an unreadable second source stops the run before the first task" {
	run --separate-stderr alloter touch "$T/ran{1}" ::: a :::: "$T/missing"
	[ "$status" -eq 2 ]
	[ ! -e "$T/rana" ]
}

@test "a source read from a file streams: memory stays flat from 30,000 to 300,000 lines" {
	seq 30000 >"$T/some"
	seq 300000 >"$T/many"
	/usr/bin/time -f '%M' -o "$T/rss1" "$ALLOTER" -n echo {} :::: "$T/some" >/dev/null
	/usr/bin/time -f '%M' -o "$T/rss2" "$ALLOTER" -n echo {} :::: "$T/many" >"$T/out"
	[ "$(wc -l <"$T/out")" -eq 300000 ]
	[ "$(tail -n 1 "$T/out")" = "300000	echo 300000" ]
	# Peak RSS in KB: ten times the lines, about the same memory (a
	# copy of the list would be megabytes more; sanitizers scale both).
	small=$(tail -n 1 "$T/rss1") big=$(tail -n 1 "$T/rss2")
	echo "peak RSS: $small KB for 30,000 lines, $big KB for 300,000"
	# AddressSanitizer (make check) keeps freed memory in quarantine, so
	# its peak grows with every allocation made: no bound to check there.
	[ -n "${ASAN_OPTIONS:-}" ] || [ "$big" -lt $((small * 3 / 2 + 1024)) ]
}

@test "-f cannot be combined with template options" {
	printf 'tasks:\n  - run: "true"\n' >"$T/t.yaml"
	run --separate-stderr alloter -f "$T/t.yaml" -a "$T/t.yaml"
	[ "$status" -eq 2 ]
}

# Task files: matrix

@test "matrix expands a task into one per combination, first key outermost" {
	cat >"$T/m.yaml" <<-'EOF'
	tasks:
	  - name: test
	    run: echo PY={py} OS={os}
	    matrix:
	      py: ["3.11", "3.12"]
	      os: [linux, bsd]
	  - name: package
	    run: echo dist
	    needs: [test]
	EOF
	run --separate-stderr alloter -n -f "$T/m.yaml"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '%s\n' 'test[py=3.11,os=linux]	echo PY=3.11 OS=linux' \
		'test[py=3.11,os=bsd]	echo PY=3.11 OS=bsd' 'test[py=3.12,os=linux]	echo PY=3.12 OS=linux' \
		'test[py=3.12,os=bsd]	echo PY=3.12 OS=bsd' 'package	echo dist')" ]
}

@test "matrix values are quoted in run, and put in cwd and env as they are" {
	mkdir "$T/d 1" "$T/d 2"
	cat >"$T/m.yaml" <<-'EOF'
	tasks:
	  - name: t
	    run: printf '%s|%s|%s\n' {v} "$PWD" "$WHO" "${HOME:+home}"
	    cwd: "d {n}"
	    env:
	      WHO: "who-{n}"
	    matrix:
	      n: [1, 2]
	      v: ["a b", "$(touch pwned)"]
	EOF
	run --separate-stderr alloter -j 1 -f "$T/m.yaml"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "a b|$T/d 1|who-1" ]
	[ "${lines[1]}" = "home||" ]
	[ "${lines[2]}" = "\$(touch pwned)|$T/d 1|who-1" ]
	[ "${lines[4]}" = "a b|$T/d 2|who-2" ]
	[ "${lines[6]}" = "\$(touch pwned)|$T/d 2|who-2" ]
	[ ! -e "$T/d 1/pwned" ] && [ ! -e "$T/d 2/pwned" ]
}

@test "needs on a matrix task waits for every expansion; a failed one skips what needs it" {
	cat >"$T/m.yaml" <<-'EOF'
	tasks:
	  - name: t
	    run: exit {c}
	    matrix:
	      c: [0, 3]
	  - name: after
	    run: touch after
	    needs: t
	  - name: one
	    run: echo one
	    needs: "t[c=0]"
	EOF
	run --separate-stderr alloter -j 1 -f "$T/m.yaml"
	[ "$status" -eq 1 ]
	[ "$output" = one ]
	[[ $stderr == *"task 'after': skipped: it needs 't[c=3]', which failed"* ]]
	[ ! -e "$T/after" ]
}

@test "matrix errors are exit 2 with file:line:col, nothing run" {
	check() { # YAML MESSAGE
		printf '%s\n' "$1" >"$T/e.yaml"
		run --separate-stderr alloter -f "$T/e.yaml"
		[ "$status" -eq 2 ]
		[ "$stderr" = "$T/e.yaml:$2" ]
	}
	check $'tasks:\n  - run: touch ran\n    matrix: [1, 2]' \
		"3:13: matrix: expected a mapping of keys to lists of values, got a list"
	check $'tasks:\n  - run: touch ran\n    matrix:\n      py: []' \
		"4:11: matrix: 'py': expected a non-empty list of values, got an empty list"
	check $'tasks:\n  - run: touch ran{pi}\n    matrix:\n      py: [1]' \
		"2:10: run: '{pi}' is not a key of the matrix"
	check $'tasks:\n  - name: t\n    run: touch ran{py}\n    matrix:\n      py: [1]\n  - name: t[py=1]\n    run: "true"' \
		"6:11: duplicate task name 't[py=1]' (first defined at 2:5)"
	check $'tasks:\n  - name: t\n    run: touch ran\n    cwd: "{d}"\n    matrix:\n      py: [1]' \
		"4:10: cwd: '{d}' is not a key of the matrix"
	[ ! -e "$T/ran" ] && [ ! -e ran ]
}
