#!/usr/bin/env bash
#
# test/run-all.sh -- build, install and run every test suite of the extension.
#
#   setup        test/setup.sh: Debian packages (installed when root), make,
#                make install
#   regress      pg_regress over test/sql        (make installcheck, REGRESS part)
#   isolation    isolation specs, test/isolation  (make installcheck, ISOLATION part)
#   pgtap        pg_prove over test/pgtap/*.sql   (as make pgtap)
#   readme       README.md's install section and tour, block by block
#                (test/readme-tour.sh, through prove)
#   python       examples/python's tests (pytest, Debian's python3)
#   node         examples/node's tests (node --test)
#   tap          Perl TAP tests, test/t/*.pl      (make installcheck, TAP part;
#                they make their own clusters with PostgreSQL::Test::Cluster)
#
# regress, isolation, pgtap, readme, python and node run against one throwaway cluster
# (test/cluster.sh) with the extension preloaded. A suite with no tests is
# skipped. As root, the suites run as the postgres OS user in a copy of the
# repository owned by postgres (initdb, and so PostgreSQL::Test::Cluster,
# refuse root); the outputs (results/, output_iso/, regression.diffs,
# tmp_check/log) are copied back into the repository afterwards.
#
# Prints one line per suite, the diffs and log tails of what failed, and last
# a line 'N passed, N failed' counting individual tests (a suite that fails
# without a failing test, say a build or connection error, counts as one
# failure). Exits non-zero if anything failed. Suite logs and the test
# cluster's server log: log/run-all/.
#
# Environment: PG_CONFIG, QUEUE_SUITE_TIMEOUT (seconds per suite; default
# 900 when CI is set, otherwise none).
#
# Copyright (c) 2026, the queue authors

set -euo pipefail

# shellcheck source=test/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=test/cluster.sh
. "$QUEUE_ROOT/test/cluster.sh"

if [ -n "${CI:-}" ]; then
	SUITE_TIMEOUT=${QUEUE_SUITE_TIMEOUT:-900}
else
	SUITE_TIMEOUT=${QUEUE_SUITE_TIMEOUT:-0} # 0: no limit
fi

LOGDIR=$QUEUE_ROOT/log/run-all
TOTAL_PASSED=0
TOTAL_FAILED=0
ANY_SUITE_FAILED=0
CLUSTER_SUITE_FAILED=0

# record SUITE PASSED FAILED RC -- add a suite's counts to the totals and
# print its line. A non-zero RC with no failed test counts as one failure.
record() {
	local suite=$1 passed=$2 failed=$3 rc=$4
	if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
		failed=1
	fi
	TOTAL_PASSED=$((TOTAL_PASSED + passed))
	TOTAL_FAILED=$((TOTAL_FAILED + failed))
	if [ "$rc" -ne 0 ] || [ "$failed" -ne 0 ]; then
		ANY_SUITE_FAILED=1
		if [ "$rc" -eq 124 ] && [ "$SUITE_TIMEOUT" != 0 ]; then
			printf '%s: %s passed, %s failed (timed out after %ss)\n' "$suite" "$passed" "$failed" "$SUITE_TIMEOUT"
		else
			printf '%s: %s passed, %s failed (exit status %s)\n' "$suite" "$passed" "$failed" "$rc"
		fi
		return 1
	fi
	printf '%s: %s passed, %s failed\n' "$suite" "$passed" "$failed"
}

skip() {
	printf '%s: skipped (%s)\n' "$1" "$2"
}

# has_files GLOB -- true when GLOB matches at least one file.
has_files() {
	compgen -G "$1" >/dev/null
}

# run_in_workdir LOG CMD... -- run CMD in the work directory as the cluster
# owner, under timeout (which also gives it a process group of its own, so
# that an exit handler can end the whole suite), output to LOG. Returns
# CMD's status. It runs in the background and is waited for, so that a
# signal to this script is handled at once rather than after the suite.
SUITE_PID=
KILL_SUITE_REGISTERED=
run_in_workdir() {
	local log=$1 rc=0
	shift
	# Registered here, after the cluster and the work directory, so that it
	# runs before their handlers.
	if [ -z "$KILL_SUITE_REGISTERED" ]; then
		at_exit kill_suite
		KILL_SUITE_REGISTERED=1
	fi
	if is_root; then
		set -- runuser -u "$PG_OS_USER" -- env "PATH=$PATH" "$@"
	fi
	(cd "$WORKDIR" && exec timeout -k 30 "$SUITE_TIMEOUT" "$@") </dev/null >"$log" 2>&1 &
	SUITE_PID=$!
	wait "$SUITE_PID" || rc=$?
	SUITE_PID=
	return "$rc"
}

# kill_suite -- exit handler: end a suite still running, with its children.
kill_suite() {
	[ -n "$SUITE_PID" ] || return 0
	kill -TERM -- "-$SUITE_PID" 2>/dev/null || kill -TERM "$SUITE_PID" 2>/dev/null || true
	sleep 1
	kill -KILL -- "-$SUITE_PID" 2>/dev/null || true
	SUITE_PID=
}

# count_pg_regress LOG -- print "passed failed" from pg_regress (PG15) output:
#   test name                        ... ok           12 ms
#        name (in a parallel group)  ... FAILED       12 ms
#   test name                        ... failed (ignored)
count_pg_regress() {
	awk '
		/^(test |     )[^ ].* \.\.\. / {
			if ($0 ~ / \.\.\. (ok|failed \(ignored\))/) passed++
			else failed++
		}
		END { printf "%d %d\n", passed, failed }' "$1"
}

# count_tap LOG -- print "passed failed" from a TAP::Harness summary (prove,
# pg_prove): Tests=N from the totals line minus the failed subtests of the
# Test Summary Report; a file that failed without a failed subtest (it died,
# bad plan, non-zero exit) counts as one failure.
count_tap() {
	awk '
		/^Files=[0-9]+, Tests=[0-9]+/ {
			t = $0; sub(/^Files=[0-9]+, Tests=/, "", t); sub(/[^0-9].*/, "", t)
			tests = t + 0; seen = 1
		}
		/\(Wstat: [0-9]+.*Tests: [0-9]+ Failed: [0-9]+\)/ {
			w = $0; sub(/.*\(Wstat: /, "", w); sub(/[^0-9].*/, "", w)
			k = $0; sub(/.*Failed: /, "", k); sub(/[^0-9].*/, "", k)
			subfailed += k
			pending = (k == 0 && w == 0)   # may still have parse errors
			if (k == 0 && w != 0) filefailed++
			next
		}
		/^  Parse errors:/ { if (pending) { filefailed++; pending = 0 } }
		END {
			if (!seen) { printf "0 0\n"; exit }
			printf "%d %d\n", tests - subfailed, subfailed + filefailed
		}' "$1"
}

# show_head FILE TITLE [LINES] -- print the start of FILE under a title.
show_head() {
	[ -s "$1" ] || return 0
	printf '\n----- %s (first %s lines) -----\n' "$2" "${3:-200}"
	head -n "${3:-200}" "$1"
	printf -- '----- end of %s -----\n\n' "$2"
}

# show_tail FILE TITLE [LINES] -- print the end of FILE under a title.
show_tail() {
	[ -s "$1" ] || return 0
	printf '\n----- %s (last %s lines) -----\n' "$2" "${3:-60}"
	tail -n "${3:-60}" "$1"
	printf -- '----- end of %s -----\n\n' "$2"
}

# show_server_trouble -- the crashes and fatal errors in the test cluster's
# log (the expected ERRORs of the tests are left out), if any.
show_server_trouble() {
	local trouble=$LOGDIR/server-trouble.log
	grep -E 'PANIC|TRAP:|FATAL|terminated by signal|exited with exit code|server process' \
		"$QUEUE_CLUSTER_LOG" >"$trouble" 2>/dev/null || true
	show_tail "$trouble" "crashes and fatal errors in the test cluster's server log" 40
}

suite_regress() {
	local log=$LOGDIR/regress.log rc=0 passed failed
	if ! has_files "$WORKDIR/test/sql/*.sql"; then
		skip regress "no test/sql/*.sql"
		return 0
	fi
	run_in_workdir "$log" make installcheck PG_CONFIG="$PG_CONFIG" ISOLATION= TAP_TESTS= || rc=$?
	read -r passed failed < <(count_pg_regress "$log")
	if ! record regress "$passed" "$failed" "$rc"; then
		CLUSTER_SUITE_FAILED=1
		if [ -s "$WORKDIR/regression.diffs" ]; then
			show_head "$WORKDIR/regression.diffs" regression.diffs
		else
			show_tail "$log" "regress output"
		fi
	fi
}

suite_isolation() {
	local log=$LOGDIR/isolation.log rc=0 passed failed
	if ! has_files "$WORKDIR/test/isolation/specs/*.spec"; then
		skip isolation "no test/isolation/specs/*.spec"
		return 0
	fi
	run_in_workdir "$log" make installcheck PG_CONFIG="$PG_CONFIG" REGRESS= TAP_TESTS= || rc=$?
	read -r passed failed < <(count_pg_regress "$log")
	if ! record isolation "$passed" "$failed" "$rc"; then
		CLUSTER_SUITE_FAILED=1
		if [ -s "$WORKDIR/output_iso/regression.diffs" ]; then
			show_head "$WORKDIR/output_iso/regression.diffs" output_iso/regression.diffs
		else
			show_tail "$log" "isolation output"
		fi
	fi
}

suite_pgtap() {
	local log=$LOGDIR/pgtap.log rc=0 passed failed db=queue_pgtap
	if ! has_files "$WORKDIR/test/pgtap/*.sql"; then
		skip pgtap "no test/pgtap/*.sql"
		return 0
	fi
	# A fresh database, and proof that CREATE EXTENSION pgtap works there
	# (the tests create it themselves).
	if ! {
		psql -X -q -v ON_ERROR_STOP=1 -d postgres \
			-c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" &&
			psql -X -q -v ON_ERROR_STOP=1 -d "$db" \
				-c 'CREATE EXTENSION pgtap' -c 'DROP EXTENSION pgtap'
	} >"$log" 2>&1; then
		record pgtap 0 1 1 || true
		CLUSTER_SUITE_FAILED=1
		show_tail "$log" "pgtap preparation (is postgresql-15-pgtap installed?)"
		return 0
	fi
	PGDATABASE=$db run_in_workdir "$log" pg_prove --ext .sql -d "$db" test/pgtap/ || rc=$?
	read -r passed failed < <(count_tap "$log")
	if ! record pgtap "$passed" "$failed" "$rc"; then
		CLUSTER_SUITE_FAILED=1
		show_tail "$log" "pg_prove output" 100
	fi
}

# count_pytest LOG -- print "passed failed" from pytest's closing line
# ("== 5 passed, 1 failed, 2 errors in 3.1s =="; -q prints it without the
# equals signs).
count_pytest() {
	awk '
		/ in [0-9.]+s/ && /(passed|failed|error)/ {
			passed = 0; failed = 0
			n = split($0, w, /[ ,=]+/)
			for (i = 2; i <= n; i++) {
				if (w[i] == "passed") passed = w[i - 1]
				if (w[i] == "failed" || w[i] ~ /^errors?$/) failed += w[i - 1]
			}
		}
		END { printf "%d %d\n", passed, failed }' "$1"
}

# count_node_test LOG -- print "passed failed" from node --test's summary
# ("# pass 6", "# fail 0", "# cancelled 0").
count_node_test() {
	awk '
		/^# pass [0-9]+$/ { passed = $3 }
		/^# (fail|cancelled) [0-9]+$/ { failed += $3 }
		END { printf "%d %d\n", passed, failed }' "$1"
}

suite_readme() {
	local log=$LOGDIR/readme.log rc=0 passed failed
	if [ ! -x "$WORKDIR/test/readme-tour.sh" ]; then
		skip readme "no test/readme-tour.sh"
		return 0
	fi
	run_in_workdir "$log" prove -v -e bash test/readme-tour.sh || rc=$?
	read -r passed failed < <(count_tap "$log")
	if ! record readme "$passed" "$failed" "$rc"; then
		CLUSTER_SUITE_FAILED=1
		show_tail "$log" "prove output (README.md's tour)" 60
	fi
}

suite_python() {
	local log=$LOGDIR/python.log rc=0 passed failed
	if ! has_files "$WORKDIR/examples/python/test_*.py"; then
		skip python "no examples/python/test_*.py"
		return 0
	fi
	# -P: not the work directory on sys.path (its queue.so would shadow
	# Python's own module queue); no cache: the directory is the tests' own
	run_in_workdir "$log" bash -c 'cd examples/python && exec "$0" -P -m pytest -q -p no:cacheprovider' \
		"$QUEUE_PYTHON" || rc=$?
	read -r passed failed < <(count_pytest "$log")
	if ! record python "$passed" "$failed" "$rc"; then
		CLUSTER_SUITE_FAILED=1
		show_tail "$log" "pytest output (examples/python)" 80
	fi
}

suite_node() {
	local log=$LOGDIR/node.log rc=0 passed failed
	if ! has_files "$WORKDIR/examples/node/test/*.test.js"; then
		skip node "no examples/node/test/*.test.js"
		return 0
	fi
	run_in_workdir "$log" bash -c 'cd examples/node && exec node --test --test-reporter=tap' || rc=$?
	read -r passed failed < <(count_node_test "$log")
	if ! record node "$passed" "$failed" "$rc"; then
		CLUSTER_SUITE_FAILED=1
		show_tail "$log" "node --test output (examples/node)" 80
	fi
}

suite_tap() {
	local log=$LOGDIR/tap.log rc=0 passed failed file name failed_files
	if ! has_files "$WORKDIR/test/t/*.pl"; then
		skip tap "no test/t/*.pl"
		return 0
	fi
	run_in_workdir "$log" make installcheck PG_CONFIG="$PG_CONFIG" REGRESS= ISOLATION= || rc=$?
	read -r passed failed < <(count_tap "$log")
	if ! record tap "$passed" "$failed" "$rc"; then
		show_tail "$log" "prove output" 60
		# The log of each failed test file (PostgreSQL::Test::Utils writes
		# tmp_check/log/regress_log_NAME), or of all when none is named.
		mapfile -t failed_files < <(sed -n 's/^\(test\/t\/[^ ]*\.pl\) (Wstat:.*/\1/p' "$log")
		if [ "${#failed_files[@]}" -eq 0 ]; then
			failed_files=("$WORKDIR"/test/t/*.pl)
		fi
		for file in "${failed_files[@]}"; do
			name=$(basename "$file" .pl)
			show_tail "$WORKDIR/tmp_check/log/regress_log_$name" "tmp_check/log/regress_log_$name" 80
		done
	fi
}

# copy_outputs_back -- as root the suites ran in a copy: bring their outputs
# back to where pg_regress and prove leave them, for a look after the run.
copy_outputs_back() {
	local item
	[ "$WORKDIR" != "$QUEUE_ROOT" ] || return 0
	for item in results output_iso regression.diffs regression.out tmp_check; do
		rm -rf "${QUEUE_ROOT:?}/$item"
	done
	for item in results output_iso regression.diffs regression.out; do
		if [ -e "$WORKDIR/$item" ]; then
			cp -R "$WORKDIR/$item" "$QUEUE_ROOT/$item"
		fi
	done
	if [ -d "$WORKDIR/tmp_check/log" ]; then
		mkdir -p "$QUEUE_ROOT/tmp_check"
		cp -R "$WORKDIR/tmp_check/log" "$QUEUE_ROOT/tmp_check/log"
	fi
}

main() {
	rm -rf "$LOGDIR"
	mkdir -p "$LOGDIR"

	# Setup in a child: when it fails, we still print the closing line.
	if ! "$QUEUE_ROOT/test/setup.sh" </dev/null; then
		printf 'setup: failed (packages or build, see above)\n'
		printf '0 passed, 1 failed\n'
		exit 1
	fi
	case "$PATH" in
	"$PG_BINDIR:"*) ;;
	*) PATH="$PG_BINDIR:$PATH" ;;
	esac
	export PATH

	if is_root; then
		WORKDIR=$(mktemp -d /tmp/queue-tests.XXXXXX)
		at_exit "rm -rf '$WORKDIR'"
		# tar exits 1 when a file changed while it was read (someone is
		# editing): that copy is still good enough to test.
		{
			tar -C "$QUEUE_ROOT" --exclude=./.git --exclude=./results \
				--exclude=./output_iso --exclude=./tmp_check --exclude=./log \
				--exclude=./regression.diffs --exclude=./regression.out \
				-cf - . || [ "$?" -eq 1 ]
		} | tar -C "$WORKDIR" -xf -
		chown -R "$PG_OS_USER:" "$WORKDIR"
	else
		WORKDIR=$QUEUE_ROOT
	fi

	if has_files "$WORKDIR/test/sql/*.sql" ||
		has_files "$WORKDIR/test/isolation/specs/*.spec" ||
		has_files "$WORKDIR/test/pgtap/*.sql"; then
		cluster_start
		suite_regress
		suite_isolation
		suite_pgtap
		suite_readme
		suite_python
		suite_node
		cp "$QUEUE_CLUSTER_LOG" "$LOGDIR/server.log" 2>/dev/null || true
		if [ "$CLUSTER_SUITE_FAILED" -ne 0 ]; then
			show_server_trouble
		fi
		cluster_stop
	else
		skip regress "no test/sql/*.sql"
		skip isolation "no test/isolation/specs/*.spec"
		skip pgtap "no test/pgtap/*.sql"
		skip readme "no cluster suites"
		skip python "no cluster suites"
		skip node "no cluster suites"
	fi
	suite_tap

	copy_outputs_back

	if [ "$ANY_SUITE_FAILED" -ne 0 ]; then
		printf 'outputs: %s (results/, output_iso/, regression.diffs, tmp_check/log/, log/run-all/)\n' "$QUEUE_ROOT"
	fi
	printf '%s passed, %s failed\n' "$TOTAL_PASSED" "$TOTAL_FAILED"
	if [ "$ANY_SUITE_FAILED" -ne 0 ]; then
		exit 1
	fi
}

main "$@"
