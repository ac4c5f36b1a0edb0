#!/usr/bin/env bats
# tests/45-deb.bats - the Debian packaging agrees with the tree.  (CI builds
# the packages with `make deb`, runs lintian and smoke-tests the installed
# ones with .ci/deb-smoke.)

SRC="$BATS_TEST_DIRNAME/.."

@test "debian/changelog's version is the header's ALLOTER_VERSION" {
	local header changelog
	header=$(sed -n 's/^#define ALLOTER_VERSION "\(.*\)"/\1/p' "$SRC/include/alloter.h")
	changelog=$(sed -n '1s/^alloter (\([^)]*\)).*/\1/p' "$SRC/debian/changelog")
	[ -n "$header" ]
	[ "$changelog" = "$header" ]
}

@test "the packaging uses debhelper compat 13 through dh" {
	grep -qx 'Build-Depends: debhelper-compat (= 13), .*' "$SRC/debian/control"
	[ ! -e "$SRC/debian/compat" ]
	grep -qxF '	dh $@' "$SRC/debian/rules"
}

@test "every file make install installs goes into a package" {
	# dh_missing (compat 13) fails the build on a file left out; this says
	# so before a build: the .install files against a real make install.
	local root="$BATS_TEST_TMPDIR/root" f pat hit bad=
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u O -u SAN make -s -C "$SRC" install \
		PREFIX=/usr ZSH_COMPDIR=/usr/share/zsh/vendor-completions DESTDIR="$root" >/dev/null 3>&-
	# debian/rules moves the library's files to the multiarch folder
	mapfile -t installed < <(cd "$root" && find . ! -type d | sed -E 's|^\./||; s|^usr/lib/([^/]*)|usr/lib/ARCH/\1|' | sort)
	mapfile -t patterns < <(cat "$SRC"/debian/*.install)
	[ "${#installed[@]}" -gt 5 ]
	declare -A used
	for f in "${installed[@]}"; do
		hit=
		for pat in "${patterns[@]}"; do
			# shellcheck disable=SC2053 # the .install lines are globs
			if [[ ${f/ARCH/x} == $pat ]]; then
				hit=1
				used[$pat]=1
			fi
		done
		[ -n "$hit" ] || bad="$bad $f"
	done
	for pat in "${patterns[@]}"; do
		[ -n "${used[$pat]:-}" ] || bad="$bad (nothing for $pat)"
	done
	if [ -n "$bad" ]; then
		echo "installed but in no package, or packaged but not installed:$bad" >&2
		return 1
	fi
}

@test "the shared library has a package of its own, named for its soname" {
	grep -qx 'Package: liballoter0' "$SRC/debian/control"
	grep -q '^liballoter.so.0 liballoter0 ' "$SRC/debian/liballoter0.symbols"
	grep -qx 'SONAME := liballoter.so.0' "$SRC/Makefile"
	grep -qx 'Depends: liballoter0 (= ${binary:Version}), libyaml-dev, ${misc:Depends}' "$SRC/debian/control"
}
