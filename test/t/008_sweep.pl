# The worker's dead-letter sweep scans a queue's table only when a
# last-chance delivery (one that reached max_deliveries) has come due, when
# the step counted failed deliveries on the queue, or after queue.alter
# (src/counters.c: sweep_due).  Each way a message becomes poison must
# still reach the dead letters, at the right step and not before; and a
# queue with nothing due is not scanned at all.
#
# The background worker is off (queue.worker_enabled), so that the steps
# run here by hand are the only ones.
#
# Copyright (c) 2026, the queue authors
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('sweep');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'queue'
queue.worker_enabled = off
max_prepared_transactions = 2
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION queue');

sub sql { return $node->safe_psql('postgres', $_[0]); }

# one worker step; returns "dead_lettered|failures_counted"
sub step
{
	return sql('SELECT dead_lettered, failures_counted FROM queue._worker_step(100)');
}

sub nap { select(undef, undef, undef, $_[0]); }

sql(q{SELECT queue.create('sw', visibility_timeout => '100 ms', max_deliveries => 2)});

# 1. a last delivery that times out
sql(q{SELECT queue.send('sw', '{"n":1}')});
is(sql(q{SELECT id || '/' || delivery_count FROM queue.read('sw')}), '1/1', 'first delivery');
nap(0.3);
is(sql(q{SELECT id || '/' || delivery_count FROM queue.read('sw', visibility_timeout => '1 s')}),
	'1/2', 'last delivery');
is(step(), '0|0', 'a last delivery in flight is not swept');
nap(1.2);
is(step(), '1|0', 'swept once its visibility timeout ran out');
is(step(), '0|0', 'nothing left');
is(sql(q{SELECT string_agg(id || '/' || delivery_count, ',') FROM queue.dead_letters('sw')}),
	'1/2', 'in the dead letters with its count');

# 2. a last delivery that is acked leaves nothing to sweep
sql(q{SELECT queue.send('sw', '{"n":2}')});
sql(q{SELECT id FROM queue.read('sw')});
nap(0.3);
is(sql(q{SELECT id || '/' || delivery_count FROM queue.read('sw')}), '2/2', 'last delivery of 2');
is(sql(q{SELECT queue.ack('sw', 2)}), 't', 'acked');
nap(0.3);
is(step(), '0|0', 'an acked last delivery is not dead-lettered');
is(sql(q{SELECT count(*) FROM queue.dead_letters('sw')}), '1', 'still one dead letter');

# 3. a last delivery whose transaction rolls back: the failure is counted
#    and the queue swept in the same step
sql(q{SELECT queue.send('sw', '{"n":3}')});
sql(q{SELECT id FROM queue.read('sw')});
nap(0.3);
is(sql(q{BEGIN; SELECT id || '/' || delivery_count FROM queue.read('sw'); ROLLBACK;}),
	'3/2', 'last delivery, rolled back');
is(step(), '1|1', 'the rolled-back last delivery is counted and swept');

# 4. a last delivery extended past its timeout is swept when the extension
#    runs out, not before
sql(q{SELECT queue.send('sw', '{"n":4}')});
sql(q{SELECT id FROM queue.read('sw')});
nap(0.3);
is(sql(q{SELECT id || '/' || delivery_count FROM queue.read('sw')}), '4/2', 'last delivery of 4');
sql(q{SELECT queue.extend('sw', 4, '2 s')});
nap(0.3);
is(step(), '0|0', 'due, but extended: found in flight');
is(step(), '0|0', 'and not scanned again before its new timeout');
nap(2.0);
is(step(), '1|0', 'swept when the extension ran out');

# 5. lowering max_deliveries makes poison of delivered messages at once
sql(q{SELECT queue.send('sw', '{"n":5}')});
sql(q{SELECT id FROM queue.read('sw')});
nap(0.3);
is(step(), '0|0', 'one delivery of two: not poison');
sql(q{SELECT queue.alter('sw', max_deliveries => 1)});
is(step(), '1|0', 'poison after alter, swept at once');
is(sql(q{SELECT string_agg(id::text, ',' ORDER BY id) FROM queue.dead_letters('sw')}),
	'1,3,4,5', 'dead letters so far');
sql(q{SELECT queue.alter('sw', max_deliveries => 2)});
step();

# 6. a step that rolls back puts the sweep it took back
sql(q{SELECT queue.send('sw', '{"n":6}')});
sql(q{SELECT id FROM queue.read('sw')});
nap(0.3);
sql(q{SELECT id FROM queue.read('sw')});
nap(0.3);
is(sql(q{BEGIN; SELECT dead_lettered FROM queue._worker_step(100); ROLLBACK;}), '1',
	'a step that will roll back');
is(step(), '1|0', 'the next step sweeps again');

# 7. a last delivery in a prepared transaction that commits later
sql(q{SELECT queue.send('sw', '{"n":7}')});
sql(q{SELECT id FROM queue.read('sw')});
nap(0.3);
sql(q{BEGIN; SELECT id FROM queue.read('sw'); PREPARE TRANSACTION 'p7'});
sql(q{COMMIT PREPARED 'p7'});
nap(0.3);
is(step(), '1|0', 'a prepared last delivery is swept after its timeout');

# 8. a server restart forgets the due times: every queue is swept once
sql(q{SELECT queue.send('sw', '{"n":8}')});
sql(q{SELECT id FROM queue.read('sw')});
nap(0.3);
sql(q{SELECT id FROM queue.read('sw', visibility_timeout => '1 s')});
$node->restart;
nap(1.2);
is(step(), '1|0', 'swept after a restart');

# 9. with nothing due, a step does not scan the queue's table
sql(q{SELECT queue.send_batch('sw', array_agg('{}'::jsonb)) FROM generate_series(1, 500)});
step();
my $before = sql(q{SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'q_sw'});
step() for 1 .. 5;
# each psql session flushes its table statistics as it exits
nap(1.0);
my $after = sql(q{SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'q_sw'});
is($after - $before, 0, 'idle steps do not scan the queue table');

# a rolled-back delivery that is not the last: counted, but no scan
sql(q{BEGIN; SELECT id FROM queue.read('sw', 1); ROLLBACK;});
is(step(), '0|1', 'a failure short of max_deliveries is counted');
nap(1.0);
my $after_failure = sql(q{SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'q_sw'});
is($after_failure - $after, 0, '... without a scan of the queue table');
$after = $after_failure;

# the negative control: a due sweep does scan it
sql(q{SELECT queue.alter('sw', max_deliveries => 3)});
step();
nap(1.0);
my $control = sql(q{SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'q_sw'});
cmp_ok($control - $after, '>', 0, 'a due sweep scans it (control)');

# 10. one queue whose housekeeping fails (a retention out of range, forced
#     into the catalog behind queue.alter's checks) does not stop the step
#     for the other queues
sql(q{SELECT queue.create('sw_bad')});
sql(q{SELECT queue.create('sw_good', retention => '1 second')});
sql(q{UPDATE queue.registry SET retention = '200000 years' WHERE queue_name = 'sw_bad'});
sql(q{INSERT INTO queue.a_sw_bad (id, body, delivery_count, enqueued_at) VALUES (1, '{}', 1, now())});
sql(q{INSERT INTO queue.a_sw_good (id, body, delivery_count, enqueued_at, acked_at)
	  VALUES (1, '{}', 1, now(), now() - interval '1 hour')});
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT purged FROM queue._worker_step(100)');
is($out, '1', 'the good queue\'s archive is purged');
like($err, qr/worker step on queue "sw_bad" failed: timestamp out of range/,
	'the bad queue is reported with a warning');

# 10b. extend shortening a last delivery: the sweep comes due when the
#      shortened timeout runs out, not when the first one would have
sql(q{SELECT queue.create('sw_ext', max_deliveries => 1)});
sql(q{SELECT queue.send('sw_ext', '{}')});
is(sql(q{SELECT id || '/' || delivery_count FROM queue.read('sw_ext', visibility_timeout => '1 hour')}),
	'1/1', 'extend: a last delivery for an hour');
step();
is(sql(q{SELECT queue.extend('sw_ext', 1, '200 ms') IS NOT NULL}), 't', 'extend: shortened to 200 ms');
is(step(), '0|0', 'extend: not swept while the shortened timeout runs');
nap(0.5);
is(step(), '1|0', 'extend: swept once the shortened timeout ran out');

# 11. the backstop: a message made poison behind the API, which no note
#     tells the worker about, is swept within a minute
sql(q{SELECT queue.create('sw_behind', max_deliveries => 2)});
sql(q{SELECT queue.send('sw_behind', '{}')});
step();
sql(q{UPDATE queue.q_sw_behind SET delivery_count = 2});
is(step(), '0|0', 'a change behind the API is not seen at once');
my $deadline = time() + 90;
my $moved = 0;
while (!$moved && time() < $deadline)
{
	nap(2.0);
	$moved = (split /\|/, step())[0];
}
is($moved, 1, 'but within a minute or so, by the backstop sweep');

$node->stop;
done_testing();
