#!/usr/bin/env bats
# tests/40-docs.bats - the man page is well-formed mdoc and agrees with
# --help: every long option of one appears in the other, and the EXIT
# STATUS section lists every status alloter can exit with.

: "${ALLOTER:=$BATS_TEST_DIRNAME/../build/alloter}"
MANPAGE="$BATS_TEST_DIRNAME/../man/alloter.1"

# The long options named in --help, one per line, sorted.
help_long_options() {
	"$ALLOTER" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u
}

# The long options the man page documents with an Fl macro (".Fl -name",
# also inside Op, It and other lines), one per line, sorted.
man_long_options() {
	grep -oE -- 'Fl \\?-[a-z][a-z-]*' "$MANPAGE" |
		sed -E 's/^Fl \\?-/--/' | sort -u
}

# The lines of one section (.Sh TITLE up to the next .Sh).
man_section() {
	awk -v title="$1" '
		/^\.Sh / { inside = (substr($0, 5) == title); next }
		inside { print }
	' "$MANPAGE"
}

need_binary() {
	if [ ! -x "$ALLOTER" ]; then
		echo "alloter binary not found at $ALLOTER" >&2
		return 1
	fi
}

@test "the man page exists" {
	[ -f "$MANPAGE" ]
}

@test "mandoc -Tlint -Wwarning finds nothing to say about the man page" {
	command -v mandoc >/dev/null || skip "mandoc is not installed"
	run mandoc -Tlint -Wwarning "$MANPAGE"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "the man page has the sections the style guide asks for" {
	local s
	for s in NAME SYNOPSIS DESCRIPTION OPTIONS "TASK FILE FORMAT" \
		ENVIRONMENT "EXIT STATUS" EXAMPLES "SEE ALSO"; do
		grep -qx "\.Sh $s" "$MANPAGE" || {
			echo "missing section: $s" >&2
			return 1
		}
	done
}

@test "every long option in --help is documented in the man page" {
	need_binary
	local help man missing
	help=$(help_long_options)
	[ -n "$help" ]
	man=$(man_long_options)
	missing=$(comm -23 <(echo "$help") <(echo "$man"))
	if [ -n "$missing" ]; then
		echo "in --help but not in the man page:" $missing >&2
		return 1
	fi
}

@test "every long option in the man page is in --help" {
	need_binary
	local help man extra
	help=$(help_long_options)
	man=$(man_long_options)
	[ -n "$man" ]
	# "--" alone (the end of the options) is not matched by either list.
	extra=$(comm -13 <(echo "$help") <(echo "$man"))
	if [ -n "$extra" ]; then
		echo "in the man page but not in --help:" $extra >&2
		return 1
	fi
}

@test "every long option has an entry of its own in OPTIONS" {
	need_binary
	local opts opt
	opts=$(man_section OPTIONS)
	for opt in $(help_long_options); do
		grep -qE -- "^\.It .*Fl \\\\?${opt#-}( |$)" <<<"$opts" || {
			echo "no .It entry for $opt in OPTIONS" >&2
			return 1
		}
	done
}

@test "the EXIT STATUS section lists 0 1 2 124 129 130 141 143" {
	local section code
	section=$(man_section "EXIT STATUS")
	[ -n "$section" ]
	for code in 0 1 2 124 129 130 141 143; do
		grep -qE "^\.It( Li| Sy)? $code\$" <<<"$section" || {
			echo "EXIT STATUS has no entry for $code" >&2
			return 1
		}
	done
}

@test "the SYNOPSIS names every short option of --help" {
	need_binary
	local synopsis shorts opt
	synopsis=$(man_section SYNOPSIS)
	shorts=$("$ALLOTER" --help | grep -oE '^  -[A-Za-z],' | tr -d ' ,-')
	[ -n "$shorts" ]
	for opt in $shorts; do
		# Either alone (.Op Fl j Ar limit) or in a cluster (.Op Fl hknqVx).
		grep -qE "Fl [A-Za-z]*$opt[A-Za-z]*( |$)" <<<"$synopsis" || {
			echo "-$opt is missing from the SYNOPSIS" >&2
			return 1
		}
	done
}
