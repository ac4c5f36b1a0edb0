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
	local root="$BATS_TEST_TMPDIR/root" f
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u O -u SAN make -s -C "$SRC" install \
		PREFIX=/usr ZSH_COMPDIR=/usr/share/zsh/vendor-completions DESTDIR="$root" >/dev/null 3>&-
	(cd "$root" && find . -type f | sed 's|^\./||') | sort >"$BATS_TEST_TMPDIR/installed"
	# the library's files move to the multiarch folder in debian/rules
	sed -E 's|^usr/lib/\*/|usr/lib/|' "$SRC"/debian/*.install | sort >"$BATS_TEST_TMPDIR/packaged"
	diff "$BATS_TEST_TMPDIR/installed" "$BATS_TEST_TMPDIR/packaged"
}
