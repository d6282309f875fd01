#!/usr/bin/env bash
#
# examples/demo.sh -- build and install the extension, start a throwaway
# PostgreSQL 15 cluster with it preloaded, run examples/demo.sql there with
# psql, and remove the cluster again.
#
# Run as root on a fresh Debian 12 machine, it first installs the Debian
# packages it needs (test/setup.sh). Nothing is left running afterwards.
#
# Copyright (c) 2026, the queue authors

set -euo pipefail

# shellcheck source=test/setup.sh
. "$(dirname "${BASH_SOURCE[0]}")/../test/setup.sh"
# shellcheck source=test/cluster.sh
. "$QUEUE_ROOT/test/cluster.sh"

cluster_start
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c 'CREATE DATABASE demo'
status=0
psql -X -v ON_ERROR_STOP=1 -d demo -f "$QUEUE_ROOT/examples/demo.sql" </dev/null || status=$?
if [ "$status" -ne 0 ]; then
	msg "demo: psql failed (exit status $status); the server log says:"
	tail -n 20 "$QUEUE_CLUSTER_LOG" >&2 || true
fi
cluster_stop
exit "$status"
