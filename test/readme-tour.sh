#!/usr/bin/env bash
#
# test/readme-tour.sh -- run the SQL of README.md's install section and
# five-minute tour as written, in order, and print TAP (one test per block).
#
# The blocks are the ```sql fences between the lines
# '<!-- readme-tour: start' and '<!-- readme-tour: end' of README.md. Each
# runs with psql -v ON_ERROR_STOP=1 in a new database, readme_tour, on the
# server of the libpq environment (PGHOST, PGPORT, PGUSER: test/run-all.sh
# runs it on its throwaway cluster with the extension preloaded; by hand:
# test/cluster.sh test/readme-tour.sh). The database, and the roles the
# tour creates, are dropped at the end. Exits non-zero if a block failed.
#
# Copyright (c) 2026, the queue authors

set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readme=$root/README.md
db=readme_tour
tmp=$(mktemp -d "${TMPDIR:-/tmp}/readme-tour.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

psql_admin() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }

# The blocks, one file each (tmp/NNN.sql), and the README line each starts on.
awk -v dir="$tmp" '
	/^<!-- readme-tour: start/ { on = 1; next }
	/^<!-- readme-tour: end/ { on = 0; next }
	on && /^```sql[ \t]*$/ { n++; file = sprintf("%s/%03d.sql", dir, n); print NR > (dir "/lines"); inblock = 1; next }
	inblock && /^```[ \t]*$/ { inblock = 0; close(file); next }
	inblock { print > file }
' "$readme"
mapfile -t lines < <(cat "$tmp/lines" 2>/dev/null)
blocks=${#lines[@]}

echo "1..$((blocks + 1))"
if [ "$blocks" -ge 10 ]; then
	echo "ok 1 - README.md has the tour's blocks between its markers ($blocks)"
else
	echo "not ok 1 - README.md has the tour's blocks between its markers (found $blocks)"
fi

# roles the tour creates: dropped before (a rerun) and after
roles=$(cat "$tmp"/*.sql 2>/dev/null | grep -o 'CREATE ROLE [a-z_]*' | awk '{print $3}' || true)
cleanup() {
	psql_admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
	for role in $roles; do
		psql_admin -c "DROP ROLE IF EXISTS $role" >/dev/null
	done
}
cleanup
psql_admin -c "CREATE DATABASE $db" >/dev/null

failed=0
for ((i = 0; i < blocks; i++)); do
	file=$(printf '%s/%03d.sql' "$tmp" $((i + 1)))
	if psql -X -v ON_ERROR_STOP=1 -d "$db" -f "$file" </dev/null >"$tmp/out" 2>&1; then
		echo "ok $((i + 2)) - README.md line ${lines[i]}: $(head -n1 "$file")"
	else
		failed=1
		echo "not ok $((i + 2)) - README.md line ${lines[i]}: $(head -n1 "$file")"
		sed 's/^/# /' "$tmp/out"
	fi
done

cleanup
exit "$failed"
