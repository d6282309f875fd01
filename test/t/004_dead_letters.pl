# Dead letters and retention with the background worker running (default
# settings: a step every second): a message reaches the dead letters when
# its visibility timeout runs out after max_deliveries deliveries, when it
# is nacked on its last delivery, and when the transactions (or
# subtransactions) that read it roll back; redrive brings dead letters back
# with a fresh count; the worker empties the archive past the retention.
# After every step a message is in exactly one place (queue, dead letters
# or archive).  Last, consumers that ack, nack, roll back or time out at
# random race the worker, and a checker proves that every message ended up
# acked once or dead-lettered once.
#
# Copyright (c) 2026, the queue authors
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('dead_letters');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'queue'
max_prepared_transactions = 2
max_connections = 30
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION queue');
# The launcher probes every database when it starts: after a restart the
# worker is sure to be there (a worker for a database whose CREATE
# EXTENSION raced the launcher's probe can be a minute late, see
# 002_worker_lifecycle.pl).
$node->restart;

# Like poll_query_until (run $query every 0.1 s until it prints $expected,
# 't' by default), but giving up after $seconds of wall-clock time: for
# what the contract promises within a few seconds.
sub poll_within
{
	my ($seconds, $query, $expected) = @_;
	$expected //= 't';
	my $deadline = time + $seconds;
	my ($ret, $stdout, $stderr);
	while (1)
	{
		($ret, $stdout, $stderr) = $node->psql('postgres', $query);
		return 1 if defined $ret && $ret == 0 && $stdout eq $expected;
		last if time > $deadline;
		usleep(100_000);
	}
	diag "still not '$expected' after $seconds s: $query\nlast output: '$stdout'"
	  . ($stderr ? "\nstderr: $stderr" : '');
	return 0;
}

sub sql { return $node->safe_psql('postgres', $_[0]); }

# The last line of what $sql prints (the statements before it print the
# results of void functions and the like).
sub last_line
{
	my @lines = split /\n/, sql($_[0]);
	return $lines[-1] // '';
}

# Wait until the worker has finished $n more steps: everything reported
# to it before now (rolled-back reads) has then been handled.
sub worker_steps
{
	my ($n) = @_;
	my $runs = sql(q{SELECT runs FROM queue.worker_status WHERE database = 'postgres'});
	ok(poll_within(30, qq{
		SELECT runs >= $runs + $n FROM queue.worker_status WHERE database = 'postgres'}),
		"(the worker ran $n more steps)");
}

# The invariant: no message id is in two of the queue table, the dead
# letters and the archive.
sub in_one_place
{
	my ($q, $when) = @_;
	is(sql(qq{
		SELECT (SELECT count(*) FROM queue.q_$q JOIN queue.dl_$q USING (id)) || '|' ||
		       (SELECT count(*) FROM queue.q_$q JOIN queue.a_$q USING (id)) || '|' ||
		       (SELECT count(*) FROM queue.dl_$q JOIN queue.a_$q USING (id))}),
		'0|0|0', "$q, $when: no message in two places");
}

# Where message $id of queue $q is: 'queue:<delivery_count>',
# 'dead:<delivery_count>:<reason>', 'archived' or 'gone', comma-separated
# if in more than one place.
sub where
{
	my ($q, $id) = @_;
	return sql(qq{
		SELECT coalesce(string_agg(w, ',' ORDER BY w), 'gone') FROM (
			SELECT 'queue:' || delivery_count AS w FROM queue.q_$q WHERE id = $id
			UNION ALL
			SELECT 'dead:' || delivery_count || ':' || coalesce(reason, '')
			  FROM queue.dl_$q WHERE id = $id
			UNION ALL
			SELECT 'archived' FROM queue.a_$q WHERE id = $id) s});
}

sub poll_where
{
	my ($q, $id, $expected, $seconds) = @_;
	return poll_within($seconds // 10, qq{
		SELECT coalesce(string_agg(w, ',' ORDER BY w), 'gone') FROM (
			SELECT 'queue:' || delivery_count AS w FROM queue.q_$q WHERE id = $id
			UNION ALL
			SELECT 'dead:' || delivery_count || ':' || coalesce(reason, '')
			  FROM queue.dl_$q WHERE id = $id
			UNION ALL
			SELECT 'archived' FROM queue.a_$q WHERE id = $id) s}, $expected);
}

sub dead_lettered_total
{
	return sql(q{SELECT dead_lettered FROM queue.worker_status WHERE database = 'postgres'});
}

ok(poll_within(10, q{SELECT count(*) = 1 FROM queue.worker_status WHERE runs > 0}),
	'the worker runs');

# ---------------------------------------------------------------------
# By timeout
# ---------------------------------------------------------------------

sql(q{SELECT queue.create('timeout', visibility_timeout => '1 second', max_deliveries => 2)});
my $id = last_line(q{
	SELECT queue.send('timeout', '{"job": "t"}', headers => '{"h": 1}',
	                  idempotency_key => 'k1', group_key => 'g1', priority => 5)});
my $original = sql(qq{
	SELECT body::text || ' ' || headers::text || ' ' || group_key || ' ' || idempotency_key || ' ' || enqueued_at
	  FROM queue.q_timeout WHERE id = $id});
is(sql(q{SELECT id || ':' || delivery_count FROM queue.read('timeout')}), "$id:1",
	'timeout: first delivery');
in_one_place('timeout', 'first delivery');
# Poll with read: it hands the message out again once its visibility
# timeout (1 s) has run out.
ok(poll_within(10, q{SELECT string_agg(id || ':' || delivery_count, ',') FROM queue.read('timeout')},
		"$id:2"),
	'timeout: second delivery after the visibility timeout');
in_one_place('timeout', 'second delivery');
my $dl_before = dead_lettered_total();

# The second delivery times out too: the worker dead-letters it within a
# few seconds, and no read hands it out a third time meanwhile.
my $third = 0;
my $t0 = time;
while (where('timeout', $id) !~ /^dead/ && time - $t0 < 10)
{
	$third += sql(q{SELECT count(*) FROM queue.read('timeout', 1, '0 seconds')});
	usleep(50_000);
}
is(where('timeout', $id), 'dead:2:delivered 2 times without an ack',
	'timeout: dead-lettered by the worker, with its reason');
cmp_ok(time - $t0, '<', 5, 'timeout: within a few seconds of the timeout');
is($third, 0, 'timeout: never delivered a third time');
in_one_place('timeout', 'dead-lettered');
is(sql(qq{
	SELECT body::text || ' ' || headers::text || ' ' || group_key || ' ' || idempotency_key || ' ' || enqueued_at
	  FROM queue.dead_letters('timeout') WHERE id = $id}),
	$original, 'timeout: the dead letter keeps body, headers, keys and enqueued_at');
is(sql(q{SELECT ready || '|' || in_flight || '|' || dead || '|' || dead_total FROM queue.stats('timeout', exact => true)}),
	'0|0|1|1', 'timeout: stats show it dead (dead, dead_total)');
cmp_ok(dead_lettered_total(), '>=', $dl_before + 1, 'timeout: worker_status counts it');
is(sql(q{SELECT count(*) FROM queue.read('timeout', 10)}), '0', 'timeout: read finds nothing');

# ---------------------------------------------------------------------
# By nack: at once, with the reason
# ---------------------------------------------------------------------

sql(q{SELECT queue.create('nacked', max_deliveries => 2)});
$id = last_line(q{SELECT queue.send('nacked', '{"job": "n"}')});
is(sql(q{SELECT id || ':' || delivery_count FROM queue.read('nacked')}), "$id:1", 'nack: first delivery');
is(sql(qq{SELECT queue.nack('nacked', $id, '0 seconds', 'first try')}), 't', 'nack: first nack');
is(where('nacked', $id), 'queue:1', 'nack: back in the queue after the first');
is(sql(q{SELECT id || ':' || delivery_count FROM queue.read('nacked')}), "$id:2", 'nack: second delivery');
is(sql(qq{SELECT queue.nack('nacked', $id, reason => 'broken')}), 't', 'nack: second nack');
is(where('nacked', $id), 'dead:2:broken', 'nack on the last delivery: dead at once, with the reason');
in_one_place('nacked', 'nacked twice');
is(sql(q{SELECT count(*) FROM queue.read('nacked', 10, '0 seconds')}), '0', 'nack: read finds nothing');
is(sql(qq{SELECT queue.nack('nacked', $id)}), 'f', 'nack: a dead letter cannot be nacked');
is(sql(q{SELECT dead || '|' || dead_total FROM queue.stats('nacked', exact => true)}), '1|1', 'nack: stats');

# ---------------------------------------------------------------------
# By rolled-back reads
# ---------------------------------------------------------------------

# One at a time: each rolled-back delivery is counted by the worker (the
# message itself comes back at once, with its old delivery_count); the
# third makes it a dead letter.
sql(q{SELECT queue.create('rolled', max_deliveries => 3)});
$id = last_line(q{SELECT queue.send('rolled', '{"job": "crashes its consumer"}')});
for my $k (1 .. 3)
{
	is(last_line(q{BEGIN; SELECT id FROM queue.read('rolled'); ROLLBACK;}), $id,
		"rolled back: delivery $k handed out");
	in_one_place('rolled', "rollback $k");
	if ($k < 3)
	{
		ok(poll_where('rolled', $id, "queue:$k"),
			"rolled back: the worker counts failed delivery $k");
	}
}
ok(poll_where('rolled', $id, 'dead:3:delivered 3 times without an ack'),
	'rolled back three times: dead-lettered');
in_one_place('rolled', 'dead-lettered');
is(sql(q{SELECT count(*) FROM queue.read('rolled', 10, '0 seconds')}), '0',
	'rolled back three times: delivered no more');

# In a committed transaction, the read rolled back to a savepoint.
sql(q{SELECT queue.create('savepoint', max_deliveries => 2)});
$id = last_line(q{SELECT queue.send('savepoint', '{"job": "sp"}')});
for my $k (1 .. 2)
{
	is(last_line(q{
		BEGIN;
		SAVEPOINT attempt;
		SELECT id FROM queue.read('savepoint');
		ROLLBACK TO SAVEPOINT attempt;
		COMMIT;}), $id, "savepoint: delivery $k handed out and rolled back");
	in_one_place('savepoint', "rollback to savepoint $k");
	ok(poll_where('savepoint', $id,
			$k < 2 ? "queue:$k" : 'dead:2:delivered 2 times without an ack'),
		$k < 2 ? "savepoint: failed delivery $k counted" : 'savepoint: dead-lettered');
}
in_one_place('savepoint', 'dead-lettered');

# Back to back, as a consumer that crashes on the message and retries at
# once does: no further delivery once it has been delivered max_deliveries
# times, and it reaches the dead letters.
sql(q{SELECT queue.create('crashloop', max_deliveries => 3)});
$id = last_line(q{SELECT queue.send('crashloop', '{"job": "crash loop"}')});
my @got = split /\n/, sql(q{
	BEGIN; SELECT count(*) FROM queue.read('crashloop'); ROLLBACK;
	BEGIN; SELECT count(*) FROM queue.read('crashloop'); ROLLBACK;
	BEGIN; SELECT count(*) FROM queue.read('crashloop'); ROLLBACK;
	SELECT count(*) FROM queue.read('crashloop', 1, '0 seconds');});
is("@got[0..2]", '1 1 1', 'crash loop: three deliveries rolled back');
is($got[3], '0', 'crash loop: a fourth read at once does not hand it out');
ok(poll_within(10, q{SELECT count(*) = 1 FROM queue.dl_crashloop}),
	'crash loop: dead-lettered');
is(sql(q{SELECT count(*) FROM queue.q_crashloop}), '0', 'crash loop: not in the queue');
in_one_place('crashloop', 'dead-lettered');

# Every way a delivery can fail is counted exactly once, and nothing else
# is counted (max_deliveries 0: never dead-lettered, so the count can grow).
sql(q{SELECT queue.create('counted', max_deliveries => 0)});
$id = last_line(q{SELECT queue.send('counted', '{"job": "c"}')});
my @cases = (
	[ 'read, rollback' => q{
		BEGIN; SELECT id FROM queue.read('counted', 1, '0 seconds'); ROLLBACK;} ],
	[ 'read in a released savepoint, rollback' => q{
		BEGIN; SAVEPOINT a; SELECT id FROM queue.read('counted', 1, '0 seconds');
		RELEASE a; ROLLBACK;} ],
	[ 'read in a savepoint, rollback to it, rollback' => q{
		BEGIN; SAVEPOINT a; SELECT id FROM queue.read('counted', 1, '0 seconds');
		ROLLBACK TO a; ROLLBACK;} ],
	[ 'read in nested savepoints, release the inner, roll back the outer, commit' => q{
		BEGIN; SAVEPOINT a; SAVEPOINT b; SELECT id FROM queue.read('counted', 1, '0 seconds');
		RELEASE b; ROLLBACK TO a; COMMIT;} ],
	[ 'read, a later savepoint rolled back, commit (a delivery, no failure)' => q{
		BEGIN; SELECT id FROM queue.read('counted', 1, '0 seconds');
		SAVEPOINT a; SELECT 1; ROLLBACK TO a; COMMIT;} ],
	[ 'read in a released savepoint, commit (a delivery, no failure)' => q{
		BEGIN; SAVEPOINT a; SELECT id FROM queue.read('counted', 1, '0 seconds');
		RELEASE a; COMMIT;} ],
	[ 'read, an error, rollback' => q{
		BEGIN; SELECT id FROM queue.read('counted', 1, '0 seconds');
		SELECT 1/0;} ],
	[ 'read, PREPARE TRANSACTION, ROLLBACK PREPARED' => q{
		BEGIN; SELECT id FROM queue.read('counted', 1, '0 seconds');
		PREPARE TRANSACTION 'counted'; ROLLBACK PREPARED 'counted';} ],
	[ 'read, PREPARE TRANSACTION, COMMIT PREPARED (a delivery, no failure)' => q{
		BEGIN; SELECT id FROM queue.read('counted', 1, '0 seconds');
		PREPARE TRANSACTION 'counted'; COMMIT PREPARED 'counted';} ],
);
my $expected = 0;
for my $case (@cases)
{
	my ($what, $script) = @$case;
	my ($ret, $stdout, $stderr) = $node->psql('postgres', $script);
	like($stdout, qr/^$id$/m, "counted: $what: handed out");
	$expected++;
	ok(poll_where('counted', $id, "queue:$expected"), "counted: $what: counted once")
	  # go on from where it is, so that one miss does not fail the rest
	  or $expected = sql(qq{SELECT delivery_count FROM queue.q_counted WHERE id = $id});
}
# A consumer that disconnects in the middle of its transaction.
my $bg = $node->background_psql('postgres');
is($bg->query_safe(q{BEGIN; SELECT id FROM queue.read('counted', 1, '0 seconds')}), $id,
	'counted: a consumer that disconnects mid-transaction: handed out');
$bg->quit;
$expected++;
ok(poll_where('counted', $id, "queue:$expected"),
	'counted: a consumer that disconnects mid-transaction: counted')
  or $expected = sql(qq{SELECT delivery_count FROM queue.q_counted WHERE id = $id});
worker_steps(2);
is(where('counted', $id), "queue:$expected", 'counted: no failure counted twice');

# ---------------------------------------------------------------------
# Failed deliveries counted late must not hurt a later delivery
# ---------------------------------------------------------------------

# A rolls back, B reads the message right after (before the worker has
# counted A's failure) and acks it later with its receipt.
sql(q{SELECT queue.create('receipt')});
$id = last_line(q{SELECT queue.send('receipt', '{"job": "r"}')});
# (Should the worker count A's failure before B reads, B gets delivery 2,
# and the check below is no longer a race.)
my ($a_id, $b_got) = split /\n/, sql(q{
	BEGIN; SELECT id FROM queue.read('receipt'); ROLLBACK;
	SELECT id || ':' || delivery_count FROM queue.read('receipt');});
my ($b_id, $receipt) = split /:/, $b_got;
ok($a_id == $id && $b_id == $id, "receipt: A rolled back, B got delivery $receipt");
worker_steps(2);
is(sql(qq{SELECT queue.ack('receipt', $id, $receipt)}), 't',
	"receipt: B's ack with its receipt succeeds after the worker counted A's failure");
in_one_place('receipt', 'acked');

# A's failure is not lost when B's delivery times out: it is counted then
# (or before B's read, if the worker was quicker), once.
sql(q{SELECT queue.create('deferred')});
$id = last_line(q{SELECT queue.send('deferred', '{"job": "d"}')});
($a_id, $b_got) = split /\n/, sql(q{
	BEGIN; SELECT id FROM queue.read('deferred'); ROLLBACK;
	SELECT id || ':' || delivery_count FROM queue.read('deferred', 1, '1 second');});
($b_id, $receipt) = split /:/, $b_got;
ok($a_id == $id && $b_id == $id, "deferred: A rolled back, B got delivery $receipt for 1 s");
ok(poll_where('deferred', $id, 'queue:2'),
	"deferred: A's failure counted, at the latest after B's delivery timed out");
worker_steps(2);
is(where('deferred', $id), 'queue:2', 'deferred: counted once');

# The same, with B still in its transaction: the worker must not wait for
# B (it would hold up every queue of the database) ...
sql(q{SELECT queue.create('held'); SELECT queue.create('other', max_deliveries => 1)});
$id = last_line(q{SELECT queue.send('held', '{"job": "h"}')});
$bg = $node->background_psql('postgres');
($a_id, $b_got) = split /\n/, $bg->query_safe(q{
	BEGIN;
	SELECT count(*) FROM queue.read('held');
	ROLLBACK;
	BEGIN;
	SELECT id || ':' || delivery_count FROM queue.read('held');});
($b_id, $receipt) = split /:/, $b_got;
ok($a_id == 1 && $b_id == $id,
	"held: A rolled back, B holds delivery $receipt in an open transaction");
my $poison = last_line(q{
	SELECT queue.send('other', '{"job": "poison"}');
	SELECT id FROM queue.read('other', 1, '0 seconds');});
ok(poll_where('other', $poison, 'dead:1:delivered 1 times without an ack'),
	"held: a consumer's open transaction does not hold up the worker");
# ... and B's ack, committed, wins.
is($bg->query_safe(qq{SELECT queue.ack('held', $id, $receipt); COMMIT;}), 't',
	"held: B's ack with its receipt");
$bg->quit;
worker_steps(2);
is(where('held', $id), 'gone', 'held: acked, and nothing brought it back');

# ---------------------------------------------------------------------
# Redrive
# ---------------------------------------------------------------------

# All: the dead letter of queue 'timeout' comes back with delivery_count 0,
# everything else as it was, and a fresh count of deliveries.
$id = sql(q{SELECT id FROM queue.dl_timeout});
is(sql(q{SELECT queue.redrive('timeout')}), '1', 'redrive all: one');
is(where('timeout', $id), 'queue:0', 'redrive all: back in the queue with delivery_count 0');
in_one_place('timeout', 'redriven');
is(sql(qq{
	SELECT body::text || ' ' || headers::text || ' ' || group_key || ' ' || idempotency_key || ' ' || enqueued_at
	  FROM queue.q_timeout WHERE id = $id}),
	$original, 'redrive all: body, headers, keys and enqueued_at kept');
is(sql(q{SELECT id || ':' || delivery_count || ':' || priority FROM queue.read('timeout', 1, '0 seconds')}),
	"$id:1:5", 'redrive all: delivered again, counting from 1, priority kept');
is(sql(q{SELECT id || ':' || delivery_count FROM queue.read('timeout', 1, '0 seconds')}),
	"$id:2", 'redrive all: a second delivery');
ok(poll_where('timeout', $id, 'dead:2:delivered 2 times without an ack'),
	'redrive all: dead-lettered again after max_deliveries fresh deliveries');
is(sql(q{SELECT dead || '|' || dead_total FROM queue.stats('timeout', exact => true)}), '1|2',
	'redrive all: dead_total counts both');

# By quantity and by ids.
sql(q{SELECT queue.create('many', max_deliveries => 1)});
sql(q{SELECT count(*) FROM queue.send_batch('many', ARRAY['{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}']::jsonb[])});
is(sql(q{SELECT count(*) FROM queue.read('many', 4), queue.nack('many', id, reason => 'no')}),
	'4', 'many: four messages delivered and nacked');
is(sql(q{SELECT string_agg(id::text, ',' ORDER BY id) FROM queue.dead_letters('many')}),
	'1,2,3,4', 'many: four dead letters');
is(sql(q{SELECT queue.redrive('many', 2)}), '2', 'redrive quantity 2: two');
is(sql(q{SELECT string_agg(id::text, ',' ORDER BY id) FROM queue.dead_letters('many')}),
	'3,4', 'redrive quantity 2: the oldest two went');
in_one_place('many', 'redrive quantity');
is(sql(q{SELECT queue.redrive('many', ids => ARRAY[4, 99])}), '1', 'redrive ids: one of two (99 is no dead letter)');
is(sql(q{SELECT string_agg(id::text, ',' ORDER BY id) FROM queue.dead_letters('many')}),
	'3', 'redrive ids: 4 went');
in_one_place('many', 'redrive ids');
is(sql(q{SELECT queue.redrive('many', ids => ARRAY[1])}), '0', 'redrive ids: a message in the queue is no dead letter');
is(sql(q{SELECT string_agg(id || ':' || delivery_count, ',' ORDER BY id) FROM queue.read('many', 10)}),
	'1:1,2:1,4:1', 'many: the redriven messages are delivered, counting from 1');
in_one_place('many', 'redriven and delivered');

# ---------------------------------------------------------------------
# Retention
# ---------------------------------------------------------------------

sql(q{SELECT queue.create('kept', retention => '1 second')});
sql(q{SELECT count(*) FROM queue.send_batch('kept', ARRAY['{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}', '{"n":5}']::jsonb[])});
my $purged = sql(q{SELECT purged FROM queue.worker_status WHERE database = 'postgres'});
is(sql(q{SELECT sum(queue.ack('kept', id)::int) FROM queue.read('kept', 3)}), '3', 'retention: three acked');
is(sql(q{SELECT ready || '|' || in_flight || '|' || archived FROM queue.stats('kept', exact => true)}), '2|0|3',
	'retention: acked messages are archived');
in_one_place('kept', 'acked');
ok(poll_within(10, q{SELECT archived FROM queue.stats('kept', exact => true)}, '0'),
	'retention: the worker empties the archive within a few seconds of the retention');
cmp_ok(sql(q{SELECT purged FROM queue.worker_status WHERE database = 'postgres'}), '>=', $purged + 3,
	'retention: worker_status counts the purged rows');
is(sql(q{SELECT count(*) FROM queue.q_kept}), '2', 'retention: the messages not acked stay');

# A long retention keeps them; turning retention off lets the archive go.
sql(q{SELECT queue.create('kept_long', retention => '1 day')});
sql(q{SELECT count(*) FROM queue.send_batch('kept_long', ARRAY['{"n":1}', '{"n":2}']::jsonb[])});
is(sql(q{SELECT sum(queue.ack('kept_long', id)::int) FROM queue.read('kept_long', 2)}), '2',
	'retention 1 day: two acked');
worker_steps(2);
is(sql(q{SELECT archived FROM queue.stats('kept_long', exact => true)}), '2', 'retention 1 day: archive kept');
sql(q{SELECT queue.alter('kept_long', retention => '0')});
ok(poll_within(10, q{SELECT archived FROM queue.stats('kept_long', exact => true)}, '0'),
	'retention turned off: the worker empties the archive');

# ---------------------------------------------------------------------
# Consumers racing the worker
# ---------------------------------------------------------------------

# 400 messages, max_deliveries 3, visibility timeout 100 ms; six
# consumers that ack with their receipt (and record the effect in the
# same transaction), nack, roll back or let the delivery time out, at
# random; the worker runs every 20 ms.  At the end every message was acked
# exactly once or dead-lettered exactly once, never both, none lost.
my $messages = 400;
sql(qq{ALTER SYSTEM SET queue.worker_interval = '20ms'});
$node->reload;
sql(qq{
	SELECT queue.create('race', max_deliveries => 3, retention => '1 day',
	                    visibility_timeout => '100 milliseconds');
	CREATE TABLE race_effects (msg_id bigint NOT NULL);
	SELECT count(*) FROM generate_series(1, $messages) g,
		LATERAL queue.send('race', jsonb_build_object('n', g));
});
my $script = $node->basedir . '/race.sql';
open(my $fh, '>', $script) or die "could not write $script: $!";
print $fh <<'EOS';
BEGIN;
SELECT coalesce(max(id), 0) AS id, coalesce(max(delivery_count), 0) AS rc
  FROM queue.read('race', 1) \gset
\set action random(1, 4)
\if :id = 0
COMMIT;
\elif :action = 1
INSERT INTO race_effects SELECT :id WHERE queue.ack('race', :id, :rc);
COMMIT;
\elif :action = 2
SELECT queue.nack('race', :id, '0 seconds', 'nacked', :rc);
COMMIT;
\elif :action = 3
ROLLBACK;
\else
COMMIT;
\endif
EOS
close($fh);
$t0 = time;
while (time - $t0 < 60)
{
	$node->command_ok(
		[
			'pgbench', '-n', '-c', '6', '-j', '2', '-T', '3',
			'-f', $script, '-h', $node->host, '-p', $node->port, 'postgres'
		],
		'race: six consumers');
	last if poll_within(5, q{SELECT count(*) = 0 FROM queue.q_race});
}
is(sql(q{SELECT count(*) FROM queue.q_race}), '0', 'race: the queue drained');
my $check = qq{
	WITH acked AS (SELECT msg_id AS id FROM %s),
	     dead AS (SELECT id FROM queue.dl_race),
	     seen AS (SELECT id FROM acked UNION ALL SELECT id FROM dead)
	SELECT (SELECT $messages - count(DISTINCT id) FROM seen) || '|' ||
	       (SELECT count(*) - count(DISTINCT id) FROM seen) || '|' ||
	       (SELECT count(*) FROM seen WHERE id NOT BETWEEN 1 AND $messages)};
is(sql(sprintf($check, 'race_effects')), '0|0|0',
	'race: every message acked once or dead-lettered once (lost|duplicates|unexpected)');
is(sql(q{
	SELECT (SELECT count(*) FROM race_effects) = (SELECT count(*) FROM queue.a_race)
	   AND NOT EXISTS (SELECT msg_id FROM race_effects EXCEPT SELECT id FROM queue.a_race)}),
	't', 'race: the archive holds exactly the acked messages');
in_one_place('race', 'drained');
my ($nacked, $timed_out) = split /\|/, sql(q{
	SELECT count(*) FILTER (WHERE reason = 'nacked') || '|' ||
	       count(*) FILTER (WHERE reason LIKE 'delivered % times without an ack')
	  FROM queue.dl_race});
ok($nacked > 0 && $timed_out > 0 && sql(q{SELECT count(*) FROM race_effects}) > 0,
	"race: acks, nacked dead letters ($nacked) and the worker's dead letters ($timed_out) all happened");
cmp_ok(sql(q{SELECT max(delivery_count) FROM queue.dl_race}), '>=', 3,
	'race: dead letters were delivered max_deliveries times');
# Negative control: the checker sees a loss and a duplicate.
sql(q{
	CREATE TABLE race_bad AS SELECT * FROM race_effects;
	INSERT INTO race_bad SELECT min(msg_id) FROM race_effects;
	DELETE FROM race_bad WHERE msg_id = (SELECT max(msg_id) FROM race_effects);
	INSERT INTO race_bad SELECT min(id) FROM queue.dl_race;});
is(sql(sprintf($check, 'race_bad')), '1|2|0',
	'race: negative control: the checker detects a loss and duplicates');

my $log = slurp_file($node->logfile);
unlike($log, qr/queue worker: step failed|terminated by signal|PANIC/, 'no failed step and no crash');

$node->stop;
done_testing();
