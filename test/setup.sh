#!/usr/bin/env bash
#
# test/setup.sh -- make this machine ready to build and test the extension.
#
#   1. Checks the Debian packages that building and the test suites need.
#      Missing ones are installed with apt-get when we are root; otherwise
#      the script names them and fails.
#   2. Builds the extension (make) and installs it (make install) for
#      PostgreSQL 15, with sudo when not root and sudo is there.
#   3. Installs the Node example's dependencies (npm ci in examples/node,
#      from its package-lock.json) when they are missing or out of date.
#   4. Builds and installs Citus 13.2.2 for the Citus test (test/t/021),
#      from ../shared/citus, when it is not installed yet (about 90 s).
#   5. Puts the PostgreSQL 15 bin directory first on PATH.
#
# Run it (test/setup.sh), or source it from another bash script, which then
# gets the PATH and the helpers of test/lib.sh. Quiet on success.
#
# Environment: PG_CONFIG (default /usr/lib/postgresql/15/bin/pg_config).
#
# Copyright (c) 2026, the queue authors

# shellcheck source=test/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# queue_missing_packages -- print the packages of QUEUE_DEB_PACKAGES that are
# not installed, one a line.
queue_missing_packages() {
	local pkg
	if ! command -v dpkg-query >/dev/null 2>&1; then
		# Not Debian: trust the system if pg_config is there.
		[ -x "$PG_CONFIG" ] || printf '%s\n' "$PG_CONFIG"
		return 0
	fi
	for pkg in "${QUEUE_DEB_PACKAGES[@]}"; do
		# shellcheck disable=SC2016  # ${Status} is dpkg-query's, not ours
		if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]; then
			printf '%s\n' "$pkg"
		fi
	done
}

# queue_install_packages -- install whatever is missing (root only).
queue_install_packages() {
	local missing log
	mapfile -t missing < <(queue_missing_packages)
	[ "${#missing[@]}" -eq 0 ] && return 0

	if ! is_root || ! command -v apt-get >/dev/null 2>&1; then
		msg "setup: missing: ${missing[*]}"
		msg "setup: install them as root, for example:"
		msg "    apt-get update && apt-get install -y ${missing[*]}"
		die "missing packages"
	fi

	msg "setup: installing ${missing[*]} ..."
	log=$(mktemp "${TMPDIR:-/tmp}/queue-apt.XXXXXX")
	# Three tries: a mirror or the dpkg lock can be briefly unavailable.
	local attempt
	for attempt in 1 2 3; do
		if {
			DEBIAN_FRONTEND=noninteractive apt-get update -q \
				-o DPkg::Lock::Timeout=120 &&
				DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
					-o DPkg::Lock::Timeout=120 \
					-o Dpkg::Options::=--force-confdef \
					-o Dpkg::Options::=--force-confold \
					"${missing[@]}"
		} </dev/null >>"$log" 2>&1; then
			break
		fi
		if [ "$attempt" -eq 3 ]; then
			tail -n 40 "$log" >&2
			die "apt-get failed (full log: $log)"
		fi
		sleep 10
	done
	rm -f "$log"

	mapfile -t missing < <(queue_missing_packages)
	[ "${#missing[@]}" -eq 0 ] || die "still missing after apt-get: ${missing[*]}"
}

# queue_installed_is_current PKGLIBDIR EXTDIR -- true when the built library,
# control file and install scripts are already installed, byte for byte (so
# a non-root user can run the tests after root installed the same build).
queue_installed_is_current() {
	local pkglibdir=$1 extdir=$2 file
	cmp -s "$QUEUE_ROOT/$QUEUE_EXTENSION.so" "$pkglibdir/$QUEUE_EXTENSION.so" || return 1
	cmp -s "$QUEUE_ROOT/$QUEUE_EXTENSION.control" "$extdir/$QUEUE_EXTENSION.control" || return 1
	for file in "$QUEUE_ROOT/sql/$QUEUE_EXTENSION"--*.sql; do
		[ -e "$file" ] || continue
		cmp -s "$file" "$extdir/$(basename "$file")" || return 1
	done
	return 0
}

# queue_build_install -- make && make install, output shown only on failure.
queue_build_install() {
	local log jobs
	jobs=$(nproc 2>/dev/null || echo 2)
	log=$(mktemp "${TMPDIR:-/tmp}/queue-build.XXXXXX")

	if ! make -C "$QUEUE_ROOT" -j"$jobs" PG_CONFIG="$PG_CONFIG" >"$log" 2>&1; then
		tail -n 60 "$log" >&2
		die "make failed (full log: $log)"
	fi

	local pkglibdir extdir
	pkglibdir=$("$PG_CONFIG" --pkglibdir)
	extdir=$("$PG_CONFIG" --sharedir)/extension
	if queue_installed_is_current "$pkglibdir" "$extdir"; then
		rm -f "$log"
		return 0
	fi
	if is_root || { [ -w "$pkglibdir" ] && [ -w "$extdir" ]; }; then
		make -C "$QUEUE_ROOT" PG_CONFIG="$PG_CONFIG" install >"$log" 2>&1 ||
			{ tail -n 40 "$log" >&2; die "make install failed (full log: $log)"; }
	elif command -v sudo >/dev/null 2>&1; then
		# shellcheck disable=SC2024  # the log is ours, not root's
		sudo make -C "$QUEUE_ROOT" PG_CONFIG="$PG_CONFIG" install >"$log" 2>&1 ||
			{ tail -n 40 "$log" >&2; die "sudo make install failed (full log: $log)"; }
	else
		rm -f "$log"
		die "cannot write to $pkglibdir and there is no sudo: run 'make install PG_CONFIG=$PG_CONFIG' as root"
	fi
	rm -f "$log"
}

# queue_node_deps -- npm ci in examples/node, unless node_modules was made
# from the same package-lock.json (this function leaves a copy of it
# there after npm ci).
queue_node_deps() {
	local dir=$QUEUE_ROOT/examples/node log
	[ -f "$dir/package-lock.json" ] || return 0
	if cmp -s "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.queue" 2>/dev/null; then
		return 0
	fi
	log=$(mktemp "${TMPDIR:-/tmp}/queue-npm.XXXXXX")
	if ! (cd "$dir" && npm ci --no-audit --no-fund) </dev/null >"$log" 2>&1; then
		tail -n 40 "$log" >&2
		die "npm ci in examples/node failed (full log: $log)"
	fi
	cp "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.queue"
	rm -f "$log"
}

# queue_citus -- build and install Citus 13.2.2 (for test/t/021_citus.pl)
# with the build script kept beside the repository: QUEUE_CITUS_DIR, else
# ../shared/citus, else /work/shared/citus. It does nothing when that
# version is installed already; without the source, or without the right
# to install, test 021 is skipped and this says so.
queue_citus() {
	local dir log candidate
	for candidate in "${QUEUE_CITUS_DIR:-}" "$QUEUE_ROOT/../shared/citus" /work/shared/citus; do
		if [ -n "$candidate" ] && [ -x "$candidate/build.sh" ]; then
			dir=$candidate
			break
		fi
	done
	if [ -z "${dir:-}" ]; then
		msg "setup: no Citus source (../shared/citus): test/t/021_citus.pl will be skipped"
		return 0
	fi
	if ! is_root && ! [ -w "$("$PG_CONFIG" --pkglibdir)" ]; then
		msg "setup: building Citus needs root: test/t/021_citus.pl will be skipped unless it is installed"
		return 0
	fi
	log=$(mktemp "${TMPDIR:-/tmp}/queue-citus.XXXXXX")
	if ! PG_CONFIG=$PG_CONFIG "$dir/build.sh" </dev/null >"$log" 2>&1; then
		tail -n 40 "$log" >&2
		die "building Citus failed (full log: $log)"
	fi
	rm -f "$log"
}

# queue_setup -- all of the above, then PATH.
queue_setup() {
	queue_install_packages
	queue_build_install
	queue_node_deps
	queue_citus
	case "$PATH" in
	"$PG_BINDIR:"*) ;;
	*) PATH="$PG_BINDIR:$PATH" ;;
	esac
	export PATH
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	queue_setup
else
	queue_setup
fi
