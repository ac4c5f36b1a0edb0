#!/usr/bin/env bats
# YAML task files (-f): the settings keys and how the command line overrides
# them, the task keys (needs, timeout, retries, env, cwd), the dependency
# graph, YAML anchors and merge keys, -n, and the refusal of bad files.

bats_require_minimum_version 1.5.0
load helpers

# waitfor PATH [SECONDS] : prints a shell snippet (no single quotes, so it
# fits in a single-quoted YAML string) that waits until PATH exists and
# exits 9 if it does not within SECONDS (default 10).
waitfor() {
	printf 'i=0; while [ ! -e %s ]; do i=$((i+1)); [ $i -lt %d ] || exit 9; sleep 0.02; done' \
		"$1" "$((${2:-10} * 50))"
}

# counter FILE : a snippet that appends a line to FILE, then prints how
# many lines FILE has (one per attempt).
counter() {
	printf 'echo x >> %s; n=$(wc -l < %s)' "$1" "$1"
}

# refused FILE LINE MESSAGE : the last `run` refused FILE with exit status 2,
# a FILE:LINE:COL: message on stderr that contains MESSAGE, and nothing ran
# (the file's valid task touches $T/ran).
refused() {
	local file=$1 line=$2 msg=$3 first
	[ "$status" -eq 2 ]
	first=$(head -n 1 <<<"$stderr")
	if [[ ! $first =~ ^"$file":([0-9]+):([0-9]+):\ (.*)$ ]]; then
		echo "not a FILE:LINE:COL: message: $first" >&2
		return 1
	fi
	if [ -n "$line" ] && [ "${BASH_REMATCH[1]}" -ne "$line" ]; then
		echo "expected line $line: $first" >&2
		return 1
	fi
	[ "${BASH_REMATCH[2]}" -ge 1 ]
	if [[ $first != *"$msg"* ]]; then
		echo "expected '$msg' in: $first" >&2
		return 1
	fi
	[ ! -e "$T/ran" ]
	[ -z "$output" ]
}

# --- running a file -------------------------------------------------------

@test "-f runs every task of the file" {
	cat >"$T/ci.yaml" <<-EOF
	tasks:
	  - name: one
	    run: touch '$T/one'
	  - name: two
	    run: touch '$T/two'
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 0 ]
	[ -e "$T/one" ]
	[ -e "$T/two" ]
	[[ $(summary_line "$stderr") == *"2 tasks: 2 succeeded, 0 failed, 0 skipped"* ]]
}

@test "-f - reads the task file from standard input" {
	cat >"$T/ci.yaml" <<-EOF
	tasks:
	  - name: from-stdin
	    run: echo "\$ALLOTER_TASK_NAME" > '$T/ran-stdin'
	EOF
	run --separate-stderr alloter -f - <"$T/ci.yaml"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/ran-stdin")" = from-stdin ]
}

@test "a plain string in the tasks list is a task named by its sequence number" {
	cat >"$T/ci.yaml" <<-EOF
	tasks:
	  - name: first
	    run: echo "\$ALLOTER_TASK_NAME" > '$T/n1'
	  - echo "\$ALLOTER_TASK_NAME" > '$T/n2'
	  - exit 7
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 1 ]
	[ "$(cat "$T/n1")" = first ]
	[ "$(cat "$T/n2")" = 2 ]
	[[ $stderr == *"task '3': exit status 7"* ]]
}

@test "tasks may be a mapping from name to task, plain string or task mapping" {
	cat >"$T/ci.yaml" <<-EOF
	limit: 4
	tasks:
	  lint: echo "\$ALLOTER_TASK_NAME" > '$T/lint'
	  build: {run: '[ -e $T/deps ] && echo "\$ALLOTER_TASK_NAME" > $T/build', needs: [deps]}
	  deps: {run: 'sleep 0.3; echo "\$ALLOTER_TASK_NAME" > $T/deps'}
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/lint")" = lint ]
	[ "$(cat "$T/deps")" = deps ]
	[ "$(cat "$T/build")" = build ]
}

# --- the dependency graph -------------------------------------------------

@test "a task starts only after every task it needs has succeeded" {
	cat >"$T/ci.yaml" <<-EOF
	limit: 4
	tasks:
	  - {name: c, run: '[ -e $T/a.done ] && [ -e $T/b.done ] && touch $T/c.done', needs: [a, b]}
	  - {name: a, run: 'sleep 0.3; touch $T/a.done'}
	  - {name: b, run: 'sleep 0.6; touch $T/b.done'}
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 0 ]
	[ -e "$T/c.done" ]
}

@test "needs may be a single name instead of a list" {
	cat >"$T/ci.yaml" <<-EOF
	limit: 4
	tasks:
	  - {name: b, run: '[ -e $T/a.done ] && touch $T/b.done', needs: a}
	  - {name: a, run: 'sleep 0.5; touch $T/a.done'}
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 0 ]
	[ -e "$T/b.done" ]
}

@test "a slow independent branch does not delay a fast chain (no stage barriers)" {
	# slow can only finish once the end of the chain a -> b -> c has run;
	# with stages, b (stage 2) would wait for slow (stage 1) and slow would
	# give up.
	cat >"$T/ci.yaml" <<-EOF
	limit: 4
	tasks:
	  - {name: slow, run: '$(waitfor "$T/c.done" 15); touch $T/slow.done'}
	  - {name: a, run: 'true'}
	  - {name: b, run: 'true', needs: a}
	  - {name: c, run: 'touch $T/c.done', needs: b}
	EOF
	timed_run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 0 ]
	[ -e "$T/slow.done" ]
	[ "$elapsed_ms" -lt 10000 ]
}

@test "tasks that are ready together start in file order" {
	cat >"$T/ci.yaml" <<-EOF
	limit: 1
	tasks:
	  - {name: t3, run: 'echo t3 >> $T/log'}
	  - {name: t1, run: 'echo t1 >> $T/log'}
	  - {name: z, run: 'echo z >> $T/log', needs: t2}
	  - {name: t2, run: 'echo t2 >> $T/log'}
	  - {name: y, run: 'echo y >> $T/log', needs: t2}
	  - {name: x, run: 'echo x >> $T/log', needs: t2}
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 0 ]
	[ "$(tr '\n' ' ' <"$T/log")" = "t3 t1 t2 z y x " ]
}

@test "the concurrency limit holds across the whole graph" {
	mkdir "$T/running"
	job='touch '$T'/running/$ALLOTER_TASK_NAME; ls '$T'/running | wc -l >> '$T'/counts; sleep 0.3; rm '$T'/running/$ALLOTER_TASK_NAME'
	cat >"$T/ci.yaml" <<-EOF
	limit: 2
	tasks:
	  - {name: root, run: '$job'}
	  - {name: a, run: '$job', needs: root}
	  - {name: b, run: '$job', needs: root}
	  - {name: c, run: '$job', needs: root}
	  - {name: d, run: '$job', needs: root}
	  - {name: e, run: '$job'}
	  - {name: f, run: '$job', needs: [a, b]}
	  - {name: g, run: '$job', needs: [a, b]}
	  - {name: h, run: '$job', needs: [a, b]}
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$T/counts")" -eq 9 ]
	[ "$(sort -n "$T/counts" | tail -n 1)" -eq 2 ]
}

@test "a failed task's dependents, direct and transitive, are skipped and named" {
	cat >"$T/ci.yaml" <<-EOF
	limit: 4
	tasks:
	  - {name: bad, run: 'exit 3'}
	  - {name: child, run: 'touch $T/child', needs: bad}
	  - {name: grand, run: 'touch $T/grand', needs: [child]}
	  - {name: ok, run: 'touch $T/ok'}
	  - {name: both, run: 'touch $T/both', needs: [ok, grand]}
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 1 ]
	[ ! -e "$T/child" ]
	[ ! -e "$T/grand" ]
	[ ! -e "$T/both" ]
	[ -e "$T/ok" ]
	[[ $stderr == *"task 'child': skipped: it needs 'bad', which failed"* ]]
	[[ $stderr == *"task 'grand': skipped: it needs 'bad', which failed"* ]]
	[[ $stderr == *"task 'both': skipped: it needs 'bad', which failed"* ]]
	[ "$(grep -c "skipped: it needs" <<<"$stderr")" -eq 3 ]
	[[ $(summary_line "$stderr") == *"5 tasks: 1 succeeded, 1 failed, 3 skipped"* ]]
}

@test "tasks unrelated to a failed one still start after the failure" {
	# ok2 becomes ready only after bad has failed.
	cat >"$T/ci.yaml" <<-EOF
	limit: 4
	tasks:
	  - {name: bad, run: 'touch $T/bad.failing; exit 1'}
	  - {name: ok1, run: '$(waitfor "$T/bad.failing")'}
	  - {name: ok2, run: 'touch $T/ok2', needs: ok1}
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 1 ]
	[ -e "$T/ok2" ]
	[[ $(summary_line "$stderr") == *"2 succeeded, 1 failed, 0 skipped"* ]]
}

@test "the report gives a skipped dependent the reason dependency and the failed task" {
	cat >"$T/ci.yaml" <<-EOF
	tasks:
	  - {name: bad, run: 'exit 1'}
	  - {name: child, run: 'true', needs: bad}
	  - {name: grand, run: 'true', needs: child}
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml" --report "$T/report.json"
	[ "$status" -eq 1 ]
	run python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
t = {x["name"]: x for x in r["tasks"]}
for n in ("child", "grand"):
    assert t[n]["status"] == "skipped", t[n]
    assert t[n]["skip_reason"] == "dependency", t[n]
    assert t[n]["needs"] == "bad", t[n]
    assert t[n]["attempts"] == 0, t[n]
assert r["run"]["skipped"] == 2, r["run"]
' "$T/report.json"
	[ "$status" -eq 0 ]
}

# --- retries --------------------------------------------------------------

@test "retries runs a flaky task again, and it succeeds on its second attempt" {
	cat >"$T/ci.yaml" <<-EOF
	tasks:
	  - name: flaky
	    run: '$(counter "$T/count"); [ \$n -ge 2 ]'
	    retries: 3
	  - {name: after, run: 'touch $T/after', needs: flaky}
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$T/count")" -eq 2 ]
	[ -e "$T/after" ]
	[[ $stderr == *"task 'flaky': exit status 1 (attempt 1 of 4; retrying)"* ]]
	[[ $(summary_line "$stderr") == *"2 tasks: 2 succeeded, 0 failed, 0 skipped"* ]]
}

@test "the job log has a line per attempt and the report counts attempts" {
	cat >"$T/ci.yaml" <<-EOF
	tasks:
	  - name: flaky
	    run: '$(counter "$T/count"); [ \$n -ge 2 ]'
	    retries: 1
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml" --joblog "$T/joblog" --report "$T/report.json"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$T/joblog")" -eq 3 ]
	[ "$(cut -f7 "$T/joblog" | tail -n 2 | tr '\n' ' ')" = "1 0 " ]
	run python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["tasks"][0]["attempts"] == 2, r
assert r["tasks"][0]["status"] == "succeeded", r
' "$T/report.json"
	[ "$status" -eq 0 ]
}

@test "a task that keeps failing runs 1 + retries times, then its dependents are skipped" {
	cat >"$T/ci.yaml" <<-EOF
	tasks:
	  - {name: bad, run: '$(counter "$T/count"); exit 4', retries: 2}
	  - {name: dep, run: 'touch $T/dep', needs: bad}
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 1 ]
	[ "$(wc -l <"$T/count")" -eq 3 ]
	[ ! -e "$T/dep" ]
	[[ $stderr == *"(attempt 2 of 3; retrying)"* ]]
	[[ $stderr == *"task 'dep': skipped: it needs 'bad', which failed"* ]]
	[[ $(summary_line "$stderr") == *"2 tasks: 0 succeeded, 1 failed, 1 skipped"* ]]
}

@test "a failure that is retried does not trigger fail_fast" {
	cat >"$T/ci.yaml" <<-EOF
	limit: 1
	fail_fast: true
	tasks:
	  - {name: flaky, run: '$(counter "$T/count"); [ \$n -ge 2 ]', retries: 1}
	  - touch $T/ran2
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$T/count")" -eq 2 ]
	[ -e "$T/ran2" ]
}

@test "a failure that is retried does not trigger kill_others" {
	# long can only succeed if it is still running when flaky's retry wins.
	cat >"$T/ci.yaml" <<-EOF
	limit: 4
	kill_others: true
	tasks:
	  - {name: long, run: 'touch $T/started; $(waitfor "$T/flaky.ok")'}
	  - name: flaky
	    run: '$(waitfor "$T/started"); $(counter "$T/count"); [ \$n -ge 2 ] && touch $T/flaky.ok'
	    retries: 1
	EOF
	timed_run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$T/count")" -eq 2 ]
	[[ $stderr != *terminated* ]]
	[ "$elapsed_ms" -lt 10000 ]
}

@test "a task that passes its own deadline is retried" {
	cat >"$T/ci.yaml" <<-EOF
	tasks:
	  - name: slow-once
	    run: '$(counter "$T/count"); if [ \$n -eq 1 ]; then exec $SLEEP 30; fi'
	    timeout: 1
	    retries: 1
	EOF
	timed_run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$T/count")" -eq 2 ]
	[[ $stderr == *"timed out after 1s (attempt 1 of 2; retrying)"* ]]
	[ "$elapsed_ms" -lt 10000 ]
	assert_no_survivors
}

@test "a task terminated by kill-others is not retried" {
	cat >"$T/ci.yaml" <<-EOF
	limit: 4
	kill_others: true
	tasks:
	  - {name: long, run: '$(counter "$T/count"); touch $T/started; exec $SLEEP 30', retries: 3}
	  - {name: bad, run: '$(waitfor "$T/started"); exit 1'}
	EOF
	timed_run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 1 ]
	[ "$(wc -l <"$T/count")" -eq 1 ]
	[[ $stderr == *"task 'long': terminated: another task failed"* ]]
	[ "$elapsed_ms" -lt 10000 ]
	assert_no_survivors
}

@test "a task terminated by the overall timeout is not retried" {
	cat >"$T/ci.yaml" <<-EOF
	timeout: 1
	tasks:
	  - {name: long, run: '$(counter "$T/count"); exec $SLEEP 30', retries: 3}
	EOF
	timed_run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 124 ]
	[ "$(wc -l <"$T/count")" -eq 1 ]
	[ "$elapsed_ms" -lt 10000 ]
	assert_no_survivors
}

@test "a task terminated by an interrupt is not retried" {
	cat >"$T/ci.yaml" <<-EOF
	tasks:
	  - {name: long, run: '$(counter "$T/count"); touch $T/started; exec $SLEEP 30', retries: 3}
	EOF
	start_bg -f "$T/ci.yaml"
	wait_for_file "$T/started"
	kill -INT "$BG_PID"
	wait_bg 20
	[ "$bg_status" -eq 130 ]
	[ "$(wc -l <"$T/count")" -eq 1 ]
	assert_no_survivors
}

# --- per-task timeout, env, cwd, shell -------------------------------------

@test "a task's timeout key gives it its own deadline" {
	cat >"$T/ci.yaml" <<-EOF
	limit: 4
	tasks:
	  - {name: slow, run: 'exec $SLEEP 30', timeout: 1}
	  - {name: other, run: 'sleep 1.5; touch $T/other'}
	EOF
	timed_run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 1 ]
	[[ $stderr == *"task 'slow': timed out after 1s"* ]]
	[ -e "$T/other" ]
	[ "$elapsed_ms" -lt 10000 ]
	assert_no_survivors
}

@test "a task's timeout takes precedence over task_timeout and -T" {
	cat >"$T/ci.yaml" <<-EOF
	task_timeout: 30
	tasks:
	  - {name: slow, run: 'exec $SLEEP 30', timeout: 1}
	EOF
	timed_run --separate-stderr alloter -T 40 -f "$T/ci.yaml"
	[ "$status" -eq 1 ]
	[[ $stderr == *"task 'slow': timed out after 1s"* ]]
	[ "$elapsed_ms" -lt 10000 ]
	assert_no_survivors
}

@test "a task's timeout of 0 means no deadline, even with task_timeout" {
	cat >"$T/ci.yaml" <<-EOF
	task_timeout: 300ms
	tasks:
	  - {name: unbounded, run: 'sleep 1; touch $T/done', timeout: 0}
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 0 ]
	[ -e "$T/done" ]
}

@test "the file's env is added to every task, its values taken as written" {
	cat >"$T/ci.yaml" <<-EOF
	env:
	  N: 3
	  OCTAL: 010
	  WORD: yes
	  EMPTY: ""
	tasks:
	  - 'echo "\$N \$OCTAL \$WORD [\${EMPTY-unset}]" > $T/one'
	  - 'echo "\$N" > $T/two'
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/one")" = "3 010 yes []" ]
	[ "$(cat "$T/two")" = 3 ]
}

@test "a task's env extends the file's env, which extends alloter's environment" {
	cat >"$T/ci.yaml" <<-EOF
	env: {SHARED: file, OVER: file}
	tasks:
	  - name: with-env
	    run: 'echo "\$OUTSIDE \$SHARED \$OVER \$OWN" > $T/with'
	    env: {OVER: task, OWN: mine}
	  - name: without
	    run: 'echo "\$OUTSIDE \$SHARED \$OVER [\${OWN-unset}]" > $T/without'
	EOF
	OUTSIDE=outer OVER=outer run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/with")" = "outer file task mine" ]
	[ "$(cat "$T/without")" = "outer file file [unset]" ]
}

@test "a relative cwd is taken from the task file's folder" {
	mkdir -p "$T/proj/sub" "$T/elsewhere" "$T/elsewhere/sub"
	cat >"$T/proj/ci.yaml" <<-EOF
	tasks:
	  - {name: in-sub, run: 'pwd -P > $T/pwd-sub', cwd: sub}
	  - {name: in-abs, run: 'pwd -P > $T/pwd-abs', cwd: '$T/elsewhere'}
	  - {name: no-cwd, run: 'pwd -P > $T/pwd-none'}
	EOF
	cd "$T/elsewhere"
	run --separate-stderr alloter -f ../proj/ci.yaml
	[ "$status" -eq 0 ]
	[ "$(cat "$T/pwd-sub")" = "$(cd "$T/proj/sub" && pwd -P)" ]
	[ "$(cat "$T/pwd-abs")" = "$(cd "$T/elsewhere" && pwd -P)" ]
	[ "$(cat "$T/pwd-none")" = "$(cd "$T/elsewhere" && pwd -P)" ]
}

@test "with -f - a relative cwd is taken from the current folder" {
	mkdir -p "$T/proj/sub" "$T/here/sub"
	cat >"$T/proj/ci.yaml" <<-EOF
	tasks:
	  - {name: in-sub, run: 'pwd -P > $T/pwd-sub', cwd: sub}
	EOF
	cd "$T/here"
	run --separate-stderr alloter -f - <"$T/proj/ci.yaml"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/pwd-sub")" = "$(cd "$T/here/sub" && pwd -P)" ]
}

@test "the default shell is /bin/sh" {
	cat >"$T/ci.yaml" <<-EOF
	tasks:
	  - 'echo "\$0" > $T/shell'
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/shell")" = /bin/sh ]
}

@test "the shell key runs every task as SHELL -c RUN" {
	# A shell that logs its arguments, then runs them with /bin/sh.
	cat >"$T/myshell" <<-EOF
	#!/bin/sh
	printf '%s|' "\$@" >> '$T/args'
	echo >> '$T/args'
	exec /bin/sh "\$@"
	EOF
	chmod +x "$T/myshell"
	cat >"$T/ci.yaml" <<-EOF
	shell: $T/myshell
	limit: 1
	tasks:
	  - touch $T/plain-words
	  - 'echo hi > $T/redirected'
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 0 ]
	[ -e "$T/plain-words" ]
	[ -e "$T/redirected" ]
	[ "$(sed -n 1p "$T/args")" = "-c|touch $T/plain-words|" ]
	[ "$(sed -n 2p "$T/args")" = "-c|echo hi > $T/redirected|" ]
}

@test "shell: /bin/bash runs bash-only syntax" {
	[ -x /bin/bash ] || skip "no /bin/bash"
	cat >"$T/ci.yaml" <<-EOF
	shell: /bin/bash
	tasks:
	  - 'if [[ abc == a* ]]; then echo "\${BASH_VERSION:+bash}" > $T/out; fi'
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/out")" = bash ]
}

# --- top-level settings and the command line --------------------------------

@test "the limit key bounds how many tasks run at once" {
	# a and b can only both succeed if they run at the same time.
	cat >"$T/ci.yaml" <<-EOF
	limit: 1
	tasks:
	  - {name: a, run: 'touch $T/a; $(waitfor "$T/b" 2)'}
	  - {name: b, run: 'touch $T/b; $(waitfor "$T/a" 2)'}
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 1 ]
	[[ $stderr == *"task 'a': exit status 9"* ]]
}

@test "-j on the command line overrides the file's limit" {
	cat >"$T/ci.yaml" <<-EOF
	limit: 1
	fail_fast: true
	tasks:
	  - {name: a, run: 'touch $T/a; $(waitfor "$T/b")'}
	  - {name: b, run: 'touch $T/b; $(waitfor "$T/a")'}
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml" -j 4
	[ "$status" -eq 0 ]
}

@test "the fail_fast key stops new tasks after a failure" {
	cat >"$T/ci.yaml" <<-EOF
	limit: 1
	fail_fast: true
	tasks:
	  - exit 1
	  - touch $T/ran2
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 1 ]
	[ ! -e "$T/ran2" ]
	[[ $(summary_line "$stderr") == *"1 skipped"* ]]
}

@test "-x on the command line overrides fail_fast: false in the file" {
	cat >"$T/ci.yaml" <<-EOF
	limit: 1
	fail_fast: false
	tasks:
	  - exit 1
	  - touch $T/ran2
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 1 ]
	[ -e "$T/ran2" ]
	rm "$T/ran2"
	run --separate-stderr alloter -f "$T/ci.yaml" -x
	[ "$status" -eq 1 ]
	[ ! -e "$T/ran2" ]
}

@test "the kill_others key terminates the running tasks after a failure" {
	cat >"$T/ci.yaml" <<-EOF
	limit: 4
	kill_others: true
	tasks:
	  - {name: long, run: 'touch $T/started; exec $SLEEP 30'}
	  - {name: bad, run: '$(waitfor "$T/started"); exit 1'}
	EOF
	timed_run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 1 ]
	[[ $stderr == *"task 'long': terminated: another task failed"* ]]
	[ "$elapsed_ms" -lt 10000 ]
	assert_no_survivors
}

@test "-k on the command line overrides kill_others: false in the file" {
	cat >"$T/ci.yaml" <<-EOF
	limit: 4
	kill_others: false
	tasks:
	  - {name: long, run: 'touch $T/started; exec $SLEEP 30'}
	  - {name: bad, run: '$(waitfor "$T/started"); exit 1'}
	EOF
	timed_run --separate-stderr alloter -k -f "$T/ci.yaml"
	[ "$status" -eq 1 ]
	[[ $stderr == *"task 'long': terminated: another task failed"* ]]
	[ "$elapsed_ms" -lt 10000 ]
	assert_no_survivors
}

@test "the timeout key is a deadline for the whole run" {
	cat >"$T/ci.yaml" <<-EOF
	timeout: 1
	tasks:
	  - exec $SLEEP 30
	EOF
	timed_run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 124 ]
	[ "$elapsed_ms" -ge 900 ]
	[ "$elapsed_ms" -lt 10000 ]
	assert_no_survivors
}

@test "-t on the command line overrides the file's timeout" {
	cat >"$T/ci.yaml" <<-EOF
	timeout: 300ms
	tasks:
	  - sleep 1; touch $T/done
	EOF
	run --separate-stderr alloter -t 30 -f "$T/ci.yaml"
	[ "$status" -eq 0 ]
	[ -e "$T/done" ]
}

@test "the task_timeout key gives each task a deadline" {
	cat >"$T/ci.yaml" <<-EOF
	limit: 4
	task_timeout: 1
	tasks:
	  - exec $SLEEP 30
	  - touch $T/other
	EOF
	timed_run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 1 ]
	[[ $stderr == *"task '1': timed out after 1s"* ]]
	[ -e "$T/other" ]
	[ "$elapsed_ms" -lt 10000 ]
	assert_no_survivors
}

@test "-T on the command line overrides the file's task_timeout" {
	cat >"$T/ci.yaml" <<-EOF
	task_timeout: 300ms
	tasks:
	  - sleep 1; touch $T/done
	EOF
	run --separate-stderr alloter -T 30 -f "$T/ci.yaml"
	[ "$status" -eq 0 ]
	[ -e "$T/done" ]
}

@test "the grace key sets the time between SIGTERM and SIGKILL" {
	# The default grace period is 2 s; the file asks for 4.
	cat >"$T/ci.yaml" <<-EOF
	grace: 4
	task_timeout: 300ms
	tasks:
	  - trap '' TERM; exec $SLEEP 30
	EOF
	timed_run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 1 ]
	[ "$elapsed_ms" -ge 4000 ]
	[ "$elapsed_ms" -lt 15000 ]
	assert_no_survivors
}

@test "-g on the command line overrides the file's grace" {
	cat >"$T/ci.yaml" <<-EOF
	grace: 30
	task_timeout: 300ms
	tasks:
	  - trap '' TERM; exec $SLEEP 30
	EOF
	timed_run --separate-stderr alloter -g 300ms -f "$T/ci.yaml"
	[ "$status" -eq 1 ]
	[ "$elapsed_ms" -lt 10000 ]
	assert_no_survivors
}

@test "the output key line prints a task's lines while it still runs" {
	# The task waits until its first line has reached alloter's output.
	cat >"$T/ci.yaml" <<-EOF
	output: line
	tasks:
	  - 'echo first; i=0; until grep -q first $T/out; do i=\$((i+1)); [ \$i -lt 500 ] || exit 9; sleep 0.02; done; echo second'
	EOF
	start_bg -f "$T/ci.yaml"
	wait_bg 30
	[ "$bg_status" -eq 0 ]
	[ "$(cat "$T/out")" = "$(printf 'first\nsecond')" ]
}

@test "-o group on the command line overrides output: line in the file" {
	cat >"$T/ci.yaml" <<-EOF
	output: line
	tasks:
	  - 'echo first; i=0; until grep -q first $T/out; do i=\$((i+1)); [ \$i -lt 100 ] || exit 0; sleep 0.02; done; touch $T/seen'
	EOF
	start_bg -o group -f "$T/ci.yaml"
	wait_bg 30
	[ "$bg_status" -eq 0 ]
	[ ! -e "$T/seen" ]
	[ "$(cat "$T/out")" = first ]
}

@test "the tag key prefixes output lines with the task name and a tab" {
	cat >"$T/ci.yaml" <<-EOF
	tag: true
	limit: 1
	tasks:
	  - {name: build, run: 'echo one; echo two'}
	  - echo three
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'build\tone\nbuild\ttwo\n2\tthree')" ]
}

# --- YAML features ------------------------------------------------------------

@test "anchors and aliases can share values" {
	cat >"$T/ci.yaml" <<-EOF
	env: {GREETING: &hello hello-there}
	tasks:
	  - {name: a, run: &cmd 'echo "\$ALLOTER_TASK_NAME \$GREETING \$ALIASED" >> $T/log', env: {ALIASED: *hello}}
	  - {name: b, run: *cmd, needs: a, env: {ALIASED: *hello}}
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/log")" = "$(printf 'a hello-there hello-there\nb hello-there hello-there')" ]
}

@test "merge keys copy a task's settings into another" {
	# b inherits a's retries (it succeeds on its second attempt) and env.
	cat >"$T/ci.yaml" <<-EOF
	tasks:
	  - &base {name: a, run: 'echo "\$V" > $T/a', retries: 1, env: {V: from-base}}
	  - {<<: *base, name: b, run: '$(counter "$T/count"); echo "\$V" > $T/b; [ \$n -ge 2 ]'}
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/a")" = from-base ]
	[ "$(cat "$T/b")" = from-base ]
	[ "$(wc -l <"$T/count")" -eq 2 ]
}

@test "a billion-laughs alias bomb is refused quickly" {
	cat >"$T/ci.yaml" <<-EOF
	tasks:
	  - touch $T/ran
	  - &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]
	  - &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]
	  - &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]
	  - &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]
	  - &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]
	  - &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]
	  - &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]
	  - &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]
	  - &i [*h,*h,*h,*h,*h,*h,*h,*h,*h,*h]
	  - [*i,*i,*i,*i,*i,*i,*i,*i,*i,*i]
	EOF
	timed_run --separate-stderr alloter -f "$T/ci.yaml"
	refused "$T/ci.yaml" "" ""
	[ "$elapsed_ms" -lt 5000 ]
}

# --- dry run ----------------------------------------------------------------

@test "-n prints a NAME, TAB, COMMAND line per task in an order that respects needs, and runs nothing" {
	cat >"$T/ci.yaml" <<-EOF
	tasks:
	  - {name: c, run: 'touch $T/c', needs: b}
	  - {name: b, run: 'touch $T/b', needs: [a]}
	  - {name: a, run: 'touch $T/a'}
	  - touch $T/plain
	EOF
	run --separate-stderr alloter -n -f "$T/ci.yaml"
	[ "$status" -eq 0 ]
	[ "$(wc -l <<<"$output")" -eq 4 ]
	na=$(grep -nxF "$(printf 'a\ttouch %s/a' "$T")" <<<"$output" | cut -d: -f1)
	nb=$(grep -nxF "$(printf 'b\ttouch %s/b' "$T")" <<<"$output" | cut -d: -f1)
	nc=$(grep -nxF "$(printf 'c\ttouch %s/c' "$T")" <<<"$output" | cut -d: -f1)
	np=$(grep -nxF "$(printf '4\ttouch %s/plain' "$T")" <<<"$output" | cut -d: -f1)
	[ -n "$na" ] && [ -n "$nb" ] && [ -n "$nc" ] && [ -n "$np" ]
	[ "$na" -lt "$nb" ]
	[ "$nb" -lt "$nc" ]
	[ ! -e "$T/a" ] && [ ! -e "$T/b" ] && [ ! -e "$T/c" ] && [ ! -e "$T/plain" ]
}

# --- bad files: exit 2, FILE:LINE:COL: message, nothing run -----------------

@test "a YAML syntax error is refused with its place" {
	cat >"$T/ci.yaml" <<-EOF
	tasks:
	  - touch $T/ran
	  - [unclosed
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	refused "$T/ci.yaml" "" ""
}

@test "an empty task file is refused" {
	: >"$T/ci.yaml"
	run --separate-stderr alloter -f "$T/ci.yaml"
	refused "$T/ci.yaml" "" "no tasks"
}

@test "a task file without tasks is refused" {
	printf 'limit: 2\n' >"$T/ci.yaml"
	run --separate-stderr alloter -f "$T/ci.yaml"
	refused "$T/ci.yaml" "" "no tasks"
	printf 'limit: 2\ntasks: []\n' >"$T/ci.yaml"
	run --separate-stderr alloter -f "$T/ci.yaml"
	refused "$T/ci.yaml" 2 "no tasks"
}

@test "an unknown top-level key is refused with a suggestion" {
	cat >"$T/ci.yaml" <<-EOF
	limit: 2
	timout: 10s
	tasks:
	  - touch $T/ran
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	refused "$T/ci.yaml" 2 "unknown key 'timout' (did you mean 'timeout'?)"
}

@test "an unknown task key is refused with a suggestion" {
	cat >"$T/ci.yaml" <<-EOF
	tasks:
	  - touch $T/ran
	  - name: b
	    run: 'true'
	    retires: 2
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	refused "$T/ci.yaml" 5 "unknown key 'retires' (did you mean 'retries'?)"
}

@test "a key given twice is refused" {
	cat >"$T/ci.yaml" <<-EOF
	limit: 1
	limit: 2
	tasks:
	  - touch $T/ran
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	refused "$T/ci.yaml" 2 "limit"
}

@test "a limit that is not a number is refused" {
	cat >"$T/ci.yaml" <<-EOF
	limit: many
	tasks:
	  - touch $T/ran
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	refused "$T/ci.yaml" 1 "many"
}

@test "a negative retries is refused" {
	cat >"$T/ci.yaml" <<-EOF
	tasks:
	  - touch $T/ran
	  - {name: b, run: 'true', retries: -1}
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	refused "$T/ci.yaml" 3 "retries"
}

@test "needs given as a mapping is refused" {
	cat >"$T/ci.yaml" <<-EOF
	tasks:
	  - {name: a, run: 'touch $T/ran'}
	  - {name: b, run: 'true', needs: {a: b}}
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	refused "$T/ci.yaml" 3 "needs"
}

@test "a boolean key with a value that is not a boolean is refused" {
	cat >"$T/ci.yaml" <<-EOF
	fail_fast: maybe
	tasks:
	  - touch $T/ran
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	refused "$T/ci.yaml" 1 "maybe"
}

@test "an unknown output mode is refused" {
	cat >"$T/ci.yaml" <<-EOF
	output: loud
	tasks:
	  - touch $T/ran
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	refused "$T/ci.yaml" 1 "loud"
}

@test "a task without run is refused" {
	cat >"$T/ci.yaml" <<-EOF
	tasks:
	  - touch $T/ran
	  - name: norun
	    needs: ["1"]
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	refused "$T/ci.yaml" 3 "run"
}

@test "a task with an empty run is refused" {
	cat >"$T/ci.yaml" <<-EOF
	tasks:
	  - touch $T/ran
	  - {name: empty, run: ""}
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	refused "$T/ci.yaml" 3 "run"
}

@test "two tasks with one name are refused" {
	cat >"$T/ci.yaml" <<-EOF
	tasks:
	  - {name: twin, run: 'touch $T/ran'}
	  - {name: twin, run: 'true'}
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	refused "$T/ci.yaml" 3 "twin"
}

@test "needs naming an undefined task is refused" {
	cat >"$T/ci.yaml" <<-EOF
	tasks:
	  - {name: a, run: 'touch $T/ran'}
	  - {name: b, run: 'true', needs: [a, ghost]}
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	refused "$T/ci.yaml" 3 "ghost"
}

@test "a dependency cycle is refused and its tasks are named" {
	cat >"$T/ci.yaml" <<-EOF
	tasks:
	  - {name: ok, run: 'touch $T/ran'}
	  - {name: a, run: 'true', needs: b}
	  - {name: b, run: 'true', needs: [ok, a]}
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	refused "$T/ci.yaml" "" "dependency cycle: "
	[[ $stderr == *"a -> b -> a"* || $stderr == *"b -> a -> b"* ]]
}

@test "a longer dependency cycle names every task on it, and only those" {
	cat >"$T/ci.yaml" <<-EOF
	tasks:
	  - {name: ok, run: 'touch $T/ran'}
	  - {name: lead, run: 'true', needs: x}
	  - {name: x, run: 'true', needs: y}
	  - {name: y, run: 'true', needs: z}
	  - {name: z, run: 'true', needs: x}
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	refused "$T/ci.yaml" "" "dependency cycle: "
	[[ $stderr == *"x -> y -> z -> x"* || $stderr == *"y -> z -> x -> y"* || $stderr == *"z -> x -> y -> z"* ]]
	[[ $stderr != *lead* ]]
}

@test "a task that needs itself is refused" {
	cat >"$T/ci.yaml" <<-EOF
	tasks:
	  - {name: ok, run: 'touch $T/ran'}
	  - {name: selfish, run: 'true', needs: selfish}
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	refused "$T/ci.yaml" 3 "selfish"
}

@test "a bad duration is refused" {
	cat >"$T/ci.yaml" <<-EOF
	tasks:
	  - touch $T/ran
	  - {name: b, run: 'true', timeout: 5 parsecs}
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	refused "$T/ci.yaml" 3 "5 parsecs"
	cat >"$T/ci.yaml" <<-EOF
	task_timeout: soon
	tasks:
	  - touch $T/ran
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	refused "$T/ci.yaml" 1 "soon"
}

@test "a cwd that does not exist is refused" {
	mkdir "$T/proj"
	cat >"$T/proj/ci.yaml" <<-EOF
	tasks:
	  - touch $T/ran
	  - {name: b, run: 'true', cwd: no-such-folder}
	EOF
	run --separate-stderr alloter -f "$T/proj/ci.yaml"
	refused "$T/proj/ci.yaml" 3 "cwd"
}

@test "the message for a missing cwd names the folder, even below a long path" {
	# The file's folder is long here (the bats temp folder): the part the
	# user wrote, at the end, must still be in the message.
	mkdir "$T/proj"
	cat >"$T/proj/ci.yaml" <<-EOF
	tasks:
	  - touch $T/ran
	  - {name: b, run: 'true', cwd: no-such-folder}
	EOF
	run --separate-stderr alloter -f "$T/proj/ci.yaml"
	refused "$T/proj/ci.yaml" 3 "no-such-folder"
}

@test "a cwd that exists only relative to the current folder is refused" {
	# cwd is taken from the file's folder, not from where alloter runs.
	mkdir -p "$T/proj" "$T/here/only-here"
	cat >"$T/proj/ci.yaml" <<-EOF
	tasks:
	  - touch $T/ran
	  - {name: b, run: 'true', cwd: only-here}
	EOF
	cd "$T/here"
	run --separate-stderr alloter -f "$T/proj/ci.yaml"
	refused "$T/proj/ci.yaml" 3 "cwd"
}

@test "an env name holding = is refused" {
	cat >"$T/ci.yaml" <<-EOF
	env: {"A=B": x}
	tasks:
	  - touch $T/ran
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	refused "$T/ci.yaml" 1 "A=B"
}

@test "more than one YAML document is refused" {
	cat >"$T/ci.yaml" <<-EOF
	tasks:
	  - touch $T/ran
	---
	tasks:
	  - touch $T/ran
	EOF
	run --separate-stderr alloter -f "$T/ci.yaml"
	refused "$T/ci.yaml" "" ""
}

@test "a task file that is not valid UTF-8 is refused" {
	printf 'tasks:\n  - touch %s/ran\n  - echo caf\xe9\n' "$T" >"$T/ci.yaml"
	run --separate-stderr alloter -f "$T/ci.yaml"
	refused "$T/ci.yaml" 3 "UTF-8"
}

@test "a task file that cannot be read is refused with the reason" {
	run --separate-stderr alloter -f "$T/missing.yaml"
	[ "$status" -eq 2 ]
	[[ $stderr == *"alloter: $T/missing.yaml: cannot read: "* ]]
	[[ $stderr == *"No such file or directory"* ]]
	mkdir "$T/dir.yaml"
	run --separate-stderr alloter -f "$T/dir.yaml"
	[ "$status" -eq 2 ]
	[[ $stderr == *"alloter: $T/dir.yaml: cannot read: "* ]]
}

@test "a bad file read with -f - is refused and placed in stdin" {
	cat >"$T/ci.yaml" <<-EOF
	tasks:
	  - touch $T/ran
	  - {name: b, run: 'true', needs: ghost}
	EOF
	run --separate-stderr alloter -f - <"$T/ci.yaml"
	refused "<stdin>" 3 "ghost"
}
