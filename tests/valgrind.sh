#!/bin/sh
# Runs a representative set of alloter runs under valgrind (the tasks
# themselves are not traced) and fails on any memory error or leak.
# Usage: tests/valgrind.sh [ALLOTER]
set -u
cd "$(dirname "$0")/.."
bin=${1:-${ALLOTER:-build/alloter}}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/alloter-vg.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail=0 n=0

vg() { # vg EXPECTED-STATUS [alloter args...]
	want=$1; shift
	n=$((n + 1))
	valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect \
		--show-leak-kinds=definite,indirect \
		"$bin" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	got=$?
	if [ "$got" -ne "$want" ] || grep -q '^==[0-9]*==' "$tmp/err"; then
		echo "not ok $n - alloter $* (status $got, want $want)"
		sed 's/^/#   /' "$tmp/err" | head -40
		fail=$((fail + 1))
	else
		echo "ok $n - alloter $*"
	fi
}

cat >"$tmp/dag.yaml" <<'YAML'
env: {X: "1"}
tasks:
  - name: a
    run: echo a
  - name: b
    run: echo b; exit 1
    needs: [a]
  - name: c
    run: echo c
    needs: [b]
  - name: d
    run: test "$X" = 1
    retries: 1
YAML
printf 'echo one\n# comment\n\necho two\nexit 3\n' >"$tmp/lines"

vg 0 -q 'echo hi' 'echo there >&2' true
vg 1 -q -o line --tag 'seq 1 1000' 'exit 2'
vg 0 -q -o raw 'echo raw'
vg 1 -q -f "$tmp/dag.yaml" --report "$tmp/r.json" --joblog "$tmp/log"
vg 2 -f /nonexistent.yaml
vg 1 -q -j 4 -k 'sleep 5' 'sleep 0.1; exit 1' 'sleep 5'
vg 124 -q -t 0.3 'sleep 5' 'sleep 5 & wait'
vg 1 -q -T 0.2 'sleep 5' 'kill -SEGV $$'
vg 0 -q --keep-order 'sleep 0.2; echo 1' 'echo 2'
vg 2 -j -1x true
# Templates, a matrix, the policies, --resume, --results, --ci, --pipe.
printf 'a.b\nc d\n' >"$tmp/args"
cat >"$tmp/matrix.yaml" <<'YAML'
tasks:
  - name: t
    run: echo {x}-{y}
    matrix: {x: [1, 2], y: [a, b]}
  - name: after
    run: "true"
    needs: t
YAML
vg 0 -q -j 2 --tag echo {1} {2.} ::: a b :::+ c.d e.f :::: "$tmp/args"
vg 0 -q -N 2 --colsep , echo {2} {1} ::: 'x,y' 'z,w' q
vg 0 -q -f "$tmp/matrix.yaml"
vg 1 -q -r 1 --retry-delay 0.05 --halt soon,fail=2 --delay 0.01 --joblog "$tmp/l2" 'exit 1' true 'exit 2' true
vg 1 -q --resume "$tmp/l2" 'exit 1' true 'exit 2' true
vg 0 -q -o none --results "$tmp/res" --ci github 'echo out' 'echo err >&2'
vg 0 -q -n 'echo {}' ::: 'a b' c
n=$((n + 1))
if seq 1 20000 | valgrind -q --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect "$bin" -q --pipe --block 10K \
	'wc -l' >"$tmp/out" 2>"$tmp/err" && ! grep -q '^==' "$tmp/err"; then
	echo "ok $n - seq | alloter --pipe"
else
	echo "not ok $n - seq | alloter --pipe"
	sed 's/^/#   /' "$tmp/err" | head -40
	fail=$((fail + 1))
fi
n=$((n + 1))
if valgrind -q --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect "$bin" -q \
	<"$tmp/lines" >"$tmp/out" 2>"$tmp/err"; [ $? -eq 1 ] && ! grep -q '^==' "$tmp/err"; then
	echo "ok $n - alloter < lines"
else
	echo "not ok $n - alloter < lines"
	sed 's/^/#   /' "$tmp/err" | head -40
	fail=$((fail + 1))
fi
echo "1..$n"
echo "$((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
