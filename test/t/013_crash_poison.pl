# A poison message that crashes the server reaches the dead letters.
#
# A consumer reads a message in a transaction and its backend is killed
# with SIGKILL: the postmaster restarts every process and reinitialises
# shared memory, and the read's delivery_count increment is rolled back
# with the transaction.  The delivery must count all the same (the journal
# of src/journal.c), so that after max_deliveries such crashes the message
# is in the dead letters and the other messages are delivered normally.
# Also: a batch read, a read rolled back to a savepoint, a read that
# committed, an immediate shutdown, and the worker counting deliveries of
# a message nobody reads again.  The worker's steps are run by hand
# (queue._worker_step, as the worker runs it) so that timing does not
# matter.
#
# Copyright (c) 2026, the queue authors
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('crash_poison');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'queue'
queue.worker_enabled = off
restart_after_crash = on
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION queue');

sub sql { return $node->safe_psql('postgres', $_[0]); }

sub step { return sql('SELECT dead_lettered, failures_counted FROM queue._worker_step(1000)'); }

# Run $sql in an open transaction (after $before), then kill the backend
# with SIGKILL and wait for the server to be back.  Returns what $sql
# printed.
sub crash_after
{
	my ($sql, $before) = @_;
	my $session = $node->background_psql('postgres');
	my $pid = $session->query_safe('SELECT pg_backend_pid()');
	$session->query_safe('BEGIN');
	$session->query_safe($before) if defined $before;
	my $out = $session->query_safe($sql);
	kill 'KILL', $pid;
	eval { $session->quit; };
	$node->poll_query_until('postgres', 'SELECT 1', '1')
	  or die 'the server did not come back after the crash';
	return $out;
}

# --- the crash loop --------------------------------------------------------
sql(q{SELECT queue.create('poison', max_deliveries => 3, visibility_timeout => '1 hour')});
sql(q{SELECT queue.send('poison', '{"poison":true}')});
sql(q{SELECT queue.send('poison', jsonb_build_object('n', g)) FROM generate_series(1, 4) g});

my $logpos = -s $node->logfile;
for my $k (1 .. 3)
{
	is(crash_after(q{SELECT id, delivery_count FROM queue.read('poison', 1)}), "1|$k",
		"crash $k: the poison message was handed out with delivery_count $k");
	is(sql(q{SELECT delivery_count, leased FROM queue.q_poison WHERE id = 1}), '0|f',
		"after crash $k the row is as before the read (the increment rolled back)");
}
like(slurp_file($node->logfile, $logpos),
	qr/1 deliveries of transactions interrupted by a crash recovered/,
	'the restart recovered the interrupted delivery from the journal');

# three crashes: it is not handed out a fourth time; the worker moves it
is(sql(q{SELECT count(*) FROM queue.read('poison', 10, '0 seconds') WHERE id = 1}), '0',
	'after max_deliveries crashes the poison message is not handed out again');
is(step(), '1|3', 'the worker step dead-letters it, counting the three crashed deliveries');
is(sql(q{SELECT id, delivery_count, reason FROM queue.dl_poison}),
	'1|3|delivered 3 times without an ack', 'in the dead letters with three deliveries');
is(sql(q{SELECT count(*) FROM queue.q_poison WHERE id = 1}), '0', 'and gone from the queue');
# the others are delivered normally
is(sql(q{SELECT string_agg(id || ':' || delivery_count, ',' ORDER BY id)
           FROM queue.read('poison', 10)}), '2:2,3:2,4:2,5:2',
	'the other messages are delivered (their 0-second read above counted once)');
is(sql(q{SELECT queue.ack('poison', ARRAY[2,3,4,5]::bigint[])}), '4', 'and acked');

# --- a batch read ----------------------------------------------------------
sql(q{SELECT queue.create('batch', visibility_timeout => '1 hour')});
sql(q{SELECT queue.send_batch('batch', array_fill('{"b":1}'::jsonb, ARRAY[50]))});
is(crash_after(q{SELECT count(*) FROM queue.read('batch', 50)}), '50', 'a batch of 50 read');
is(sql(q{SELECT min(delivery_count), max(delivery_count), count(*)
           FROM queue.read('batch', 50)}), '2|2|50',
	'after the crash each of the 50 counts its crashed delivery');

# --- a read rolled back to a savepoint, then the crash ---------------------
sql(q{SELECT queue.create('sub', visibility_timeout => '1 hour')});
sql(q{SELECT queue.send('sub', '{"s":1}')});
crash_after('ROLLBACK TO SAVEPOINT s',
	q{SAVEPOINT s; SELECT id FROM queue.read('sub', 1)});
is(sql(q{SELECT delivery_count FROM queue.read('sub', 1)}), '2',
	'a delivery rolled back to a savepoint before the crash still counts');

# --- a read that committed: counted once, not again by the crash -----------
sql(q{SELECT queue.create('done', visibility_timeout => '1 hour')});
sql(q{SELECT queue.send('done', '{"d":1}')});
is(sql(q{SELECT delivery_count FROM queue.read('done', 1, '0 seconds')}), '1',
	'a read that commits');
crash_after('SELECT 1');
is(sql(q{SELECT delivery_count FROM queue.read('done', 1)}), '2',
	'a crash later does not count the committed delivery again');

# --- an immediate shutdown with a read in progress -------------------------
sql(q{SELECT queue.create('stop', visibility_timeout => '1 hour')});
sql(q{SELECT queue.send('stop', '{"i":1}')});
{
	my $session = $node->background_psql('postgres');
	$session->query_safe(q{BEGIN; SELECT id FROM queue.read('stop', 1)});
	$node->stop('immediate');
	eval { $session->quit; };
	$node->start;
}
is(sql(q{SELECT delivery_count FROM queue.read('stop', 1)}), '2',
	'a delivery interrupted by an immediate shutdown counts');

# --- a message nobody reads again: the worker counts it --------------------
sql(q{SELECT queue.create('idle', max_deliveries => 5, visibility_timeout => '1 hour')});
sql(q{SELECT queue.send('idle', '{"i":1}')});
crash_after(q{SELECT id FROM queue.read('idle', 1)});
is(step(), '0|1', 'the worker step counts the crashed delivery');
is(sql(q{SELECT delivery_count, leased FROM queue.q_idle}), '1|f',
	'into the row, which stays ready');
is(step(), '0|0', 'and only once');
is(sql(q{SELECT delivery_count FROM queue.read('idle', 1)}), '2', 'the next read counts on from it');

# a clean restart leaves nothing behind: the journal is empty
$node->restart;
is(sql(q{SELECT delivery_count FROM queue.q_idle}), '2', 'a clean restart counts nothing more');
ok(!grep({ -s "$_" > 8 } glob($node->data_dir . '/pg_queue/deliveries.*')),
	'no journal file holds entries after a clean restart');

$node->stop;
done_testing();
