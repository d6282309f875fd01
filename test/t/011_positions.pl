# Read positions (src/position.c) under load, across a restart, on a
# promoted standby and after a crash in the middle of a send.
#
# 1. Stress: three producers and three consumers (two pgbench runs at
#    once) on three queues: unordered (pu), ordered (po), and one that
#    dead-letters on the second delivery (pd).  Producers send single
#    messages and batches, some with idempotency keys (keys repeat across
#    producers, so that senders wait for one another's claims), group keys,
#    priorities and short delays, and roll back one transaction in eight.
#    Consumers read 1 to 10 messages and ack them in the same transaction
#    or in a separate one, nack them, pop them, or roll back.  Every
#    committed send, delivery, ack and nack is recorded in the same
#    transaction as itself, so that rolled-back ones leave no record.  The
#    load runs mixed first, then calm: no nack, pop or delayed send, so
#    that at its end nothing tells reads to look behind their position
#    again (leases are for an hour, the once-a-minute backstop is not
#    reached): a read that moved the position past a message it should
#    not have passed leaves that message behind for the drain to find.
#    After the load:
#	  - drain reads find every message that is visible: a read that returns
#	    less than it asked for leaves no message it could have taken (a
#	    visible message, not behind an earlier one of its group);
#	  - the messages still leased (from acks rolled back in a separate
#	    transaction) are given up with extend(0) and drained too;
#	  - every committed send is acked (or popped), drained or dead-lettered,
#	    exactly once, and nothing else is;
#	  - no message was handed out twice by committed reads unless the
#	    earlier delivery was nacked (or given up) first: with a visibility
#	    timeout of an hour, nothing else may bring it back.
#    A negative control runs the checks on doctored records.
# 2. Restart: messages leased at the front of the key, ready ones behind
#    them, and two leased ones made visible behind the API (which tells the
#    read position nothing: the reads have passed them, so they stay
#    unread); after a restart the position starts from 0 and reads find
#    all of the ready ones.
# 3. A streaming standby, promoted: reads on it hand out every message
#    whose lease ran out and every ready one, not the leased or acked ones.
# 4. kill -9 of a backend in the middle of a send (its idempotency key
#    claim waiting for another transaction, its marker held), with another
#    send left uncommitted: after the crash restart, reads get every
#    committed message and nothing of the uncommitted sends.
#
# Copyright (c) 2026, the queue authors
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time usleep);

# seconds of mixed load, then of calm load
my ($mixed_seconds, $calm_seconds) = (6, 5);
my $seed = $ENV{QUEUE_POSITIONS_SEED} // int(rand(2**31));
note "random seed: $seed (set QUEUE_POSITIONS_SEED to replay the pgbench choices)";

my $node = PostgreSQL::Test::Cluster->new('positions');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'queue'
max_connections = 40
restart_after_crash = on
});
$node->start;

sub sql { return $node->safe_psql('postgres', $_[0]); }

# Run $query every 0.1 s until it prints $expected, for at most $seconds.
sub poll_within
{
	my ($n, $seconds, $query, $expected) = @_;
	my $deadline = time + $seconds;
	my ($ret, $stdout, $stderr);
	while (1)
	{
		($ret, $stdout, $stderr) = $n->psql('postgres', $query);
		return 1 if defined $ret && $ret == 0 && $stdout eq $expected;
		last if time > $deadline;
		usleep(100_000);
	}
	diag "still not '$expected' after $seconds s: $query\nlast output: '$stdout'"
	  . ($stderr ? "\nstderr: $stderr" : '');
	return 0;
}

###########################################################################
# 1. Stress
###########################################################################

sql(q{
	CREATE EXTENSION queue;
	SELECT queue.create('pu', visibility_timeout => '1 hour', max_deliveries => 0);
	SELECT queue.create('po', visibility_timeout => '1 hour', max_deliveries => 0,
	                    ordered => true);
	SELECT queue.create('pd', visibility_timeout => '1 hour', max_deliveries => 2);
	-- committed sends (a duplicate key returns the first message's id)
	CREATE TABLE sent (q text NOT NULL, id bigint NOT NULL, producer int NOT NULL);
	CREATE UNIQUE INDEX ON sent (q, id);
	-- committed deliveries: by the load's reads and pops, and the drain's
	CREATE TABLE got (q text NOT NULL, id bigint NOT NULL, dc int NOT NULL,
	                  consumer int NOT NULL, batch bigint NOT NULL, how text NOT NULL);
	CREATE INDEX ON got (batch);
	-- committed acks and pops during the load
	CREATE TABLE acked (q text NOT NULL, id bigint NOT NULL, consumer int NOT NULL,
	                    how text NOT NULL DEFAULT 'ack');
	-- committed nacks (and extends to 0), with the receipt of the delivery
	CREATE TABLE nacked (q text NOT NULL, id bigint NOT NULL, receipt int NOT NULL);
	-- acks of the drain after the load
	CREATE TABLE drained (q text NOT NULL, id bigint NOT NULL);
	CREATE SEQUENCE batch_seq;
});

# One drain read of queue p<qn>, recorded and acked in its transaction:
# how many it took, and how many messages it could have taken but did not
# (visible before the read began; on the ordered queue, not behind an
# earlier message of their group).
sql(q{
	CREATE FUNCTION drain_once(qn text, OUT taken bigint, OUT left_behind bigint)
	LANGUAGE plpgsql AS $$
	DECLARE
		t0 timestamptz := clock_timestamp();
		b bigint := -txid_current();
	BEGIN
		INSERT INTO got (q, id, dc, consumer, batch, how)
		SELECT qn, m.id, m.delivery_count, -1, b, 'drain'
		  FROM queue.read('p' || qn, 1000, '1 hour') m;
		GET DIAGNOSTICS taken = ROW_COUNT;
		-- before the acks, which free the next messages of the groups
		EXECUTE format(
			'SELECT count(*) FROM queue.%1$I m WHERE m.visible_at <= $1 '
			'   AND NOT EXISTS (SELECT 1 FROM queue.%1$I e '
			'                    WHERE $2 AND e.group_key = m.group_key AND e.id < m.id)',
			'q_p' || qn)
		  INTO left_behind USING t0, qn = 'o';
		INSERT INTO drained (q, id)
		SELECT g.q, g.id FROM (SELECT q, id FROM got WHERE batch = b OFFSET 0) g
		 WHERE queue.ack('p' || g.q, g.id);
	END
	$$;
});

my $producer = $node->basedir . '/producer.sql';
open(my $fh, '>', $producer) or die "could not write $producer: $!";
print $fh <<'EOS';
\set q random(1, 3)
\set n random(1, 5)
\set k random(1, 3000)
\set keyed random(1, 4)
\set g random(0, 40)
\set pr random(1, 12)
\set batch random(1, 3)
\set rb random(1, 8)
BEGIN;
\if :batch = 1
-- keys in ascending order in every batch: claims cannot deadlock
INSERT INTO sent (q, id, producer)
SELECT s.qn, b.id, :client_id
  FROM (SELECT (ARRAY['u', 'o', 'd'])[:q] AS qn) s,
       LATERAL queue.send_batch('p' || s.qn,
         (SELECT array_agg(jsonb_build_object('producer', :client_id, 'i', i) ORDER BY i)
            FROM generate_series(1, :n) i),
         idempotency_keys => CASE WHEN :keyed = 1 THEN
           (SELECT array_agg('k' || lpad((:k + i)::text, 5, '0') ORDER BY i)
              FROM generate_series(1, :n) i) END,
         group_keys => (SELECT array_agg(CASE WHEN :g > 0 THEN 'g' || ((:g + i) % 40) END ORDER BY i)
                          FROM generate_series(1, :n) i),
         priority => CASE :pr WHEN 1 THEN 1 WHEN 2 THEN -1 ELSE 0 END,
         delay => CASE WHEN :pr = 3 AND :calm = 0 THEN interval '300 milliseconds' END) AS b(id)
ON CONFLICT DO NOTHING;
\else
INSERT INTO sent (q, id, producer)
SELECT s.qn,
       queue.send('p' || s.qn, jsonb_build_object('producer', :client_id),
         idempotency_key => CASE WHEN :keyed = 1 THEN 'k' || lpad(:k::text, 5, '0') END,
         group_key => CASE WHEN :g > 0 THEN 'g' || :g END,
         priority => CASE :pr WHEN 1 THEN 1 WHEN 2 THEN -1 ELSE 0 END,
         delay => CASE WHEN :pr = 3 AND :calm = 0 THEN interval '300 milliseconds' END),
       :client_id
  FROM (SELECT (ARRAY['u', 'o', 'd'])[:q] AS qn) s
ON CONFLICT DO NOTHING;
\endif
\if :rb = 1
ROLLBACK;
\else
COMMIT;
\endif
EOS
close($fh);

my $consumer = $node->basedir . '/consumer.sql';
open($fh, '>', $consumer) or die "could not write $consumer: $!";
print $fh <<'EOS';
\set q random(1, 3)
\set n random(1, 10)
\set mode random(1, 100)
\set rb random(1, 10)
-- calm: no nack (a read in a transaction that rolls back instead), no
-- pop (which moves the ordered queue's position back) but a read and ack
\set mode CASE WHEN :calm = 1 AND :mode > 60 AND :mode <= 75 THEN 80 WHEN :calm = 1 AND :mode > 88 THEN 10 ELSE :mode END
SELECT nextval('batch_seq') AS b \gset
\if :mode <= 35
-- read and ack in one transaction, rolled back one time in ten; half of
-- the time read and ack again in the same transaction (reads after the
-- transaction's own acks)
BEGIN;
INSERT INTO got (q, id, dc, consumer, batch, how)
SELECT s.qn, m.id, m.delivery_count, :client_id, :b, 'same'
  FROM (SELECT (ARRAY['u', 'o', 'd'])[:q] AS qn) s,
       LATERAL queue.read('p' || s.qn, :n, '1 hour') m;
INSERT INTO acked (q, id, consumer)
SELECT g.q, g.id, :client_id FROM (SELECT q, id FROM got WHERE batch = :b OFFSET 0) g
 WHERE queue.ack('p' || g.q, g.id);
\if :n % 2 = 0
INSERT INTO got (q, id, dc, consumer, batch, how)
SELECT s.qn, m.id, m.delivery_count, :client_id, :b, 'same'
  FROM (SELECT (ARRAY['u', 'o', 'd'])[:q] AS qn) s,
       LATERAL queue.read('p' || s.qn, :n, '1 hour') m;
-- the ids acked before are gone: ack returns false for them
INSERT INTO acked (q, id, consumer)
SELECT g.q, g.id, :client_id FROM (SELECT q, id FROM got WHERE batch = :b OFFSET 0) g
 WHERE queue.ack('p' || g.q, g.id);
\endif
\if :rb = 1
ROLLBACK;
\else
COMMIT;
\endif
\elif :mode <= 60
-- read, then ack in another transaction; when that rolls back the
-- messages stay leased (for the hour), or are nacked
INSERT INTO got (q, id, dc, consumer, batch, how)
SELECT s.qn, m.id, m.delivery_count, :client_id, :b, 'separate'
  FROM (SELECT (ARRAY['u', 'o', 'd'])[:q] AS qn) s,
       LATERAL queue.read('p' || s.qn, :n, '1 hour') m;
BEGIN;
INSERT INTO acked (q, id, consumer)
SELECT g.q, g.id, :client_id FROM (SELECT q, id FROM got WHERE batch = :b OFFSET 0) g
 WHERE queue.ack('p' || g.q, g.id);
\if :rb <= 2
ROLLBACK;
\if :rb = 1 AND :calm = 0
INSERT INTO nacked (q, id, receipt)
SELECT g.q, g.id, g.dc FROM (SELECT q, id, dc FROM got WHERE batch = :b OFFSET 0) g
 WHERE queue.nack('p' || g.q, g.id, delay => '0', receipt => g.dc);
\endif
\else
COMMIT;
\endif
\elif :mode <= 75
-- read, then nack in another transaction (rolled back one time in ten)
INSERT INTO got (q, id, dc, consumer, batch, how)
SELECT s.qn, m.id, m.delivery_count, :client_id, :b, 'nack'
  FROM (SELECT (ARRAY['u', 'o', 'd'])[:q] AS qn) s,
       LATERAL queue.read('p' || s.qn, :n, '1 hour') m;
BEGIN;
INSERT INTO nacked (q, id, receipt)
SELECT g.q, g.id, g.dc FROM (SELECT q, id, dc FROM got WHERE batch = :b OFFSET 0) g
 WHERE queue.nack('p' || g.q, g.id, delay => '0', receipt => g.dc);
\if :rb = 1
ROLLBACK;
\else
COMMIT;
\endif
\elif :mode <= 88
-- read (twice, half of the time) in a transaction that rolls back
BEGIN;
INSERT INTO got (q, id, dc, consumer, batch, how)
SELECT s.qn, m.id, m.delivery_count, :client_id, :b, 'rolled back'
  FROM (SELECT (ARRAY['u', 'o', 'd'])[:q] AS qn) s,
       LATERAL queue.read('p' || s.qn, :n, '1 hour') m;
\if :n % 2 = 0
INSERT INTO got (q, id, dc, consumer, batch, how)
SELECT s.qn, m.id, m.delivery_count, :client_id, :b, 'rolled back'
  FROM (SELECT (ARRAY['u', 'o', 'd'])[:q] AS qn) s,
       LATERAL queue.read('p' || s.qn, :n, '1 hour') m;
\endif
ROLLBACK;
\else
-- pop, rolled back one time in ten
BEGIN;
WITH m AS (SELECT s.qn, p.id, p.delivery_count
             FROM (SELECT (ARRAY['u', 'o', 'd'])[:q] AS qn) s,
                  LATERAL queue.pop('p' || s.qn, :n) p),
     g AS (INSERT INTO got (q, id, dc, consumer, batch, how)
           SELECT qn, id, delivery_count, :client_id, :b, 'pop' FROM m)
INSERT INTO acked (q, id, consumer, how) SELECT qn, id, :client_id, 'pop' FROM m;
\if :rb = 1
ROLLBACK;
\else
COMMIT;
\endif
\endif
EOS
close($fh);

# Some messages to start with, so that consumers have work from the start.
sql(q{
	INSERT INTO sent (q, id, producer)
	SELECT qn, queue.send('p' || qn, jsonb_build_object('start', i),
	                      group_key => 'g' || (i % 40)), -1
	  FROM unnest(ARRAY['u', 'o', 'd']) qn, generate_series(1, 100) i;
});

# Three producers (throttled to 300 transactions a second, so that the
# consumers keep up and the queues stay short) and three consumers for
# $seconds; calm: no nack, pop or delayed send, so that nothing makes the
# reads look behind their position again (leases are for an hour).
sub load
{
	my ($seconds, $calm, $what) = @_;
	my @pgbench = ('pgbench', '-n', '-h', $node->host, '-p', $node->port,
		'-T', $seconds, '-D', "calm=$calm");
	my ($p_out, $p_err, $c_out, $c_err) = ('', '', '', '');
	my $producers = IPC::Run::start(
		[ @pgbench, '-c', '3', '-j', '3', '-R', '300', "--random-seed=$seed",
		  '-f', $producer, 'postgres' ],
		'>', \$p_out, '2>', \$p_err);
	my $consumers = IPC::Run::start(
		[ @pgbench, '-c', '3', '-j', '3', '--random-seed=' . ($seed + 1),
		  '-f', $consumer, 'postgres' ],
		'>', \$c_out, '2>', \$c_err);
	my $p_ok = $producers->finish;
	my $c_ok = $consumers->finish;
	ok($p_ok, "$what load: three producers ran without an error")
	  or diag "producers:\n$p_out\n$p_err";
	ok($c_ok, "$what load: three consumers ran without an error")
	  or diag "consumers:\n$c_out\n$c_err";
	note "$what load: producers: ",
	  ($p_out =~ /(number of transactions actually processed: \S+)/)[0] // '?';
	note "$what load: consumers: ",
	  ($c_out =~ /(number of transactions actually processed: \S+)/)[0] // '?';
}

load($mixed_seconds, 0, 'mixed');
load($calm_seconds, 1, 'calm');
note 'load: ', sql(q{
	SELECT format('sent %s, deliveries %s (%s), acked %s, popped %s, nacked %s',
	       (SELECT count(*) FROM sent),
	       (SELECT count(*) FROM got),
	       (SELECT string_agg(how || ' ' || n, ', ') FROM
	          (SELECT how, count(*) n FROM got GROUP BY how ORDER BY how) x),
	       (SELECT count(*) FROM acked WHERE how = 'ack'),
	       (SELECT count(*) FROM acked WHERE how = 'pop'),
	       (SELECT count(*) FROM nacked))});

# Drain queue p<qn>: read until a read takes nothing; with $check, every
# read that took less than it asked for must have left nothing it could
# take (not on pd, where failures pending in shared memory hold messages
# back that the table does not show).  A row
# that a read skipped because another transaction had it locked at that
# moment (the background worker counting a failed delivery) is taken by
# the next read; a read that passed a takeable message for good would
# leave it behind read after read, so a leftover must persist over three
# reads, 0.3 s apart, to count.
sub drain
{
	my ($qn, $check) = @_;
	my ($total, $behind_reads) = (0, 0);
	my $until = time + 20;
	while (time < $until)
	{
		my ($taken, $behind) = split /\|/, sql("SELECT * FROM drain_once('$qn')");
		$total += $taken;
		if ($check && $behind > 0 && $taken < 1000)
		{
			$behind_reads++;
			diag "queue p$qn: a read took $taken and left $behind takeable messages";
			last if $behind_reads >= 3;
			usleep(300_000);
			next;
		}
		$behind_reads = 0;
		last if $taken == 0;
	}
	is($behind_reads, 0, "queue p$qn: drain reads leave nothing they could take")
	  if $check;
	return $total;
}

for my $qn (qw(u o))
{
	my $n = drain($qn, 1);
	note "queue p$qn: drained $n";
}
drain('d', 0);

# The messages still leased are given up (extend to 0, recorded like a
# nack) and drained.  On pd, messages whose deliveries rolled back up to
# max_deliveries go to the dead letters (the worker), not to readers.
for my $qn (qw(u o d))
{
	my $released = sql(qq{
		WITH r AS (
			INSERT INTO nacked (q, id, receipt)
			SELECT '$qn', m.id, m.delivery_count
			  FROM (SELECT id, delivery_count FROM queue.q_p$qn WHERE leased OFFSET 0) m
			 WHERE queue.extend('p$qn', m.id, '0 seconds') IS NOT NULL
			RETURNING 1)
		SELECT count(*) FROM r});
	note "queue p$qn: $released leased messages given up";
}
for my $qn (qw(u o))
{
	drain($qn, 1);
	is(sql("SELECT count(*) FROM queue.q_p$qn"), '0', "queue p$qn: empty after the drain");
}
# Their failures may be pending in shared memory (the worker counts them),
# and a last delivery given up by extend is swept at the time its read
# noted (in an hour) or by the worker's once-a-minute backstop: a sweep is
# asked for here, and a step run.
my $deadline = time + 20;
while (time < $deadline)
{
	sql(q{BEGIN;
		SELECT queue._sweep_at('queue.q_pd'::regclass, '-infinity');
		SELECT count(*) FROM queue._worker_step(10000);
		COMMIT;});
	drain('d', 0);
	last if sql('SELECT count(*) FROM queue.q_pd') eq '0';
	usleep(300_000);
}
is(sql('SELECT count(*) FROM queue.q_pd'), '0', 'queue pd: empty after the drain')
  or diag sql(q{SELECT string_agg(format('%s dc %s leased %s visible in %s', id, delivery_count, leased,
                                      visible_at - clock_timestamp()), E'\n' ORDER BY id)
                  FROM (SELECT * FROM queue.q_pd ORDER BY id LIMIT 20) m});

# Every committed send is acked, popped, drained or dead-lettered, once.
# lost: sent, never settled; twice: settled more than once; unexpected:
# settled but never sent.
my $accounting = q{
	WITH s AS (SELECT DISTINCT id FROM %1$s WHERE q = '%4$s'),
	     done AS (SELECT id FROM %2$s WHERE q = '%4$s'
	              UNION ALL SELECT id FROM %3$s WHERE q = '%4$s'
	              UNION ALL SELECT id FROM queue.dl_p%4$s)
	SELECT (SELECT count(*) FROM s WHERE id NOT IN (SELECT id FROM done)) AS lost,
	       (SELECT count(*) FROM (SELECT id FROM done GROUP BY id HAVING count(*) > 1) x) AS twice,
	       (SELECT count(*) FROM done WHERE id NOT IN (SELECT id FROM s)) AS unexpected
};
# Committed deliveries of one message: each after the one before was
# nacked or given up, by its receipt (a redelivery with the same
# delivery_count is a message handed out twice at once).
my $redelivery = q{
	WITH d AS (SELECT q, id, dc, lag(dc) OVER (PARTITION BY q, id ORDER BY dc) AS prev
	             FROM %1$s)
	SELECT count(*) FROM d
	 WHERE prev IS NOT NULL
	   AND (prev = dc OR NOT EXISTS (SELECT 1 FROM %2$s n
	                                  WHERE n.q = d.q AND n.id = d.id AND n.receipt = d.prev))
};
for my $qn (qw(u o d))
{
	note "queue p$qn: " . sql(qq{
		SELECT format('sent %s, acked %s, popped %s, drained %s, dead %s',
		       (SELECT count(*) FROM sent WHERE q = '$qn'),
		       (SELECT count(*) FROM acked WHERE q = '$qn' AND how = 'ack'),
		       (SELECT count(*) FROM acked WHERE q = '$qn' AND how = 'pop'),
		       (SELECT count(*) FROM drained WHERE q = '$qn'),
		       (SELECT count(*) FROM queue.dl_p$qn))});
	is(sql(sprintf($accounting, 'sent', 'acked', 'drained', $qn)), '0|0|0',
		"queue p$qn: every committed send settled exactly once (lost|twice|unexpected)");
}
is(sql(sprintf($redelivery, 'got', 'nacked')), '0',
	'no message handed out again without a nack or a rollback');
ok(sql(q{SELECT count(*) FROM got g1 JOIN got g2 USING (q, id) WHERE g1.dc < g2.dc}) > 0,
	'some messages were handed out again (after nacks)');
ok(sql(q{SELECT count(*) FROM queue.dl_pd}) > 0,
	'some messages of pd were dead-lettered');

# Negative control: the checks see a lost message, a double settlement and
# a double delivery.
sql(q{
	CREATE TABLE sent_bad AS SELECT * FROM sent;
	CREATE TABLE acked_bad AS SELECT * FROM acked;
	CREATE TABLE got_bad AS SELECT * FROM got;
	INSERT INTO sent_bad VALUES ('u', 999999999, 0);
	INSERT INTO acked_bad SELECT * FROM acked WHERE q = 'u' LIMIT 1;
	INSERT INTO got_bad SELECT * FROM got WHERE q = 'u' LIMIT 1;
});
is(sql(sprintf($accounting, 'sent_bad', 'acked_bad', 'drained', 'u')), '1|1|0',
	'negative control: a loss and a double settlement are seen');
is(sql(sprintf($redelivery, 'got_bad', 'nacked')), '1',
	'negative control: a double delivery is seen');

###########################################################################
# 2. Restart
###########################################################################

# Ids 1-20: 1-10 and 11-15 leased for an hour, 16-20 ready behind them.
sql(q{
	SELECT queue.create('rs', max_deliveries => 0);
	SELECT count(*) FROM queue.send_batch('rs',
		(SELECT array_agg(jsonb_build_object('n', i)) FROM generate_series(1, 20) i));
});
is(sql(q{SELECT string_agg(id::text, ',') FROM queue.read('rs', 10, '1 hour')}),
	'1,2,3,4,5,6,7,8,9,10', 'restart: 1-10 leased');
is(sql(q{SELECT string_agg(id::text, ',') FROM queue.read('rs', 5, '1 hour')}),
	'11,12,13,14,15', 'restart: 11-15 leased');
# a read (rolled back) passes 1-15 and takes 16-20: the position is at 16
my $ready = q{BEGIN; SELECT string_agg(id::text, ',') FROM queue.read('rs', 100, '1 hour'); ROLLBACK;};
is(sql($ready), '16,17,18,19,20', 'restart: 16-20 are ready');
# 3 and 12 visible again, behind the API, which tells the position nothing
sql(q{UPDATE queue.q_rs SET visible_at = now() WHERE id IN (3, 12)});
is(sql($ready), '16,17,18,19,20', 'restart: before the restart, reads start past 3 and 12');
$node->restart;
is(sql(q{SELECT string_agg(id::text, ',' ORDER BY id) FROM queue.read('rs', 100, '1 hour')}),
	'3,12,16,17,18,19,20', 'restart: after the restart, reads find every ready message');
is(sql(q{SELECT count(*) FROM queue.read('rs', 100, '1 hour')}), '0',
	'restart: and nothing else');
my $new = sql(q{SELECT queue.send('rs', '{"n": 21}')});
is(sql(q{SELECT string_agg(id::text, ',') FROM queue.read('rs', 100, '1 hour')}),
	$new, 'restart: a new message is read');

###########################################################################
# 3. Promoted standby
###########################################################################

$node->backup('positions_backup');
my $standby = PostgreSQL::Test::Cluster->new('positions_standby');
$standby->init_from_backup($node, 'positions_backup', has_streaming => 1);
$standby->start;

# Ids 1-10: 1-2 leased for a second (runs out), 3-4 leased for an hour,
# 5-6 acked, 7 nacked, 8-10 ready.  The primary's reads move its own
# position past them; the standby has a position of its own.
sql(q{
	SELECT queue.create('sb', max_deliveries => 0);
	SELECT count(*) FROM queue.send_batch('sb',
		(SELECT array_agg(jsonb_build_object('n', i)) FROM generate_series(1, 10) i));
});
is(sql(q{SELECT string_agg(id::text, ',') FROM queue.read('sb', 2, '1 second')}),
	'1,2', 'standby: 1-2 leased for a second');
is(sql(q{SELECT string_agg(id::text, ',') FROM queue.read('sb', 2, '1 hour')}),
	'3,4', 'standby: 3-4 leased for an hour');
is(sql(q{SELECT queue.ack('sb', ARRAY(SELECT id FROM queue.read('sb', 2, '1 hour')))}),
	'2', 'standby: 5-6 acked');
is(sql(q{SELECT queue.nack('sb', (SELECT id FROM queue.read('sb', 1, '1 hour')), delay => '0')}),
	't', 'standby: 7 nacked');
$node->wait_for_catchup($standby);

# A read on the standby fails (read-only) and must not leave anything behind.
my ($ret, $stdout, $stderr) = $standby->psql('postgres',
	q{SELECT count(*) FROM queue.read('sb', 100)});
isnt($ret, 0, 'standby: a read fails before the promotion');
note "standby read: $stderr";

ok(poll_within($standby, 10,
	q{SELECT bool_and(visible_at < clock_timestamp()) FROM queue.q_sb WHERE id IN (1, 2)}, 't'),
	'standby: the one-second leases ran out');
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'the standby was not promoted';
is($standby->safe_psql('postgres',
	q{SELECT string_agg(id::text, ',' ORDER BY id) FROM queue.read('sb', 100, '1 hour')}),
	'1,2,7,8,9,10', 'promoted: reads hand out the run-out leases, the nacked and the ready messages');
is($standby->safe_psql('postgres', q{SELECT count(*) FROM queue.read('sb', 100)}), '0',
	'promoted: and nothing else');
$new = $standby->safe_psql('postgres', q{SELECT queue.send('sb', '{"n": 11}')});
is($standby->safe_psql('postgres', q{SELECT string_agg(id::text, ',') FROM queue.read('sb', 100)}),
	$new, 'promoted: a new message is read');
$standby->stop;

###########################################################################
# 4. kill -9 in the middle of a send
###########################################################################

sql(q{SELECT queue.create('kc', max_deliveries => 0)});
# 1-3 committed
sql(q{SELECT count(*) FROM queue.send_batch('kc', ARRAY['{"n": 1}', '{"n": 2}', '{"n": 3}']::jsonb[])});

# x holds the idempotency key 'held' (a row of the key table, uncommitted)
my $x = $node->background_psql('postgres');
$x->query_safe(q{BEGIN; INSERT INTO queue.k_kc (key, id, created_at) VALUES ('held', 0, now())});
# y leaves a send uncommitted: id 4, in the index
my $y = $node->background_psql('postgres');
is($y->query_safe(q{BEGIN; SELECT queue.send('kc', '{"n": "y"}')}), '4',
	'crash: an uncommitted send (4)');
# z sends with the key x holds: it has taken an id (5) and waits for x,
# its marker up, its row not in the index
my $z = $node->background_psql('postgres');
my $zpid = $z->query_safe('SELECT pg_backend_pid()');
$z->query_until(qr/sending/, qq{\\echo sending\nBEGIN;\nSELECT queue.send('kc', '{"n": "z"}', idempotency_key => 'held');\n});
ok(poll_within($node, 10,
	qq{SELECT wait_event_type FROM pg_stat_activity WHERE pid = $zpid}, 'Lock'),
	'crash: the keyed send waits for the key');

# 6-7 committed meanwhile; reads take 1-3, 6 and 7 with leases that run
# out in a second, and 1 and 6 are acked
is(sql(q{SELECT string_agg(id::text, ',') FROM queue.send_batch('kc', ARRAY['{"n": 6}', '{"n": 7}']::jsonb[]) id}),
	'6,7', 'crash: 6 and 7 committed');
is(sql(q{SELECT string_agg(id::text, ',' ORDER BY id) FROM queue.read('kc', 10, '1 second')}),
	'1,2,3,6,7', 'crash: reads take the committed messages');
is(sql(q{SELECT queue.ack('kc', ARRAY[1, 6]::bigint[])}), '2', 'crash: 1 and 6 acked');

my $log_offset = -s $node->logfile;
kill 'KILL', $zpid or die "could not kill $zpid: $!";
ok($node->poll_query_until('postgres', 'SELECT true'), 'crash: the server is back');
like(slurp_file($node->logfile, $log_offset), qr/terminated by signal 9/,
	'crash: the backend was killed and the server restarted');
for my $s ($x, $y, $z)
{
	eval { $s->quit; };
}

ok(poll_within($node, 10,
	q{SELECT bool_and(visible_at < clock_timestamp()) FROM queue.q_kc}, 't'),
	'crash: the leases ran out');
is(sql(q{SELECT string_agg(id::text || ':' || (body->>'n'), ',' ORDER BY id) FROM queue.read('kc', 100, '1 hour')}),
	'2:2,3:3,7:7', 'crash: reads get every committed message, nothing of the uncommitted sends');
is(sql(q{SELECT count(*) FROM queue.q_kc WHERE NOT leased}), '0', 'crash: nothing else is left');
# the key is free again, and sends go on
$new = sql(q{SELECT queue.send('kc', '{"n": "after"}', idempotency_key => 'held')});
is(sql(q{SELECT string_agg(id::text, ',') FROM queue.read('kc', 100)}), $new,
	'crash: a send after the crash is read');

$node->stop;
done_testing();
