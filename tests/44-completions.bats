#!/usr/bin/env bats
# tests/44-completions.bats - the bash, zsh and fish completions that
# completions/gen writes from the options table of --help: every option,
# the values of the choices, files where a file is wanted; the bash one
# run in a real bash with bash-completion.

bats_require_minimum_version 1.5.0
load helpers

SRC="$BATS_TEST_DIRNAME/.."
GEN="$SRC/completions/gen"
BASH_COMPLETION=/usr/share/bash-completion/bash_completion

setup() {
	common_setup
	"$GEN" bash "$ALLOTER" >"$T/alloter.bash"
	"$GEN" zsh "$ALLOTER" >"$T/_alloter"
	"$GEN" fish "$ALLOTER" >"$T/alloter.fish"
}

# complete_bash WORD... : the completions bash offers for the last WORD of
# the command line "WORD...", one per line, sorted, from a real bash with
# bash-completion and the generated script loaded.  (Words are given as
# readline splits them: "--color=al" is --color = al.)
complete_bash() {
	(cd "$T/files" 2>/dev/null || cd "$T"
		bash --norc --noprofile -c '
			source "$1" || exit 1
			source "$2" || exit 1
			shift 2
			# What an interactive bash has; a bash -c has it empty.
			COMP_WORDBREAKS=$'"'"' \t\n"\'"'"'><=;|&(:'"'"'
			COMP_WORDS=("$@")
			COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
			# readline splits "--color=al" in three with no blanks.
			COMP_LINE=$1 prev=$1
			for w in "${@:2}"; do
				if [ "$w" = = ] || [ "$prev" = = ]; then
					COMP_LINE+=$w
				else
					COMP_LINE+=" $w"
				fi
				prev=$w
			done
			COMP_POINT=${#COMP_LINE}
			spec=$(complete -p alloter) || exit 1
			func=${spec#*-F }
			func=${func%% *}
			"$func" alloter "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
			printf "%s\n" "${COMPREPLY[@]}"
		' bash "$BASH_COMPLETION" "$T/alloter.bash" "$@" 3>&-) | sort
}

# The options of --help, long and short, one per line, sorted.
help_options() {
	"$ALLOTER" --help | sed -n '/^options:/,/^$/p' |
		grep -oE '^(  -[A-Za-z0-9], |      )--[a-z][a-z-]*' | grep -oE -- '-[-a-z0-9A-Z]+' | sort
}

@test "bash offers every option of --help after a dash, and nothing else" {
	[ -n "$(help_options)" ]
	diff <(help_options) <(complete_bash alloter -)
}

@test "bash completes a long option from its start" {
	[ "$(complete_bash alloter --kee)" = --keep-order ]
	[ "$(complete_bash alloter --hosts)" = $'--hosts\n--hosts-file' ]
}

# The values the parser accepts for OPTION, from its error message
# "(want a, b or c)", one per line, in its order; sorted_values sorts them.
parser_values() {
	"$ALLOTER" "$1" no-such-value true 2>&1 | grep -oE '\(want [^)]*\)' |
		sed -E 's/^\(want //; s/\)$//; s/,? or /\n/; s/, /\n/g'
}
sorted_values() {
	parser_values "$1" | sort
}

@test "bash offers the values of -o and --color that the parser takes" {
	for v in group line raw none; do
		sorted_values --output | grep -qx "$v"
	done
	[ "$(sorted_values --color)" = $'always\nauto\nnever' ]
	[ "$(complete_bash alloter -o '')" = "$(sorted_values --output)" ]
	[ "$(complete_bash alloter --output '')" = "$(sorted_values --output)" ]
	[ "$(complete_bash alloter --output = '')" = "$(sorted_values --output)" ]
	[ "$(complete_bash alloter --color '')" = "$(sorted_values --color)" ]
	[ "$(complete_bash alloter --color = al)" = $'always' ]
	[ "$(complete_bash alloter -j 4 -o l)" = line ]
}

@test "bash offers YAML files and folders for -f, any file for --joblog, --report and --hosts-file" {
	mkdir -p "$T/files/sub"
	touch "$T/files/tasks.yaml" "$T/files/ci.yml" "$T/files/notes.txt"
	[ "$(complete_bash alloter -f '')" = $'ci.yml\nsub\ntasks.yaml' ]
	[ "$(complete_bash alloter --file '')" = $'ci.yml\nsub\ntasks.yaml' ]
	[ "$(complete_bash alloter -f t)" = tasks.yaml ]
	for opt in --joblog --report --hosts-file; do
		[ "$(complete_bash alloter $opt '')" = $'ci.yml\nnotes.txt\nsub\ntasks.yaml' ]
	done
	[ "$(complete_bash alloter --report = n)" = notes.txt ]
}

@test "bash offers nothing for a value of its own (-j, -t, --ssh)" {
	for opt in -j --timeout --ssh; do
		[ -z "$(complete_bash alloter $opt '')" ]
	done
}

@test "bash offers commands, not options, once the options have ended" {
	# the first command ends the options, as alloter parses them
	[ -z "$(complete_bash alloter -j 2 'make' --kee)" ]
	[ -z "$(complete_bash alloter -- --kee)" ]
	# a value is not a command: -o group does not end them
	[ "$(complete_bash alloter -o group --kee)" = --keep-order ]
	[[ $'\n'$(complete_bash alloter -q ech)$'\n' == *$'\necho\n'* ]]
}

@test "make install puts the completions where bash-completion, zsh and fish look" {
	run env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u O -u SAN make -s -C "$SRC" install \
		PREFIX=/usr DESTDIR="$T/root" 3>&-
	echo "$output"
	[ "$status" -eq 0 ]
	cmp "$T/alloter.bash" "$T/root/usr/share/bash-completion/completions/alloter"
	cmp "$T/_alloter" "$T/root/usr/share/zsh/site-functions/_alloter"
	cmp "$T/alloter.fish" "$T/root/usr/share/fish/vendor_completions.d/alloter.fish"
	# bash-completion loads it on demand from there
	run bash --norc --noprofile -c '
		source "$1"
		XDG_DATA_DIRS=$2 __load_completion alloter && complete -p alloter' \
		bash "$BASH_COMPLETION" "$T/root/usr/share" 3>&-
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == "complete -F _alloter alloter" ]]
}

@test "the built completions are those of the built binary's --help" {
	cmp "$T/alloter.bash" "$O/completions/alloter.bash"
	cmp "$T/_alloter" "$O/completions/alloter.zsh"
	cmp "$T/alloter.fish" "$O/completions/alloter.fish"
}

@test "the zsh script is valid zsh and names every option of --help" {
	run zsh -n "$T/_alloter"
	[ "$status" -eq 0 ]
	[ "$(head -1 "$T/_alloter")" = "#compdef alloter" ]
	for o in $(help_options); do
		grep -qF -- "$o" "$T/_alloter" || {
			echo "not in _alloter: $o" >&2
			return 1
		}
	done
	grep -qF -- ":MODE:($(parser_values --output | paste -sd ' '))" "$T/_alloter"
	grep -qF -- ":WHEN:($(parser_values --color | paste -sd ' '))" "$T/_alloter"
}

@test "fish offers every long option, and the values of -o and --color" {
	run fish --no-execute "$T/alloter.fish"
	[ "$status" -eq 0 ]
	fishc() {
		fish --no-config -c "source '$T/alloter.fish'; complete -C '$1'" 3>&- |
			cut -f1 | sort
	}
	diff <(help_options | grep -- '^--') <(fishc 'alloter --')
	[ "$(fishc 'alloter -o ')" = "$(sorted_values --output)" ]
	[ "$(fishc 'alloter --color=')" = $'--color=always\n--color=auto\n--color=never' ]
}

@test "the generator refuses a help text without options" {
	printf '#!/bin/sh\necho "usage: nothing"\n' >"$T/fake"
	chmod +x "$T/fake"
	run "$GEN" bash "$T/fake"
	[ "$status" -ne 0 ]
	[[ $output == *"no options in the help text"* ]]
	run "$GEN" tcsh </dev/null
	[ "$status" -eq 2 ]
}
