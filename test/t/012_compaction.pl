# Compaction: a message table that a held snapshot (or a drained backlog)
# left mostly free space is rewritten by the worker, and its size given
# back, once vacuum could remove the dead rows; never while the snapshot
# still holds them, never above queue.compact_max_live, never when turned
# off.  A compaction racing readers leaves every delivery and receipt as it
# was; a crash in the middle of one (rewritten, not committed) loses
# nothing.  The steps are run by hand (queue._worker_step, as the worker
# runs it), with the background worker off so that timing does not matter.
# Last, a standby replays a table left mostly free space, does not compact
# it while in recovery, and compacts it once promoted.
#
# Copyright (c) 2026, the queue authors
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('compaction');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'queue'
queue.worker_enabled = off
autovacuum = off
queue.compact_min_size = '1MB'
restart_after_crash = on
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION queue');

sub sql { return $node->safe_psql('postgres', $_[0]); }

my $body = q{'{"order_id":100042,"customer":"cust-7731","sku":"SKU-5512","qty":3}'::jsonb};

# $n messages sent, then all but $keep read and acked, 1,000 at a time
sub churn
{
	my ($q, $n, $keep) = @_;
	sql("SELECT count(*) FROM (SELECT queue.send_batch('$q', array_fill($body, ARRAY[1000]))
	                             FROM generate_series(1, $n / 1000)) s");
	my $left = $n - $keep;
	while ($left > 0)
	{
		my $take = $left > 1000 ? 1000 : $left;
		sql("SELECT queue.ack('$q', array_agg(id)) FROM queue.read('$q', $take)");
		$left -= $take;
	}
}

sub size { return sql("SELECT pg_total_relation_size('queue.q_$_[0]')"); }

sub step { return sql('SELECT dead_lettered FROM queue._worker_step(1000)'); }

sub compacted_log
{
	my ($q, $from) = @_;
	my $log = slurp_file($node->logfile, $from);
	return $log =~ /compacted the message table of queue "$q"/ ? 1 : 0;
}

# --- a held snapshot: no compaction while it holds the dead rows ---------
sql(q{SELECT queue.create('held')});
my $holder = $node->background_psql('postgres');
$holder->query_safe(q{BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 1});
churn('held', 30000, 500);
sql('VACUUM queue.q_held');
my $held_size = size('held');
cmp_ok($held_size, '>', 3 * 1024 * 1024, 'the table grew while the snapshot was held');
my $logpos = -s $node->logfile;
step();
is(compacted_log('held', $logpos), 0, 'no compaction while the snapshot holds the dead rows');
is(size('held'), $held_size, 'the size stays while the snapshot is held');

# the snapshot ends: vacuum removes the dead rows, the next step compacts
$holder->query_safe('COMMIT');
$holder->quit;
sql('VACUUM queue.q_held');
$logpos = -s $node->logfile;
step();
is(compacted_log('held', $logpos), 1, 'compacted once the snapshot has ended');
cmp_ok(size('held'), '<', $held_size / 5, 'most of the size given back');
is(sql(q{SELECT count(*) FROM queue.q_held}), '500', 'every message kept');
is(sql(q{SELECT count(*) FROM queue.read('held', 1000)}), '500', 'and every one readable');

# a second step finds nothing more to do
$logpos = -s $node->logfile;
step();
is(compacted_log('held', $logpos), 0, 'a compacted table is left alone');

# --- limits: too much live data, too small, turned off -------------------
sql(q{SELECT queue.create('big')});
churn('big', 30000, 12000);
sql('VACUUM queue.q_big');
$logpos = -s $node->logfile;
step();
is(compacted_log('big', $logpos), 0, 'not compacted while less than three quarters is free');

sql(q{SELECT queue.create('off')});
churn('off', 30000, 100);
sql('VACUUM queue.q_off');
$logpos = -s $node->logfile;
$node->safe_psql('postgres', q{
	SET queue.compact_min_size = 0;
	SELECT dead_lettered FROM queue._worker_step(1000);
});
is(compacted_log('off', $logpos), 0, 'queue.compact_min_size = 0 turns compaction off');
$node->safe_psql('postgres', q{
	SET queue.compact_max_live = '8kB';
	SELECT dead_lettered FROM queue._worker_step(1000);
});
is(compacted_log('off', $logpos), 0, 'not above queue.compact_max_live');

# --- compaction racing readers: deliveries and receipts survive ----------
# 'off' has 100 messages left and is due for compaction
my ($ids) = sql(q{SELECT string_agg(id || ':' || delivery_count, ',' ORDER BY id)
                    FROM queue.read('off', 10, visibility_timeout => '1 hour')});
my @leased = map { [ split /:/ ] } split /,/, $ids;
is(scalar(@leased), 10, 'ten messages leased before the compaction');
$logpos = -s $node->logfile;
step();
is(compacted_log('off', $logpos), 1, 'compacted with messages in flight');
is(sql(q{SELECT count(*) FROM queue.read('off', 1000)}), '90',
	'the leased ones stay in flight, the others are read');
my $acked = 0;
foreach my $m (@leased)
{
	$acked++ if sql("SELECT queue.ack('off', $m->[0], receipt => $m->[1])") eq 't';
}
is($acked, 10, 'the receipts handed out before the compaction still ack');

# --- a crash in the middle of a compaction --------------------------------
sql(q{SELECT queue.create('crash')});
churn('crash', 30000, 300);
sql('VACUUM queue.q_crash');
my $before = sql(q{SELECT count(*), sum(id) FROM queue.q_crash});
# rewritten but not committed when its backend is killed: the postmaster
# restarts every backend and recovers from the WAL (a crash)
my $stepper = $node->background_psql('postgres');
my $pid = $stepper->query_safe('SELECT pg_backend_pid()');
$stepper->query_safe(q{BEGIN; SELECT dead_lettered FROM queue._worker_step(1000)});
like(slurp_file($node->logfile), qr/compacted the message table of queue "crash"/,
	'the compaction ran in the open transaction');
kill 'KILL', $pid;
eval { $stepper->quit; };
$node->poll_query_until('postgres', 'SELECT 1', '1')
  or die 'the server did not come back after the crash';
is(sql(q{SELECT count(*), sum(id) FROM queue.q_crash}), $before,
	'after a crash in the middle of a compaction every message is there');
# the rewrite was lost with the crash; the next step does it again
$logpos = -s $node->logfile;
step();
is(compacted_log('crash', $logpos), 1, 'compacted after the restart');
cmp_ok(size('crash'), '<', 1024 * 1024, 'and the size given back');
is(sql(q{SELECT count(*), sum(id) FROM queue.q_crash}), $before, 'with every message');
is(sql(q{SELECT count(*) FROM queue.read('crash', 1000)}), '300', 'every one readable');

# --- on a standby, after its promotion -----------------------------------
# The standby replays the table as the primary left it (mostly free
# space); it runs no worker while in recovery, and once promoted, a step
# there compacts it.
$node->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($node, 'base', has_streaming => 1);
$standby->start;
sql(q{SELECT queue.create('promoted')});
churn('promoted', 30000, 400);
sql('VACUUM queue.q_promoted');
$node->wait_for_catchup($standby);
my $standby_size = $standby->safe_psql('postgres', q{SELECT pg_total_relation_size('queue.q_promoted')});
$logpos = -s $standby->logfile;
$standby->psql('postgres', 'SELECT * FROM queue._worker_step(1000)');
unlike(slurp_file($standby->logfile, $logpos), qr/compacted the message table of queue "promoted"/,
	'a hot standby does not compact (a step there changes nothing)');
is($standby->safe_psql('postgres', q{SELECT pg_total_relation_size('queue.q_promoted')}),
	$standby_size, 'the size on the standby is the primary\'s');
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'the standby was not promoted';
my $promoted_size = $standby->safe_psql('postgres', q{SELECT pg_total_relation_size('queue.q_promoted')});
$logpos = -s $standby->logfile;
$standby->safe_psql('postgres', 'SELECT dead_lettered FROM queue._worker_step(1000)');
like(slurp_file($standby->logfile, $logpos), qr/compacted the message table of queue "promoted"/,
	'the promoted standby compacts');
cmp_ok($standby->safe_psql('postgres', q{SELECT pg_total_relation_size('queue.q_promoted')}),
	'<', $promoted_size / 5, 'and gives the size back');
is($standby->safe_psql('postgres', q{SELECT count(*) FROM queue.read('promoted', 1000)}), '400',
	'with every message, readable on the promoted standby');
$standby->stop;

$node->stop;
done_testing();
