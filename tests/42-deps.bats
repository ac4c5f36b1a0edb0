#!/usr/bin/env bats
# tests/42-deps.bats - a fresh machine really is fresh: every tool the test
# scripts call is either on a minimal Debian with build-essential and git,
# or installed by `.ci/deps test`; and a missing one is named, with the one
# command that installs it.

bats_require_minimum_version 1.5.0

SRC="$BATS_TEST_DIRNAME/.."
DEPS="$SRC/.ci/deps"
# What a fresh Debian has on its PATH, whatever this shell's PATH holds
# (a python3 of pyenv's, say).
SYSPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# The words the test scripts run as commands, one per line: words after a
# line start, a pipe, a list operator, $( or a command-running word, and
# the absolute paths of programs.  Comments, test titles, shell functions
# and the code of embedded Python are left out as well as a pattern can;
# NOT_COMMANDS lists what it still takes for a command.
NOT_COMMANDS=" col " # "col += 1" in an embedded Python program
called_words() {
	# What `make test` runs (make valgrind and make mutants have their own
	# .ci/deps lists).
	local files=("$SRC"/tests/*.bats "$SRC"/tests/*.bash "$SRC"/tests/run)
	local funcs
	funcs=$(grep -ohE '(^|[;{ "])[a-z_][a-z0-9_]*\(\)' "${files[@]}" |
		grep -oE '[a-z_][a-z0-9_]*' | sort -u)
	{
		grep -hvE '^[[:space:]]*(#|@test)' "${files[@]}" |
			grep -oE '(^|[|;&(!]|[^$]\{|\$\()[[:space:]]*((run( !)?( --separate-stderr)?|timeout( -s [A-Z]+)? [0-9]+|if|while|until|exec|then|do|else|xargs|command -v|env( -u [A-Z_]+)*( [A-Z_]+=[^ ]*)*)[[:space:]]+)*[a-z][a-z0-9_.+-]*([^a-z0-9_.+=(-]|$)' |
			sed -E 's/[^a-z0-9_.+-]$//' | grep -oE '[a-z][a-z0-9_.+-]*$'
		grep -ohE '/usr/s?bin/[a-z][a-z0-9_.+-]*' "${files[@]}"
	} | sort -u | grep -vxF -f <(echo "$funcs") | while read -r w; do
		[[ $NOT_COMMANDS == *" $w "* ]] || echo "$w"
	done
}

# package_of PROGRAM : the Debian package that holds PROGRAM (a word looked
# up on the system PATH, or a path); nothing for a builtin or an unknown.
package_of() {
	local p r pkg
	p=$(PATH=$SYSPATH type -P "$1") || return 0
	r=$(readlink -f "$p")
	# Merged /usr: dpkg may know the file under /bin, not /usr/bin.
	for f in "$r" "${r#/usr}" "$p" "${p#/usr}"; do
		pkg=$(dpkg -S "$f" 2>/dev/null) && break
	done
	pkg=${pkg%%:*}
	echo "${pkg%%,*}"
}

# The packages of a minimal Debian (debootstrap --variant=minbase: the
# essential and required ones) with build-essential and git.
base_packages() {
	dpkg-query -W -f='${Package} ${Essential} ${Priority}\n' |
		awk '$2 == "yes" || $3 == "required" { print $1 }'
	apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances build-essential git |
		grep -E '^[a-z0-9]' | sed 's/:.*//'
}

@test "every tool the test scripts call is in a minimal Debian or in .ci/deps test" {
	command -v dpkg >/dev/null || skip "not a Debian system"
	local base listed w pkg bad=
	base=$(base_packages | sort -u)
	# The packages and tools that `.ci/deps test` names.
	listed=$(sed -n '/"\$what" = test/,/^fi/p' "$DEPS" | awk '$1 == "need" { print $2; print $3 }')
	[ -n "$listed" ]
	while read -r w; do
		pkg=$(package_of "$w")
		[ -n "$pkg" ] || continue
		grep -qxF -- "$pkg" <<<"$base" && continue
		grep -qxF -- "$pkg" <<<"$listed" && continue
		grep -qxF -- "${w##*/}" <<<"$listed" && continue
		bad="$bad $w ($pkg)"
	done < <(called_words)
	if [ -n "$bad" ]; then
		echo "called by the tests, but neither in a minimal Debian nor in .ci/deps test:$bad" >&2
		return 1
	fi
}

@test "the scan finds the tools the suites are known to call" {
	local words
	words=$(called_words)
	# man (man-db) is the one a fresh machine once lacked.
	for w in man jq pgrep mandoc python3 ssh-keygen /usr/sbin/sshd /usr/bin/time bats; do
		grep -qxF -- "$w" <<<"$words" || {
			echo "the scan misses $w" >&2
			return 1
		}
	done
}

# deps_without TOOL... : runs `.ci/deps test` in check mode with a PATH on
# which the given programs are missing; sets status and output.
deps_without() {
	local bin="$BATS_TEST_TMPDIR/bin" d f
	mkdir -p "$bin"
	for d in ${SYSPATH//:/ }; do
		for f in "$d"/*; do
			[ -x "$f" ] && [ ! -e "$bin/${f##*/}" ] && ln -s "$f" "$bin/${f##*/}"
		done
	done
	for f; do rm -f "$bin/$f"; done
	run --separate-stderr env PATH="$bin" ALLOTER_DEPS=check "$DEPS" test
}

@test ".ci/deps test passes here (make test ran it)" {
	run --separate-stderr env ALLOTER_DEPS=check "$DEPS" test
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}

@test "a missing tool is named with its package and the one install command" {
	deps_without man jq
	echo "$stderr"
	[ "$status" -eq 1 ]
	[[ $stderr == *"alloter: missing tools: jq (jq) man (man-db)"* ]]
	run_line=$(grep '^run: ' <<<"$stderr")
	[[ $run_line == "run: "*"apt-get install -y jq man-db" ]]
}

@test "make test runs the dependency check first" {
	run make -s --no-print-directory -C "$SRC" -n test
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == *".ci/deps test"* ]]
}
