# shellcheck shell=bash disable=SC2154,SC2034
# (prog and the settings come from the runner; clk_tck etc. are for it)
# bench/lib.sh: shared by bench/held-xmin, bench/backlog, bench/leased,
# bench/queues and bench/wake-prepared (sourced, not run).  The throwaway
# cluster is bench/run's, with the same settings (bench/run keeps its own copy
# and does not source this file, so its behaviour is unchanged).
#
# The runner sets, before sourcing:  prog (its name, for messages)
# and, before cluster_start:         keep (0/1), sync_commit (on/off),
#                                     maxconn (optional, default 100)
# cluster_start then leaves: tmp (the cluster's temp directory), PGHOST,
# PGPORT, PGUSER exported, database `bench` with the floor table raw_q and
# the extension, pgversion, ncpu.  The cluster is stopped and removed on exit
# (also on error or Ctrl-C), after the background processes recorded with
# bg_track PID have been ended.
#
# Copyright (c) 2026, the queue authors

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
tmpbase=${TMPDIR:-/tmp}
: "${keep:=0}" "${sync_commit:=on}" "${maxconn:=100}"

# bench/run's payload: an order-like object of 99 bytes.
BODY='{"order_id":100042,"customer":"cust-7731","sku":"SKU-5512","qty":3,"amount":59.97,"currency":"EUR"}'

die() { echo "$prog: $*" >&2; exit 1; }
warn() { echo "$prog: $*" >&2; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]] && (( $1 > 0 )); }
is_uint0() { [[ $1 =~ ^[0-9]+$ ]]; }

ncpu=$(nproc 2>/dev/null || echo 2)

# --- the installed extension ---------------------------------------------------

# need_extension: the extension must be installed (the runners never build it).
# queue.so may be missing for a moment while someone reinstalls it: wait up to
# 5 minutes for it.
need_extension() {
	[[ -x $PGBIN/initdb && -x $PGBIN/pgbench ]] || die "no PostgreSQL binaries in $PGBIN"
	libdir=$("$PGBIN/pg_config" --pkglibdir)
	sharedir=$("$PGBIN/pg_config" --sharedir)
	local i
	for i in $(seq 1 30); do
		[[ -f $libdir/queue.so && -f $sharedir/extension/queue.control ]] && break
		(( i == 1 )) && warn "waiting for $libdir/queue.so to be installed ..."
		sleep 10
	done
	[[ -f $libdir/queue.so && -f $sharedir/extension/queue.control ]] ||
		die "the queue extension is not installed in $libdir (run make install first)"
	so_at_start=$(so_sum)
}
# Which build is measured: the server preloads queue.so at start and every
# backend reuses that copy, so a reinstall during the run changes nothing
# measured; so_note_end says so when it happened.
so_sum() { sha256sum "$libdir/queue.so" 2>/dev/null | cut -c1-12; }
so_note_end() {
	local now
	now=$(so_sum)
	if [[ $now != "$so_at_start" ]]; then
		echo "note: queue.so was reinstalled during the run (now sha256 ${now:-missing}); these figures" \
			"are for the build the server preloaded at start, sha256 $so_at_start."
	fi
}

# --- background processes -------------------------------------------------------

bg_pids=()
bg_track() { bg_pids+=("$1"); }
# bg_forget PID: it has ended and been waited for; its pid may be reused
bg_forget() {
	local p keep_=()
	for p in "${bg_pids[@]}"; do [[ $p == "$1" ]] || keep_+=("$p"); done
	bg_pids=("${keep_[@]}")
}

# --- the throwaway cluster (as bench/run) --------------------------------------------

owner=$(id -un)
as_owner() { "$@"; }
if (( EUID == 0 )); then
	owner=postgres
	as_owner() { runuser -u "$owner" -- "$@"; }
fi

tmp=
data=
log=
started=0

lib_cleanup() {
	local rc=$? p
	for p in "${bg_pids[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	if (( rc != 0 )) && [[ -n $log && -s $log ]]; then
		echo "$prog: the end of the server log:" >&2
		tail -n 25 "$log" >&2
	fi
	if (( started )); then
		as_owner "$PGBIN/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	if [[ -n $tmp ]]; then
		if (( keep )); then
			echo "$prog: cluster kept in $tmp" >&2
		else
			rm -rf "$tmp"
		fi
	fi
	exit "$rc"
}

# cluster_start ['name = value' ...]: extra lines for postgresql.conf.
# shellcheck disable=SC2120  # the arguments are optional
cluster_start() {
	if (( EUID == 0 )); then
		id "$owner" >/dev/null 2>&1 || die "running as root needs a 'postgres' OS user to own the cluster"
	fi
	trap lib_cleanup EXIT
	trap 'exit 130' INT TERM

	tmp=$(mktemp -d "$tmpbase/queue-bench.XXXXXX")
	chmod 755 "$tmp"
	[[ $owner == "$(id -un)" ]] || chown "$owner" "$tmp"
	data=$tmp/data
	log=$tmp/server.log

	# A port nothing listens on (the server itself listens on its socket only).
	local port='' p _
	for _ in $(seq 1 200); do
		p=$(( 20000 + RANDOM % 40000 ))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && [[ ! -e /tmp/.s.PGSQL.$p ]]; then
			port=$p
			break
		fi
	done
	[[ -n $port ]] || die "no free port found"
	(( maxconn < 100 )) && maxconn=100

	as_owner "$PGBIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
		>"$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log" >&2; die "initdb failed"; }

	{
		cat <<EOF

# --- $prog (bench/lib.sh, as bench/run) ---
listen_addresses = ''
unix_socket_directories = '$tmp'
port = $port
max_connections = $maxconn
shared_preload_libraries = 'queue'
fsync = on
synchronous_commit = $sync_commit
shared_buffers = 512MB
max_wal_size = 8GB
min_wal_size = 1GB
checkpoint_timeout = 30min
jit = off
EOF
		local line
		for line in "$@"; do echo "$line"; done
	} | as_owner tee -a "$data/postgresql.conf" >/dev/null

	as_owner "$PGBIN/pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null ||
		{ tail -n 30 "$log" >&2; die "the server did not start"; }
	started=1

	export PGHOST=$tmp PGPORT=$port PGUSER=postgres
	unset PGDATABASE PGPASSWORD PGSERVICE PGOPTIONS

	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d postgres -c 'CREATE DATABASE bench' >/dev/null
	sql <<'EOF'
CREATE TABLE raw_q (
  id             bigserial PRIMARY KEY,
  body           jsonb       NOT NULL,
  visible_at     timestamptz NOT NULL DEFAULT now(),
  delivery_count int         NOT NULL DEFAULT 0
);
EOF
	sql -c 'CREATE EXTENSION queue' 2>"$tmp/ext.err" ||
		{ cat "$tmp/ext.err" >&2; die "CREATE EXTENSION queue failed"; }
	pgversion=$(sql -c 'SHOW server_version')
}

sql() { "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d bench "$@"; }

# No dead tuples or pending analyze left by the previous run, and a fresh
# checkpoint (as bench/run before each pgbench run).
settle() { sql -c 'VACUUM ANALYZE' -c 'CHECKPOINT'; }

# The floor table emptied; a queue dropped (if there) and created.
reset_floor() { sql -c 'TRUNCATE raw_q RESTART IDENTITY'; }
reset_queue() { # name [create options, SQL]
	sql -c "SELECT queue.drop('$1', true)" -c "SELECT queue.create('$1'${2:+, $2})" >/dev/null
}
# n messages of the payload: the floor with one INSERT, a queue with
# send_batch of 1000 (queue.max_batch) in one DO block (one transaction).
fill_floor() { # n
	sql -v body="$BODY" -v n="$1" <<'EOF'
INSERT INTO raw_q(body) SELECT :'body'::jsonb FROM generate_series(1, :n);
EOF
}
fill_queue() { # name n
	sql <<EOF
DO \$\$BEGIN
  FOR i IN 1 .. $(( $2 / 1000 )) LOOP
    PERFORM queue.send_batch('$1', array_fill('$BODY'::jsonb, ARRAY[1000]));
  END LOOP;
  IF $(( $2 % 1000 )) > 0 THEN
    PERFORM queue.send_batch('$1', array_fill('$BODY'::jsonb, ARRAY[$(( $2 % 1000 ))]));
  END IF;
END\$\$;
EOF
}

# The header every runner prints first.
print_header() { # title
	echo "$1: PostgreSQL $pgversion, $ncpu CPUs, fsync on, synchronous_commit $sync_commit, body ${#BODY} bytes"
	echo "extension: queue $(sql -c "SELECT extversion FROM pg_extension WHERE extname = 'queue'"), queue.so sha256 $so_at_start"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
}

# --- numbers ------------------------------------------------------------------

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
	if (NR == 0) exit; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
min_of() { printf '%s\n' "$@" | sort -g | head -n 1; }
max_of() { printf '%s\n' "$@" | sort -g | tail -n 1; }
fmt_rate() { awk -v x="$1" 'BEGIN { if (x == "") print "-"; else printf "%.0f", x }'; }
ratio_of() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print ""; else printf "%.4f", a / b }'; }
# "m (a-b)" with 2 decimals, or "-"
fmt_range() { # median min max
	awk -v m="$1" -v a="$2" -v b="$3" 'BEGIN { if (m == "") print "-"; else printf "%.2f (%.2f-%.2f)", m, a, b }'
}
now_s() { date +%s.%N; }

# CPU ticks (utime + stime, in 1/CLK_TCK s) of one process; empty if gone.
proc_ticks() {
	local stat rest
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	rest=${stat##*) }
	# after the command: state ppid pgrp ... utime is the 12th field, stime the 13th
	awk '{ print $12 + $13 }' <<<"$rest"
}
clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
