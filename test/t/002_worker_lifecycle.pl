# The background worker's life: which databases get a worker, settings
# reloaded on SIGHUP, a queue dropped under it, being killed (SIGTERM,
# kill -9, an immediate shutdown), dropping a database that has one, and
# the server without the preload.
#
# Waits are polls (poll_query_until) with a bound where the contract
# promises speed ("within a few seconds").  A check that something does NOT
# happen needs a window of time: those windows are a few worker intervals
# long and say so.
#
# Copyright (c) 2026, the queue authors
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('worker_lifecycle');
$node->init;
$node->append_conf('postgresql.conf', qq{
queue.worker_interval = '200ms'
restart_after_crash = on
});
$node->start;

# Like poll_query_until (run $query every 0.1 s until it prints $expected,
# 't' by default), but giving up after $seconds of wall-clock time: for
# what the contract promises within a few seconds.
sub poll_within
{
	my ($n, $seconds, $db, $query, $expected) = @_;
	$expected //= 't';
	my $deadline = time + $seconds;
	my ($ret, $stdout, $stderr);
	while (1)
	{
		($ret, $stdout, $stderr) = $n->psql($db, $query);
		return 1 if defined $ret && $ret == 0 && $stdout eq $expected;
		last if time > $deadline;
		usleep(100_000);
	}
	diag "still not '$expected' after $seconds s: $query\nlast output: '$stdout'"
	  . ($stderr ? "\nstderr: $stderr" : '');
	return 0;
}

# The pid of the queue worker connected to $db ('' when none).
sub worker_pid
{
	my ($n, $db) = @_;
	return $n->safe_psql('postgres', qq{
		SELECT pid FROM pg_stat_activity
		 WHERE backend_type = 'queue worker' AND datname = '$db'});
}

# Poll until a worker other than $old_pid (if given) serves $db and has
# finished a step; returns whether it did within $seconds.
sub wait_for_worker
{
	my ($n, $seconds, $db, $old_pid) = @_;
	$old_pid //= 0;
	return poll_within($n, $seconds, 'postgres', qq{
		SELECT count(*) > 0 FROM pg_stat_activity
		 WHERE backend_type = 'queue worker' AND datname = '$db'
		   AND pid <> $old_pid})
	  && poll_within($n, $seconds, $db, qq{
		SELECT count(*) > 0 FROM queue.worker_status
		 WHERE database = current_database() AND pid IS NOT NULL
		   AND pid <> $old_pid AND runs > 0});
}

sub runs
{
	my ($n, $db) = @_;
	return $n->safe_psql($db, qq{
		SELECT runs FROM queue.worker_status WHERE database = current_database()});
}

# A message of queue $q in $db delivered max_deliveries (1) times whose
# visibility timeout has run out: the worker's to dead-letter.
sub make_poison
{
	my ($n, $db, $q) = @_;
	my $out = $n->safe_psql($db, qq{
		SET client_min_messages = warning;
		SELECT queue.create('$q', max_deliveries => 1, if_not_exists => true);
		SELECT queue.send('$q', '{"poison": true}');
		SELECT id FROM queue.read('$q', 1, '0 seconds');});
	my @lines = split /\n/, $out;
	return $lines[-1];
}

sub in_dead_letters
{
	my ($n, $db, $q, $id) = @_;
	return qq{SELECT (SELECT count(*) FROM queue.dead_letters('$q') WHERE id = $id) = 1
	              AND (SELECT count(*) FROM queue.q_$q WHERE id = $id) = 0};
}

# ---------------------------------------------------------------------
# Which databases get a worker
# ---------------------------------------------------------------------

# Two databases with the extension, created before the library is
# preloaded; the server restarts with the preload.
$node->safe_psql('postgres', $_)
  for map { "CREATE DATABASE $_" } qw(db1 db2 db3 db4 nodb);
for my $db (qw(db1 db2))
{
	$node->safe_psql($db, q{
		SET client_min_messages = error;
		CREATE EXTENSION queue;
		SELECT queue.create('jobs');});
}
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'queue'");
$node->restart;
my $t0 = time;
ok(wait_for_worker($node, 10, 'db1') && wait_for_worker($node, 10, 'db2'),
	'at server start a worker runs for each of two databases with the extension');
cmp_ok(time - $t0, '<', 10, '... within a few seconds');

# db3 existed all along (the launcher probed it when it started); the
# extension comes later.  (The launcher's probe and CREATE EXTENSION must
# not overlap here: see the next test for what happens then.)
$t0 = time;
my ($ret, $stdout, $stderr) = $node->psql('db3', 'CREATE EXTENSION queue');
is($ret, 0, 'CREATE EXTENSION in db3');
unlike($stderr, qr/worker is not running/, 'no warning about the worker when preloaded');
ok(wait_for_worker($node, 10, 'db3'),
	'a database where the extension is created later gets a worker');
cmp_ok(time - $t0, '<', 10, '... within a few seconds');

# The same, when CREATE EXTENSION is part of a transaction that commits a
# moment later (a migration script, say).
$t0 = time;
$node->safe_psql('db4', q{
	BEGIN;
	CREATE EXTENSION queue;
	SELECT pg_sleep(1);
	COMMIT;});
ok(wait_for_worker($node, 10, 'db4'),
	'CREATE EXTENSION in a longer transaction: the database gets a worker within a few seconds of the commit'
);

# nodb and postgres have no extension: no row in worker_status, and no
# worker stays connected (the launcher's probe of such a database exits at
# once).
is($node->safe_psql('db1', q{
	SELECT string_agg(database, ',' ORDER BY database) FROM queue.worker_status
	 WHERE database NOT IN ('db1', 'db2', 'db3', 'db4')}),
	'', 'no worker_status row for databases without the extension');
ok(poll_within($node, 10, 'postgres', q{
	SELECT count(*) = 0 FROM pg_stat_activity
	 WHERE backend_type = 'queue worker' AND datname IN ('nodb', 'postgres')}),
	'no worker stays in databases without the extension');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'queue launcher'}),
	'1', 'one launcher');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM pg_stat_activity
	 WHERE backend_type = 'queue worker' AND datname = 'db1'}),
	'1', 'one worker per database');

# The workers do their job in their own database only.
my $p1 = make_poison($node, 'db1', 'p');
my $p2 = make_poison($node, 'db2', 'p');
ok( poll_within($node, 10, 'db1', in_dead_letters($node, 'db1', 'p', $p1))
	  && poll_within($node, 10, 'db2', in_dead_letters($node, 'db2', 'p', $p2)),
	'each worker dead-letters the timed-out message of its database');
is($node->safe_psql('db1', q{
	SELECT dead_lettered > 0 FROM queue.worker_status WHERE database = 'db1'}),
	't', 'worker_status counts what it dead-lettered');

# ---------------------------------------------------------------------
# Settings reloaded on SIGHUP
# ---------------------------------------------------------------------

# A long interval: after the reload (which wakes the worker for one step),
# the worker sleeps.
$node->safe_psql('postgres', "ALTER SYSTEM SET queue.worker_interval = '1h'");
$node->reload;
$node->safe_psql('postgres', 'SELECT pg_sleep(0.5)');    # the reload's step
my $r1 = runs($node, 'db1');
$node->safe_psql('postgres', 'SELECT pg_sleep(1.5)');    # a window of 7 old intervals
my $r2 = runs($node, 'db1');
is($r2, $r1, 'worker_interval = 1h after reload: no step for 1.5 s');

$node->safe_psql('postgres', "ALTER SYSTEM SET queue.worker_interval = '100ms'");
$node->reload;
ok(poll_within($node, 10, 'db1', "SELECT runs >= $r2 + 10 FROM queue.worker_status WHERE database = 'db1'"),
	'worker_interval = 100ms after reload: steps again, every 100 ms');

# worker_enabled = off: the worker does nothing (a poison message stays in
# the queue) and its status shows no runs; back on, it does its work.
$node->safe_psql('postgres', 'ALTER SYSTEM SET queue.worker_enabled = off');
$node->reload;
$node->safe_psql('postgres', 'SELECT pg_sleep(0.5)');    # 5 intervals to see the reload
my $pid_before = worker_pid($node, 'db1');
$r1 = runs($node, 'db1');
my $last1 = $node->safe_psql('db1', q{
	SELECT last_run FROM queue.worker_status WHERE database = 'db1'});
my $p3 = make_poison($node, 'db1', 'p');
$node->safe_psql('postgres', 'SELECT pg_sleep(1.5)');    # a window of 15 intervals
is($node->safe_psql('db1', "SELECT count(*) FROM queue.q_p WHERE id = $p3"),
	'1', 'worker_enabled = off: a poison message is not dead-lettered');
is($node->safe_psql('db1', q{
	SELECT runs || ' ' || last_run FROM queue.worker_status WHERE database = 'db1'}),
	"$r1 $last1", 'worker_enabled = off: runs and last_run stand still');
is(worker_pid($node, 'db1'), $pid_before, 'worker_enabled = off: the worker stays (same pid)');

$node->safe_psql('postgres', 'ALTER SYSTEM SET queue.worker_enabled = on');
$node->reload;
ok(poll_within($node, 10, 'db1', in_dead_letters($node, 'db1', 'p', $p3)),
	'worker_enabled = on again: the poison message is dead-lettered');
ok(poll_within($node, 10, 'db1', "SELECT runs > $r1 FROM queue.worker_status WHERE database = 'db1'"),
	'worker_enabled = on again: runs increases');

# ---------------------------------------------------------------------
# Queues dropped while the worker works on them
# ---------------------------------------------------------------------

# Each round leaves work for the worker (a poison message, an archived
# message past a retention of 1 microsecond, a rolled-back read) and
# drops the queue; the worker runs every 10 ms meanwhile.
$node->safe_psql('postgres', "ALTER SYSTEM SET queue.worker_interval = '10ms'");
$node->reload;
my $log_offset = -s $node->logfile;
my $rounds = 30;
$node->safe_psql('db1', qq{
	DO \$\$
	BEGIN
		FOR i IN 1..$rounds LOOP
			PERFORM queue.create('churn', max_deliveries => 1, retention => '1 microsecond');
			PERFORM queue.send_batch('churn', ARRAY['{"a":1}', '{"b":2}', '{"c":3}']::jsonb[]);
			PERFORM queue.read('churn', 1, '0 seconds');
			PERFORM queue.ack('churn', id) FROM queue.read('churn');
			BEGIN
				PERFORM queue.read('churn');
				RAISE EXCEPTION 'roll back the read';
			EXCEPTION WHEN raise_exception THEN
				NULL;
			END;
			PERFORM pg_sleep(0.01);
			PERFORM queue.drop('churn');
			COMMIT;
		END LOOP;
	END
	\$\$;});
my $r3 = runs($node, 'db1');
ok(poll_within($node, 10, 'db1', "SELECT runs > $r3 + 5 FROM queue.worker_status WHERE database = 'db1'"),
	'queues dropped under it: the worker keeps running');
is($node->safe_psql('db1', q{
	SELECT coalesce(last_error, '') FROM queue.worker_status WHERE database = 'db1'}),
	'', 'queues dropped under it: no last_error');
my $log = slurp_file($node->logfile, $log_offset);
unlike($log, qr/queue worker: step failed/, 'queues dropped under it: no failed step in the log');
unlike($log, qr/terminated by signal|server process .* exited/,
	'queues dropped under it: no crash');

$node->safe_psql('postgres', "ALTER SYSTEM SET queue.worker_interval = '200ms'");
$node->reload;

# ---------------------------------------------------------------------
# Killing a worker
# ---------------------------------------------------------------------

# SIGTERM: the worker exits cleanly and the launcher starts another.
my $old = worker_pid($node, 'db2');
$log_offset = -s $node->logfile;
$t0 = time;
kill 'TERM', $old;
ok(wait_for_worker($node, 15, 'db2', $old), 'SIGTERM: a new worker for db2');
cmp_ok(time - $t0, '<', 10, 'SIGTERM: back within 10 s');
unlike(slurp_file($node->logfile, $log_offset), qr/reinitializing|terminated by signal/,
	'SIGTERM of a worker is no crash');
isnt(worker_pid($node, 'db1'), '', 'the other workers go on');

# kill -9: the postmaster restarts every process (crash restart); the
# launcher and the workers come back and do their work.
$old = worker_pid($node, 'db1');
my $old2 = worker_pid($node, 'db2');
$log_offset = -s $node->logfile;
kill 'KILL', $old;
ok(wait_for_worker($node, 60, 'db1', $old), 'kill -9: a new worker for db1');
ok(wait_for_worker($node, 60, 'db2', $old2), 'kill -9: a new worker for db2 as well');
like(slurp_file($node->logfile, $log_offset),
	qr/all server processes terminated; reinitializing/,
	'kill -9 of a worker: the server restarted');
my $p4 = make_poison($node, 'db1', 'p');
ok(poll_within($node, 10, 'db1', in_dead_letters($node, 'db1', 'p', $p4)),
	'kill -9: the new worker dead-letters');

# An immediate shutdown and a restart (crash recovery).
$node->stop('immediate');
$node->start;
ok( wait_for_worker($node, 30, 'db1')
	  && wait_for_worker($node, 30, 'db2')
	  && wait_for_worker($node, 30, 'db3'),
	'after an immediate shutdown and crash recovery every worker is back');
my $p5 = make_poison($node, 'db3', 'p');
ok(poll_within($node, 10, 'db3', in_dead_letters($node, 'db3', 'p', $p5)),
	'after crash recovery the workers dead-letter');

# kill -9 of the postmaster: its children go too (the workers notice the
# postmaster's death), and a new start brings the workers back.
$node->kill9;
my $started = 0;
for (1 .. 100)
{
	# the old postmaster and its children may be around for a moment (as
	# in postgres' src/test/recovery/t/017_shm.pl)
	last if ($started = $node->start(fail_ok => 1));
	usleep(100_000);
	$node->stop('fast', fail_ok => 1);
}
ok($started, 'kill -9 of the postmaster: the server starts again');
ok( wait_for_worker($node, 30, 'db1')
	  && wait_for_worker($node, 30, 'db3'),
	'kill -9 of the postmaster: the workers are back');

# DROP EXTENSION: the worker of that database goes; CREATE EXTENSION
# again: it comes back.
$node->safe_psql('db3', 'DROP EXTENSION queue CASCADE');
ok(poll_within($node, 10, 'postgres', q{
	SELECT count(*) = 0 FROM pg_stat_activity
	 WHERE backend_type = 'queue worker' AND datname = 'db3'}),
	'DROP EXTENSION: the worker of the database exits');
is($node->safe_psql('db1', q{SELECT count(*) FROM queue.worker_status WHERE database = 'db3'}),
	'0', 'DROP EXTENSION: worker_status has no row for the database');
$t0 = time;
$node->safe_psql('db3', 'CREATE EXTENSION queue');
ok(wait_for_worker($node, 10, 'db3'), 'CREATE EXTENSION again: the worker is back');
cmp_ok(time - $t0, '<', 10, 'CREATE EXTENSION again: within a few seconds');

# The launcher terminated (pg_terminate_backend sends SIGTERM): the
# postmaster restarts it, and it restarts workers.
my $launcher = $node->safe_psql('postgres', q{
	SELECT pid FROM pg_stat_activity WHERE backend_type = 'queue launcher'});
$node->safe_psql('postgres', "SELECT pg_terminate_backend($launcher)");
ok(poll_within($node, 20, 'postgres', qq{
	SELECT count(*) = 1 FROM pg_stat_activity
	 WHERE backend_type = 'queue launcher' AND pid <> $launcher}),
	'SIGTERM of the launcher: the postmaster starts a new one');
$old = worker_pid($node, 'db2');
kill 'TERM', $old;
ok(wait_for_worker($node, 20, 'db2', $old),
	'... which restarts a worker terminated after it');

# Whatever happened above, start afresh for the rest.
$node->restart;
ok(wait_for_worker($node, 30, 'db1') && wait_for_worker($node, 30, 'db2'),
	'workers back after a restart');

# ---------------------------------------------------------------------
# Dropping a database that has the extension
# ---------------------------------------------------------------------

# The worker is connected to its database; DROP DATABASE must not fail
# because of it (the worker has to get out of the way).
($ret, $stdout, $stderr) = $node->psql('postgres', 'DROP DATABASE db2');
is($ret, 0, 'DROP DATABASE of a database with the extension succeeds')
  or diag $stderr;
if ($ret != 0)
{
	# the workaround, so that the rest can go on
	$node->safe_psql('postgres', 'DROP DATABASE db2 WITH (FORCE)');
}
ok(poll_within($node, 10, 'postgres', q{
	SELECT count(*) = 0 FROM pg_stat_activity
	 WHERE backend_type = 'queue worker' AND datid NOT IN (SELECT oid FROM pg_database)}),
	'no worker left for the dropped database');
# (the launcher notices at its next scan of pg_database, every 10 s)
ok(poll_within($node, 30, 'db1', q{
	SELECT count(*) = 0 FROM queue.worker_status WHERE database IS NULL}),
	'worker_status forgets the dropped database');
isnt(worker_pid($node, 'db1'), '', 'the worker of db1 goes on');

# Nor must it stop a database with the extension from being copied.
($ret, $stdout, $stderr) = $node->psql('postgres', 'CREATE DATABASE db1_copy TEMPLATE db1');
is($ret, 0, 'CREATE DATABASE ... TEMPLATE a database with the extension succeeds')
  or diag $stderr;
SKIP:
{
	skip 'no copy', 1 if $ret != 0;
	# (no CREATE EXTENSION wakes the launcher: its next scan, within 10 s)
	ok(wait_for_worker($node, 20, 'db1_copy'), 'the copy gets a worker of its own');
}

$node->stop;

# ---------------------------------------------------------------------
# Without shared_preload_libraries
# ---------------------------------------------------------------------

my $plain = PostgreSQL::Test::Cluster->new('no_preload');
$plain->init;
$plain->start;
($ret, $stdout, $stderr) = $plain->psql('postgres', 'CREATE EXTENSION queue');
is($ret, 0, 'without the preload CREATE EXTENSION succeeds');
like($stderr, qr/WARNING:.*worker is not running/,
	'... with a WARNING that the worker is not running');
is($plain->safe_psql('postgres', q{
	SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'queue%'}),
	'0', 'no launcher, no worker');
is($plain->safe_psql('postgres', 'SELECT count(*) FROM queue.worker_status'),
	'0', 'worker_status is empty');
is($plain->safe_psql('postgres', q{
	SELECT queue.create('jobs', max_deliveries => 2);
	SELECT queue.send('jobs', '{"n": 1}');
	SELECT queue.send('jobs', '{"n": 2}');
	SELECT string_agg(id || ':' || delivery_count, ',') FROM queue.read('jobs', 1, '0 seconds');
	SELECT string_agg(id || ':' || delivery_count, ',') FROM queue.read('jobs', 2);
	SELECT queue.ack('jobs', 2);
	SELECT queue.nack('jobs', 1, reason => 'bad');
	SELECT string_agg(id || ':' || reason, ',') FROM queue.dead_letters('jobs');
	SELECT queue.redrive('jobs');
	SELECT string_agg(id || ':' || delivery_count, ',') FROM queue.read('jobs');
	SELECT ready, in_flight, dead FROM queue.stats('jobs', exact => true);}),
	"\n1\n2\n1:1\n1:2,2:1\nt\nt\n1:bad\n1\n1:1\n0|1|0",
	'without the preload the SQL API works (send, read, ack, nack to the dead letters, redrive, stats)');
$plain->stop;

done_testing();
