# The background worker on a streaming standby: it does not run there (no
# launcher, no worker, nothing in the log), the queues replicate and can be
# looked at, and once the standby is promoted a worker starts and
# dead-letters a message whose visibility timeout ran out while the
# server was a standby.
#
# Copyright (c) 2026, the queue authors
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

# Like poll_query_until (run $query every 0.1 s until it prints $expected,
# 't' by default), but giving up after $seconds of wall-clock time.
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

sub queue_processes
{
	my ($n) = @_;
	return $n->safe_psql('postgres', q{
		SELECT coalesce(string_agg(backend_type || ':' || coalesce(datname, '-'), ','
		                           ORDER BY backend_type, datname), '')
		  FROM pg_stat_activity WHERE backend_type LIKE 'queue%'});
}

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'queue'
queue.worker_interval = '200ms'
});
$primary->start;

$primary->safe_psql('postgres', 'CREATE DATABASE db2');
for my $db (qw(postgres db2))
{
	$primary->safe_psql($db, q{
		CREATE EXTENSION queue;
		SELECT queue.create('jobs', max_deliveries => 1);});
}
# The launcher probes every database when it starts: after a restart the
# workers are sure to be there (a database whose CREATE EXTENSION raced
# the launcher's probe can wait a minute for its worker, see
# 002_worker_lifecycle.pl).
$primary->restart;
ok(poll_within($primary, 10, 'postgres', q{
	SELECT count(*) = 2 FROM queue.worker_status WHERE pid IS NOT NULL AND runs > 0}),
	'primary: a worker for each database');

$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

# On the primary: two messages, one of them a poison message for the
# primary's worker (delivered once, timed out at once).
my $poison = $primary->safe_psql('postgres', q{
	SELECT queue.send('jobs', '{"n": 1}');
	SELECT queue.send('jobs', '{"n": 2}');
	SELECT id FROM queue.read('jobs', 1, '0 seconds');});
$poison = (split /\n/, $poison)[-1];
ok(poll_within($primary, 10, 'postgres', qq{
	SELECT count(*) = 1 FROM queue.dead_letters('jobs') WHERE id = $poison}),
	'primary: the worker dead-letters the poison message');
$primary->safe_psql('db2', q{SELECT queue.send('jobs', '{"db2": true}')});
$primary->wait_for_catchup($standby);

# Replicated, and readable on the standby with the read-only functions.
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'standby is in recovery');
is($standby->safe_psql('postgres', q{
	SELECT string_agg(id || ':' || (body->>'n'), ',' ORDER BY id) FROM queue.q_jobs}),
	'2:2', 'standby: the messages sent on the primary are there');
is($standby->safe_psql('postgres', q{
	SELECT string_agg(id || ':' || reason, ',') FROM queue.dead_letters('jobs')}),
	"$poison:delivered 1 times without an ack",
	"standby: the primary's worker's dead letter is there");
is($standby->safe_psql('postgres', q{
	SELECT ready, in_flight, dead FROM queue.stats('jobs', exact => true)}),
	'1|0|1', 'standby: queue.stats works');
is($standby->safe_psql('db2', 'SELECT count(*) FROM queue.q_jobs'), '1',
	'standby: the second database replicated too');

# No launcher and no worker on the standby, and nothing about them in its
# log, over a window of ten worker intervals (and the primary's worker
# goes on meanwhile).
my $primary_runs = $primary->safe_psql('postgres',
	q{SELECT sum(runs) FROM queue.worker_status});
$standby->safe_psql('postgres', 'SELECT pg_sleep(2)');
is(queue_processes($standby), '', 'standby: no queue launcher and no queue worker');
is($standby->safe_psql('postgres', 'SELECT count(*) FROM queue.worker_status'),
	'0', 'standby: worker_status is empty');
ok($primary->safe_psql('postgres', q{SELECT sum(runs) FROM queue.worker_status})
	  > $primary_runs, 'the primary worker ran meanwhile');
my $standby_log = slurp_file($standby->logfile);
unlike($standby_log, qr/queue (worker|launcher)/, 'standby log: nothing about the worker');
unlike($standby_log, qr/\b(ERROR|FATAL|PANIC):/, 'standby log: no errors');

# A message read on the primary with a visibility timeout that runs out
# while the standby is cut off: nobody may dead-letter it until the
# standby is promoted.
my $timed_out = $primary->safe_psql('postgres', q{
	SELECT id FROM queue.read('jobs', 1, '5 seconds')});
is($timed_out, '2', 'primary: message 2 handed out for 5 seconds');
$primary->wait_for_catchup($standby);
$primary->stop('immediate');

is($standby->safe_psql('postgres', qq{
	SELECT delivery_count FROM queue.q_jobs WHERE id = $timed_out}),
	'1', 'standby: the delivery replicated');
$standby->poll_query_until('postgres', qq{
	SELECT visible_at < clock_timestamp() FROM queue.q_jobs WHERE id = $timed_out})
  or die 'the visibility timeout never ran out';
$standby->safe_psql('postgres', 'SELECT pg_sleep(1)');    # five worker intervals
is($standby->safe_psql('postgres', qq{
	SELECT count(*) FROM queue.q_jobs WHERE id = $timed_out}),
	'1', 'standby: the timed-out message stays where it is');
is(queue_processes($standby), '', 'standby: still no queue process');

my $log_offset = -s $standby->logfile;
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'the standby was not promoted';
ok(poll_within($standby, 10, 'postgres', q{
	SELECT count(*) = 3 FROM pg_stat_activity
	 WHERE backend_type = 'queue launcher'
	    OR (backend_type = 'queue worker' AND datname IN ('postgres', 'db2'))}),
	'promoted: a launcher and a worker for each database start');
ok(poll_within($standby, 10, 'postgres', qq{
	SELECT (SELECT count(*) FROM queue.q_jobs WHERE id = $timed_out) = 0
	   AND (SELECT count(*) FROM queue.dead_letters('jobs') WHERE id = $timed_out) = 1}),
	'promoted: the worker dead-letters the timed-out message');
is($standby->safe_psql('postgres', q{
	SELECT dead_lettered FROM queue.worker_status WHERE database = 'postgres'}),
	'1', 'promoted: worker_status counts it');

# The new primary's workers work in both databases.
my $poison2 = $standby->safe_psql('db2', q{
	SELECT id FROM queue.read('jobs', 1, '0 seconds')});
ok(poll_within($standby, 10, 'db2', qq{
	SELECT count(*) = 1 FROM queue.dead_letters('jobs') WHERE id = $poison2}),
	'promoted: the worker of the second database dead-letters too');
my $promoted_log = slurp_file($standby->logfile, $log_offset);
unlike($promoted_log, qr/queue worker: step failed|\b(ERROR|PANIC):/,
	'promoted: no errors in the log');

$standby->stop;
done_testing();
