# pg_dump and pg_restore keep every queue, message, dead letter, archived
# message, idempotency key, producer sequence and binding, and the restored
# queues work: ids go on from where they were, keys still deduplicate.
#
# Copyright (c) 2026, the queue authors
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump_restore');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'queue'\n");
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', q{
	SET client_min_messages = warning;
	CREATE EXTENSION queue;
	SELECT queue.create('orders', retention => '1 day', max_deliveries => 1);
	SELECT queue.create('audit', visibility_timeout => '2 minutes', unlogged => false);
	SELECT queue.bind('events', 'orders'), queue.bind('events', 'audit');
	SELECT queue.send('orders', jsonb_build_object('n', g), idempotency_key => 'k' || g,
	                  producer => 'shop', producer_seq => g)
	  FROM generate_series(1, 10) g WHERE g <> 5;
	SELECT queue.publish('events', '{"e": 1}');
	-- one acked (archived), one dead-lettered, one in flight
	SELECT queue.ack('orders', 1);
	SELECT id FROM queue.read('orders', 1);
	SELECT queue.nack('orders', 2, reason => 'poison');
	SELECT id FROM queue.read('orders', 1);
});

my $state = q{
	SELECT
	  (SELECT string_agg(queue_name || ':' || max_deliveries || ':' || coalesce(retention::text, '-'), ',' ORDER BY queue_name) FROM queue.queues),
	  (SELECT string_agg(id::text || '/' || delivery_count, ',' ORDER BY id) FROM queue.q_orders),
	  (SELECT string_agg(id::text || '/' || reason, ',' ORDER BY id) FROM queue.dead_letters('orders')),
	  (SELECT string_agg(id::text, ',' ORDER BY id) FROM queue.a_orders),
	  (SELECT count(*) FROM queue.k_orders),
	  (SELECT string_agg(topic || '>' || queue_name, ',' ORDER BY queue_name) FROM queue.bindings),
	  (SELECT string_agg(producer || ':' || missing_from || '-' || missing_to, ',') FROM queue.producer_gaps('orders')),
	  (SELECT count(*) FROM queue.q_audit)
};
my $before = $node->safe_psql('src', $state);
like($before, qr/^audit:5:-,orders:1:1 day\|/, 'source state as expected');

my $dump = $node->basedir . '/src.dump';
$node->command_ok(
	[ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('src') ],
	'pg_dump of a database with queues');

$node->safe_psql('postgres', 'CREATE DATABASE dst');
$node->command_ok(
	[ 'pg_restore', '--exit-on-error', '-d', $node->connstr('dst'), $dump ],
	'pg_restore into an empty database');

is($node->safe_psql('dst', $state), $before,
	'queues, messages, dead letters, archive, keys, bindings and sequences survive');

# the restored queues work
is($node->safe_psql('dst',
		"SELECT queue.send('orders', '{}', idempotency_key => 'k3') = 3"),
	't', 'an idempotency key from before the dump still deduplicates');
ok($node->safe_psql('dst', "SELECT queue.send('orders', '{}') > 10") eq 't',
	'ids go on after the highest one sent before the dump');
is($node->safe_psql('dst', "SELECT count(*) FROM queue.read('orders', 100)"),
	'8', 'messages are readable (the in-flight one stays hidden)');
is($node->safe_psql('dst', "SELECT queue.redrive('orders')"), '1',
	'dead letters can be redriven');
is($node->safe_psql('dst', "SELECT queue.publish('events', '{}')"), '2',
	'bindings still fan out');

$node->stop;
done_testing();
