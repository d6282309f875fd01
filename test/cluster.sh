#!/usr/bin/env bash
#
# test/cluster.sh -- a throwaway PostgreSQL 15 cluster with the extension
# preloaded, for tests and the demo.
#
# Sourced (after test/setup.sh or test/lib.sh):
#
#   cluster_start ['name = value' ...]   initdb into a new temp directory,
#                                        start it, export PGHOST, PGPORT,
#                                        PGUSER, PGDATABASE; extra arguments
#                                        are appended to postgresql.conf
#   cluster_stop                         stop it and remove the directory
#                                        (also done on exit, even on failure)
#
#   Also set: QUEUE_CLUSTER_DIR (the temp directory), QUEUE_CLUSTER_LOG
#   (the server log).
#
# Run directly, it builds and installs the extension (test/setup.sh), starts a
# cluster and runs a command against it, then removes the cluster:
#
#   test/cluster.sh                      psql on the throwaway cluster
#   test/cluster.sh CMD [ARG...]         CMD with PGHOST/PGPORT/PGUSER set
#
# The cluster: unix socket in the temp directory only (listen_addresses = ''),
# a free port, trust authentication, UTF8 with the C locale, fsync off,
# shared_preload_libraries = 'queue'. As root it runs as the postgres OS user
# (initdb refuses root).
#
# Copyright (c) 2026, the queue authors

# shellcheck source=test/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

QUEUE_CLUSTER_DIR=${QUEUE_CLUSTER_DIR:-}
QUEUE_CLUSTER_LOG=${QUEUE_CLUSTER_LOG:-}

# cluster_start ['name = value' ...] -- see the header.
# shellcheck disable=SC2120  # the arguments are optional
cluster_start() {
	local dir base attempt port line

	[ -z "$QUEUE_CLUSTER_DIR" ] || die "cluster_start: a cluster is already running in $QUEUE_CLUSTER_DIR"
	[ -x "$PG_BINDIR/initdb" ] || die "no initdb in $PG_BINDIR: run test/setup.sh"

	# The postgres user must be able to reach the directory, so as root use
	# /tmp rather than a TMPDIR that may be private. Keep the path short:
	# the socket path must fit in 107 bytes.
	if is_root; then
		id "$PG_OS_USER" >/dev/null 2>&1 ||
			die "there is no '$PG_OS_USER' OS user to run the cluster as (it comes with the postgresql-15 package)"
		base=/tmp
	else
		base=${TMPDIR:-/tmp}
	fi
	dir=$(mktemp -d "$base/queue-pg.XXXXXX")
	QUEUE_CLUSTER_DIR=$dir
	QUEUE_CLUSTER_LOG=$dir/server.log
	at_exit cluster_stop
	if is_root; then
		chown "$PG_OS_USER:" "$dir"
	fi

	if ! run_as_pg_owner "$PG_BINDIR/initdb" -D "$dir/data" --auth=trust \
		--encoding=UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1; then
		cat "$dir/initdb.log" >&2
		die "initdb failed"
	fi

	# A port can be taken between the check and the start: try a few.
	for attempt in 1 2 3; do
		port=$(pick_free_port)
		{
			printf '\n# added by test/cluster.sh\n'
			printf "listen_addresses = ''\n"
			printf 'port = %s\n' "$port"
			printf "unix_socket_directories = '%s'\n" "$dir"
			printf "shared_preload_libraries = '%s'\n" "$QUEUE_EXTENSION"
			printf 'fsync = off\n'
			printf 'full_page_writes = off\n'
			printf 'synchronous_commit = off\n'
			printf 'max_prepared_transactions = 10\n'
			printf "log_line_prefix = '%%m [%%p] %%q%%a '\n"
			for line in "$@"; do
				printf '%s\n' "$line"
			done
		} >>"$dir/data/postgresql.conf"
		if run_as_pg_owner "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$QUEUE_CLUSTER_LOG" \
			-w -t 60 start >"$dir/pg_ctl.log" 2>&1; then
			# Connection settings from the environment must not send
			# clients elsewhere.
			unset PGHOSTADDR PGSERVICE PGSERVICEFILE PGSSLMODE PGREQUIRESSL \
				PGPASSWORD PGPASSFILE PGTARGETSESSIONATTRS PGCONNECT_TIMEOUT
			export PGHOST=$dir PGPORT=$port PGDATABASE=postgres
			PGUSER=$(pg_owner_name)
			export PGUSER
			return 0
		fi
		if [ "$attempt" -lt 3 ] && grep -q 'could not create .*socket\|Address already in use' \
			"$QUEUE_CLUSTER_LOG" 2>/dev/null; then
			continue
		fi
		break
	done
	cat "$dir/pg_ctl.log" >&2
	tail -n 30 "$QUEUE_CLUSTER_LOG" >&2 2>/dev/null || true
	die "the throwaway cluster did not start (log above)"
}

# cluster_stop -- stop the cluster if it runs and remove its directory.
# Safe to call more than once.
cluster_stop() {
	local dir=$QUEUE_CLUSTER_DIR
	[ -n "$dir" ] || return 0
	QUEUE_CLUSTER_DIR=
	if [ -f "$dir/data/postmaster.pid" ]; then
		run_as_pg_owner "$PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
			run_as_pg_owner "$PG_BINDIR/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 ||
			true
	fi
	rm -rf "$dir"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	# shellcheck source=test/setup.sh
	. "$QUEUE_ROOT/test/setup.sh"
	cluster_start
	if [ "$#" -eq 0 ]; then
		set -- psql -X
	fi
	msg "cluster: PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=$PGUSER (removed on exit)"
	status=0
	"$@" || status=$?
	exit "$status"
fi
