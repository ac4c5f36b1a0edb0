#!/usr/bin/env bats
# make install / make uninstall into a temporary DESTDIR, and a C program
# built against the installed library with pkg-config.

bats_require_minimum_version 1.5.0

SRC="$BATS_TEST_DIRNAME/.."

VERSION=$(sed -n 's/^#define ALLOTER_VERSION "\(.*\)"/\1/p' "$SRC/include/alloter.h")

# The files `make install PREFIX=/usr` puts under DESTDIR, and the two
# symlinks to the shared library.
FILES=(
	usr/bin/alloter
	usr/share/man/man1/alloter.1
	usr/lib/liballoter.a
	usr/include/alloter.h
	usr/lib/pkgconfig/alloter.pc
	"usr/lib/liballoter.so.$VERSION"
)
LINKS=(usr/lib/liballoter.so.0 usr/lib/liballoter.so)

setup() {
	root="$BATS_TEST_TMPDIR/root"
}

# install_into ROOT [PREFIX] : make install with DESTDIR=ROOT, PREFIX=/usr
# unless given; the make output goes to ROOT.log.  Fails if make fails.
# The plain build is what gets installed: under `make check` the sanitizer
# build's settings (O, SAN) reach us through the environment, and a
# sanitized liballoter.a cannot link into a program built without them.
PLAIN_MAKE=(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u O -u SAN make)

install_into() {
	local rc=0
	timeout 600 "${PLAIN_MAKE[@]}" -C "$SRC" install PREFIX="${2:-/usr}" DESTDIR="$1" \
		>"$1.log" 2>&1 </dev/null 3>&- || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "make install failed with status $rc:" >&2
		tail -n 40 "$1.log" >&2
		return 1
	fi
}

# pc ARGS... : pkg-config on the copy installed under $root.
pc() {
	PKG_CONFIG_PATH="$root/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root" pkg-config "$@"
}

@test "make install puts the binary, man page, library, header and pkg-config file under DESTDIR" {
	install_into "$root"
	for f in "${FILES[@]}"; do
		echo "checking $f"
		[ -f "$root/$f" ]
	done
	[ "$(stat -c %a "$root/usr/bin/alloter")" = 755 ]
	for f in "${FILES[@]:1}"; do
		[ "$(stat -c %a "$root/$f")" = 644 ]
	done
	for l in "${LINKS[@]}"; do
		[ -L "$root/$l" ]
		[ "$(readlink -f "$root/$l")" = "$root/usr/lib/liballoter.so.$VERSION" ]
	done
	cmp "$SRC/man/alloter.1" "$root/usr/share/man/man1/alloter.1"
	cmp "$SRC/include/alloter.h" "$root/usr/include/alloter.h"
	# nothing outside DESTDIR's prefix
	[ -z "$(find "$root" -mindepth 1 -maxdepth 1 ! -name usr)" ]
}

@test "the installed alloter runs" {
	install_into "$root"
	run "$root/usr/bin/alloter" -V
	[ "$status" -eq 0 ]
	[[ $output == *"$(sed -n 's/^#define ALLOTER_VERSION "\(.*\)"/\1/p' "$SRC/include/alloter.h")"* ]]
	run "$root/usr/bin/alloter" -q 'echo ran'
	[ "$status" -eq 0 ]
	[ "$output" = ran ]
}

@test "the installed pkg-config file names the prefix and the header's version" {
	install_into "$root"
	grep -qx 'prefix=/usr' "$root/usr/lib/pkgconfig/alloter.pc"
	[ "$(pc --modversion alloter)" = "$(sed -n 's/^#define ALLOTER_VERSION "\(.*\)"/\1/p' "$SRC/include/alloter.h")" ]
}

@test "pkg-config flags for the installed copy point into DESTDIR, not the source tree" {
	install_into "$root"
	cflags=$(pc --cflags alloter)
	libs=$(pc --libs alloter)
	echo "cflags: $cflags"
	echo "libs: $libs"
	[[ " $cflags " == *" -I$root/usr/include "* ]]
	[[ " $libs " == *" -L$root/usr/lib "* ]]
	[[ " $libs " == *" -lalloter "* ]]
	src=$(cd "$SRC" && pwd -P)
	[[ $cflags$libs != *"$src"* ]]
	[[ $cflags$libs != *"$SRC"* ]]
}

@test "the shared library has the soname liballoter.so.0 and exports only alloter_* names" {
	install_into "$root"
	lib="$root/usr/lib/liballoter.so.$VERSION"
	run readelf -d "$lib"
	[ "$status" -eq 0 ]
	[[ $output == *"Library soname: [liballoter.so.0]"* ]]
	# defined code and data symbols (the version node ALLOTER_0 is "A")
	run nm -D --defined-only "$lib"
	[ "$status" -eq 0 ]
	names=$(awk '$2 ~ /^[TDBRVW]$/ { print $3 }' <<<"$output")
	echo "$names" | grep -c . >&2
	[ -n "$names" ]
	[[ $names == *alloter_exec* ]]
	[[ $names == *alloter_group_go* ]]
	[ -z "$(grep -v '^alloter_' <<<"$names")" ]
	# the internal al_* functions are hidden, not just unversioned
	run readelf --dyn-syms -W "$lib"
	[[ $output != *" al_"* ]]
}

@test "pkg-config lists libyaml once, under --static only" {
	install_into "$root"
	grep -qx 'Requires.private: yaml-0.1' "$root/usr/lib/pkgconfig/alloter.pc"
	libs=$(pc --libs alloter)
	static=$(pc --static --libs alloter)
	echo "libs: $libs"
	echo "static: $static"
	[ "$(grep -o -- '-lyaml' <<<"$libs" | wc -l)" -eq 0 ]
	[ "$(grep -o -- '-lyaml' <<<"$static" | wc -l)" -eq 1 ]
	[[ " $static " == *" -lalloter "* ]]
}

@test "examples/functions.c builds against the installed shared library and runs" {
	install_into "$root"
	mkdir "$BATS_TEST_TMPDIR/ex"
	cp "$SRC/examples/functions.c" "$BATS_TEST_TMPDIR/ex/"
	cd "$BATS_TEST_TMPDIR/ex"
	# -Wl,-t lists the files the linker used.
	run cc -o functions functions.c -Wl,-t $(pc --cflags --libs alloter)
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"$root/usr/lib/liballoter.so"* ]]
	run readelf -d functions
	[[ $output == *"Shared library: [liballoter.so.0]"* ]]
	export LD_LIBRARY_PATH="$root/usr/lib"
	run ldd ./functions
	[[ $output == *"liballoter.so.0 => $root/usr/lib/liballoter.so.0"* ]]
	src=$(cd "$SRC" && pwd -P)
	[[ $output != *"$src/build"* ]]
	# the header came from the installed copy too
	run cc -M functions.c $(pc --cflags alloter)
	[ "$status" -eq 0 ]
	[[ $output == *"$root/usr/include/alloter.h"* ]]
	t0=${EPOCHREALTIME/[.,]/}
	run timeout 30 ./functions
	elapsed_ms=$(((${EPOCHREALTIME/[.,]/} - t0) / 1000))
	echo "$output (in $elapsed_ms ms)"
	[ "$status" -eq 0 ]
	[ "$output" = $'task 1: succeeded\ntask 2: succeeded\ntask 3: cancelled\ntimed out: yes' ]
	# the 1 s deadline cut the 60 s task short
	[ "$elapsed_ms" -ge 900 ]
	[ "$elapsed_ms" -lt 10000 ]
}

@test "examples/functions.c links the static library with pkg-config --static" {
	compgen -G "/usr/lib/*/libyaml.a" >/dev/null || skip "no static libyaml"
	install_into "$root"
	mkdir "$BATS_TEST_TMPDIR/ex"
	cp "$SRC/examples/functions.c" "$BATS_TEST_TMPDIR/ex/"
	cd "$BATS_TEST_TMPDIR/ex"
	# A fully static program: libyaml and libc from their static
	# archives, which --static makes pkg-config name.
	run cc -static -o functions functions.c -Wl,-t $(pc --cflags --static --libs alloter)
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"$root/usr/lib/liballoter.a"* ]]
	run readelf -d functions
	[[ $output == *"no dynamic section"* ]]
	run timeout 30 ./functions
	[ "$status" -eq 0 ]
	[[ $output == *"task 3: cancelled"* ]]
}

@test "examples/handler.c, a request handler on the group API, builds against the installed copy and runs" {
	install_into "$root"
	mkdir "$BATS_TEST_TMPDIR/ex"
	cp "$SRC/examples/handler.c" "$BATS_TEST_TMPDIR/ex/"
	cd "$BATS_TEST_TMPDIR/ex"
	run cc -Wall -Wextra -Werror -o handler handler.c $(pc --cflags --libs alloter)
	echo "$output"
	[ "$status" -eq 0 ]
	t0=${EPOCHREALTIME/[.,]/}
	LD_LIBRARY_PATH="$root/usr/lib" run timeout 30 ./handler
	elapsed_ms=$(((${EPOCHREALTIME/[.,]/} - t0) / 1000))
	echo "$output (in $elapsed_ms ms)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "request 1: user ok, orders ok, recommendations ok" ]
	[ "${lines[1]}" = "request 1: 200" ]
	[ "${lines[2]}" = "request 2: user ok, orders ok, recommendations cancelled (deadline)" ]
	[ "${lines[3]}" = "request 2: 504" ]
	[ "${lines[4]}" = "request 3: user failed (Connection refused), orders cancelled (another call failed), recommendations cancelled (another call failed)" ]
	[ "${lines[5]}" = "request 3: 502 Connection refused" ]
	# the 300 ms request deadline and the failure cut the 60 s calls short
	[ "$elapsed_ms" -lt 10000 ]
}

@test "the installed man page renders with man -l without errors" {
	install_into "$root"
	run --separate-stderr env MANPAGER=cat MANWIDTH=80 man -l "$root/usr/share/man/man1/alloter.1"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[[ $output == *ALLOTER* ]]
	[[ $output == *"JOB LOG"* ]]
	[[ $output == *"JSON REPORT"* ]]
}

@test "the installed man page renders with mandoc without errors" {
	command -v mandoc >/dev/null || skip "mandoc is not installed"
	install_into "$root"
	run --separate-stderr mandoc -T ascii -W error "$root/usr/share/man/man1/alloter.1"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	# bold is written as overstrikes: C backspace C
	text=$(sed 's/.\x08//g' <<<"$output")
	[[ $text == *"JOB LOG"* ]]
	[[ $text == *"JSON REPORT"* ]]
}

@test "make install honours PREFIX" {
	install_into "$root" /opt/alloter
	[ -x "$root/opt/alloter/bin/alloter" ]
	[ -f "$root/opt/alloter/share/man/man1/alloter.1" ]
	[ -f "$root/opt/alloter/lib/liballoter.a" ]
	[ -L "$root/opt/alloter/lib/liballoter.so.0" ]
	[ -f "$root/opt/alloter/include/alloter.h" ]
	grep -qx 'prefix=/opt/alloter' "$root/opt/alloter/lib/pkgconfig/alloter.pc"
	[ ! -e "$root/usr" ]
}

@test "make uninstall with the same DESTDIR removes the installed files" {
	install_into "$root"
	for f in "${FILES[@]}"; do
		[ -e "$root/$f" ]
	done
	run timeout 600 "${PLAIN_MAKE[@]}" -C "$SRC" uninstall PREFIX=/usr DESTDIR="$root"
	echo "$output"
	[ "$status" -eq 0 ]
	for f in "${FILES[@]}" "${LINKS[@]}"; do
		echo "checking $f is gone"
		[ ! -e "$root/$f" ] && [ ! -L "$root/$f" ]
	done
	# and nothing in the source tree was removed
	[ -f "$SRC/man/alloter.1" ]
	[ -f "$SRC/include/alloter.h" ]
}
