#!/usr/bin/env bash
#
# test/package.sh -- build the Debian package, install it, and run
# make installcheck against the installed files on a server set up as
# README.md's "Install into your own server" says (CI runs it; root only).
#
#   1. Installs what building a package needs (debhelper,
#      postgresql-server-dev-all, dpkg-dev) when it is missing.
#   2. Checks that debian/changelog names the version of queue.control, and
#      META.json (test/meta-check.py: PGXN Meta Spec 1.0.0, the same version).
#   3. dpkg-buildpackage -us -uc in a copy of the tree (so the build leaves
#      nothing behind here), into log/package/.
#   4. Moves aside the extension's files that a make install left (so that
#      what is tested is the package's), and installs the package with
#      apt-get.
#   5. pg_createcluster a PostgreSQL 15 cluster, ALTER SYSTEM SET
#      shared_preload_libraries = 'queue', restart it, CREATE EXTENSION
#      queue, and run make installcheck (pg_regress and isolation parts) on
#      it from a copy of the tree owned by postgres.
#   6. Drops the cluster, removes the package and puts back the files moved
#      aside in 4, whatever happened.
#
# Prints a line per step and ends with 'package: N passed, N failed' (each
# step that passed, and the installcheck tests; a failed step counts as one
# failure). Exits non-zero
# if anything failed. Logs: log/package/.
#
# Copyright (c) 2026, the queue authors

set -euo pipefail

# shellcheck source=test/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LOGDIR=$QUEUE_ROOT/log/package
CLUSTER_NAME=queue_pkg
PKG_NAME=postgresql-15-queue
version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$QUEUE_ROOT/queue.control")
arch=$(dpkg --print-architecture)
deb=$PKG_NAME\_${version}_$arch.deb

passed=0
failed=0
fail() {
	msg "package: $*"
	failed=$((failed + 1))
}
finish() {
	printf 'package: %s passed, %s failed\n' "$passed" "$failed"
	[ "$failed" -eq 0 ]
	exit
}

is_root || die "test/package.sh installs a package: run it as root"
rm -rf "$LOGDIR"
mkdir -p "$LOGDIR"

# 1. what building needs
missing=()
for pkg in debhelper postgresql-server-dev-all dpkg-dev; do
	# shellcheck disable=SC2016
	[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = "install ok installed" ] || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "package: installing ${missing[*]}"
	if ! { DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=120 &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=120 "${missing[@]}"; } \
		</dev/null >"$LOGDIR/apt.log" 2>&1; then
		tail -n 30 "$LOGDIR/apt.log" >&2
		fail "apt-get install ${missing[*]} failed"
		finish
	fi
fi

# 2. the version, and the PGXN metadata
changelog_version=$(cd "$QUEUE_ROOT" && dpkg-parsechangelog -S Version)
if [ "$changelog_version" != "$version" ]; then
	fail "debian/changelog says $changelog_version, queue.control $version"
	finish
fi
passed=$((passed + 1))
if /usr/bin/python3 "$QUEUE_ROOT/test/meta-check.py"; then
	passed=$((passed + 1))
else
	fail "META.json is not valid"
fi

# 3. build in a copy
build=$(mktemp -d /tmp/queue-deb.XXXXXX)
cleanup_build() { rm -rf "$build"; }
at_exit cleanup_build
src=$build/postgresql-queue-$version
mkdir -p "$src"
if git -C "$QUEUE_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$QUEUE_ROOT" && git ls-files -co --exclude-standard -z) | (cd "$QUEUE_ROOT" && tar --null -cf - -T -) | tar -C "$src" -xf -
else
	tar -C "$QUEUE_ROOT" --exclude=./.git --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
		--exclude=./results --exclude=./output_iso --exclude=./tmp_check --exclude=./log \
		--exclude=./examples/node/node_modules -cf - . | tar -C "$src" -xf -
fi
if (cd "$src" && dpkg-buildpackage -us -uc) </dev/null >"$LOGDIR/build.log" 2>&1 && [ -f "$build/$deb" ]; then
	cp "$build/$deb" "$LOGDIR/"
	echo "package: built $deb"
	passed=$((passed + 1))
else
	tail -n 40 "$LOGDIR/build.log" >&2
	fail "dpkg-buildpackage failed (log/package/build.log)"
	finish
fi

# 4. install it, over nothing
pkglibdir=$("$PG_CONFIG" --pkglibdir)
extdir=$("$PG_CONFIG" --sharedir)/extension
pkg_installed() {
	# shellcheck disable=SC2016
	[ "$(dpkg-query -W -f='${Status}' "$PKG_NAME" 2>/dev/null)" = "install ok installed" ]
}
# Files a make install left are moved aside and put back at the end (a
# developer's machine keeps its build; on CI, run-all.sh installs anyway).
backup=$(mktemp -d /tmp/queue-pkg-backup.XXXXXX)
restore_make_install() {
	if [ -d "$backup/lib" ] && ! pkg_installed; then
		cp -a "$backup/lib/." "$pkglibdir/"
		cp -a "$backup/ext/." "$extdir/"
	fi
	rm -rf "$backup"
}
at_exit restore_make_install
if ! pkg_installed; then
	mkdir -p "$backup/lib/bitcode" "$backup/ext"
	for file in "$pkglibdir/queue.so" "$pkglibdir/bitcode/queue" "$pkglibdir/bitcode/queue.index.bc"; do
		if [ -e "$file" ]; then mv "$file" "$backup/lib/${file#"$pkglibdir"/}"; fi
	done
	for file in "$extdir/queue.control" "$extdir"/queue--*.sql; do
		if [ -e "$file" ]; then mv "$file" "$backup/ext/"; fi
	done
fi
remove_package() {
	DEBIAN_FRONTEND=noninteractive apt-get remove -y -q "$PKG_NAME" </dev/null >>"$LOGDIR/remove.log" 2>&1 || true
}
at_exit remove_package
if DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=120 "$LOGDIR/$deb" \
	</dev/null >"$LOGDIR/install.log" 2>&1 &&
	[ "$(dpkg-query -W -f='${Version}' "$PKG_NAME")" = "$version" ] &&
	dpkg -L "$PKG_NAME" | grep -qx "$pkglibdir/queue.so" &&
	dpkg -L "$PKG_NAME" | grep -qx "$extdir/queue--$version.sql"; then
	echo "package: installed $PKG_NAME $version"
	passed=$((passed + 1))
else
	tail -n 30 "$LOGDIR/install.log" >&2
	fail "installing $deb failed (log/package/install.log)"
	finish
fi

# 5. a cluster as in the README, and make installcheck against it
drop_cluster() {
	pg_dropcluster --stop 15 "$CLUSTER_NAME" >/dev/null 2>&1 || true
}
drop_cluster
at_exit drop_cluster
port=$(pick_free_port)
work=$(mktemp -d /tmp/queue-pkgcheck.XXXXXX)
at_exit "rm -rf '$work'"
if ! {
	pg_createcluster 15 "$CLUSTER_NAME" -p "$port" --start -- --auth=trust &&
		runuser -u postgres -- psql -X -q -p "$port" -v ON_ERROR_STOP=1 \
			-c "ALTER SYSTEM SET shared_preload_libraries = 'queue'" &&
		pg_ctlcluster 15 "$CLUSTER_NAME" restart &&
		runuser -u postgres -- psql -X -q -p "$port" -v ON_ERROR_STOP=1 \
			-c 'CREATE DATABASE queue_pkg' &&
		runuser -u postgres -- psql -X -p "$port" -d queue_pkg -v ON_ERROR_STOP=1 -At \
			-c 'CREATE EXTENSION queue' \
			-c "SELECT extversion FROM pg_extension WHERE extname = 'queue'" \
			-c 'SELECT queue._preloaded()'
} </dev/null >"$LOGDIR/cluster.log" 2>&1; then
	tail -n 30 "$LOGDIR/cluster.log" >&2
	fail "the cluster of the README's install section did not come up (log/package/cluster.log)"
	finish
fi
if [ "$(tail -n 2 "$LOGDIR/cluster.log" | tr '\n' ' ')" != "$version t " ]; then
	tail -n 30 "$LOGDIR/cluster.log" >&2
	fail "CREATE EXTENSION queue did not give version $version with the library preloaded"
	finish
fi
echo "package: CREATE EXTENSION queue on cluster 15/$CLUSTER_NAME (port $port) with the library preloaded"
passed=$((passed + 1))

cp -R "$src/." "$work/"
chown -R postgres: "$work"
rc=0
(cd "$work" && runuser -u postgres -- env "PATH=$PATH" PGPORT="$port" PGHOST=/var/run/postgresql \
	make installcheck PG_CONFIG="$PG_CONFIG" TAP_TESTS=) </dev/null >"$LOGDIR/installcheck.log" 2>&1 || rc=$?
read -r ok bad < <(awk '
	/^(test |     )[^ ].* \.\.\. / {
		if ($0 ~ / \.\.\. (ok|failed \(ignored\))/) p++
		else f++
	}
	END { printf "%d %d\n", p, f }' "$LOGDIR/installcheck.log")
passed=$((passed + ok))
failed=$((failed + bad))
if [ "$rc" -ne 0 ] || [ "$bad" -ne 0 ] || [ "$ok" -eq 0 ]; then
	[ "$bad" -ne 0 ] || failed=$((failed + 1))
	for diffs in "$work/regression.diffs" "$work/output_iso/regression.diffs"; do
		[ -s "$diffs" ] && head -n 100 "$diffs" >&2
	done
	tail -n 30 "$LOGDIR/installcheck.log" >&2
	msg "package: make installcheck against the package failed (log/package/installcheck.log)"
fi
echo "package: make installcheck against the installed package: $ok passed, $bad failed"
finish
