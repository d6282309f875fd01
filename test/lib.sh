# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables are for the scripts that source this
#
# test/lib.sh -- helpers shared by test/setup.sh, test/cluster.sh,
# test/run-all.sh and examples/demo.sh.
#
# Source it from a bash script; it only defines variables and functions.
#
#   QUEUE_ROOT   the repository (the directory above test/)
#   PG_CONFIG    pg_config of the server to build for (PostgreSQL 15 by default)
#   PG_BINDIR    that server's bin directory (initdb, pg_ctl, psql ...)
#   PG_OS_USER   OS user that owns throwaway clusters when we run as root
#                (initdb refuses to run as root)
#
# Copyright (c) 2026, the queue authors

# Loaded once per shell: later sources must not forget registered handlers.
[ -n "${QUEUE_LIB_LOADED:-}" ] && return 0
QUEUE_LIB_LOADED=1

QUEUE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PG_BINDIR=$(dirname "$PG_CONFIG")
PG_OS_USER=${PG_OS_USER:-postgres}
# Name of the library to preload and the extension to create.
QUEUE_EXTENSION=${QUEUE_EXTENSION:-queue}

# Debian packages that building and every test suite need (the examples'
# tests included).
QUEUE_DEB_PACKAGES=(
	postgresql-15
	postgresql-server-dev-15
	postgresql-15-pgtap
	libtap-parser-sourcehandler-pgtap-perl
	libipc-run-perl
	make
	gcc
	python3-psycopg
	python3-pytest
)

# Node and npm for examples/node: the machine's own if it has them (node 18
# or later, for node --test), else Debian's.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	QUEUE_DEB_PACKAGES+=(nodejs npm)
fi

# The Python that has Debian's python3-psycopg and python3-pytest (a python3
# earlier on PATH, say pyenv's, may not).
QUEUE_PYTHON=${QUEUE_PYTHON:-/usr/bin/python3}

# msg TEXT... -- progress and errors go to stderr, results to stdout.
msg() { printf '%s\n' "$*" >&2; }

# die TEXT... -- report an error and stop the script (exit handlers still run).
die() {
	msg "error: $*"
	exit 1
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# Exit handlers: at_exit CMD registers CMD (a string, run with eval) to run
# when the script exits, for any reason; handlers run last-registered first.
# INT, TERM and HUP turn into an exit so the handlers run then too.
QUEUE_EXIT_HANDLERS=()

at_exit() {
	QUEUE_EXIT_HANDLERS+=("$1")
	trap queue_run_exit_handlers EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

queue_run_exit_handlers() {
	local i
	for ((i = ${#QUEUE_EXIT_HANDLERS[@]} - 1; i >= 0; i--)); do
		eval "${QUEUE_EXIT_HANDLERS[i]}" || true
	done
	QUEUE_EXIT_HANDLERS=()
}

# run_as_pg_owner CMD... -- run CMD as the user that owns our clusters: the
# postgres OS user when we are root, ourselves otherwise. The environment is
# kept (runuser keeps it; PATH is passed explicitly in case login.defs
# resets it).
run_as_pg_owner() {
	if is_root; then
		runuser -u "$PG_OS_USER" -- env "PATH=$PATH" "$@"
	else
		"$@"
	fi
}

# pg_owner_name -- the name of that user (and so of the bootstrap superuser
# of clusters it creates).
pg_owner_name() {
	if is_root; then
		printf '%s\n' "$PG_OS_USER"
	else
		id -un
	fi
}

# port_in_use PORT -- true when something accepts TCP connections on PORT
# or a PostgreSQL socket for PORT exists in a usual directory.
port_in_use() {
	local port=$1
	[ -e "/tmp/.s.PGSQL.$port" ] && return 0
	[ -e "/var/run/postgresql/.s.PGSQL.$port" ] && return 0
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

# pick_free_port -- print a port in 20000..52767 that nobody uses.
pick_free_port() {
	local port tries
	for ((tries = 0; tries < 200; tries++)); do
		port=$((20000 + RANDOM))
		if ! port_in_use "$port"; then
			printf '%s\n' "$port"
			return 0
		fi
	done
	die "no free port found"
}
