# Upgrade: databases made with queue 0.1.0, 0.2.0, 0.3.0, 0.4.0, 0.5.0 and 0.6.0, with
# queues holding messages, are updated with ALTER EXTENSION queue UPDATE.
# Afterwards each must have exactly the objects of a fresh install of the
# current version (functions with their bodies, settings, volatility,
# security and privileges; tables, views, types; config tables), keep
# every message, and work under the privilege rules and the read
# positions of the current version.
#
# Copyright (c) 2026, the queue authors
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'queue'
queue.worker_enabled = off
});
$node->start;

my $current = $node->safe_psql('postgres',
	q{SELECT default_version FROM pg_available_extensions WHERE name = 'queue'});
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION queue');
$node->safe_psql('fresh', q{SELECT queue.create('orders', retention => '1 day')});
$node->safe_psql('postgres', 'CREATE ROLE producer; CREATE ROLE stranger;');

foreach my $from ('0.1.0', '0.2.0', '0.3.0', '0.4.0', '0.5.0', '0.6.0')
{
	$node->safe_psql('postgres', 'CREATE DATABASE old');

	$node->safe_psql('old', qq{
		CREATE EXTENSION queue VERSION '$from';
		SELECT queue.create('orders', retention => '1 day');
		SELECT queue.create('keyed', ordered => true);
		SELECT queue.bind('events', 'orders');
		SELECT queue.send('orders', jsonb_build_object('n', g)) FROM generate_series(1, 10) g;
		SELECT queue.send('keyed', '{"k":1}', idempotency_key => 'k1', group_key => 'g');
		SELECT queue.send('keyed', '{"k":2}', producer => 'p', producer_seq => 1);
	});
	# one message in flight, one acked into the archive
	$node->safe_psql('old', q{
		SELECT id FROM queue.read('orders', 1, '1 hour');
		SELECT queue.ack('orders', 2) FROM queue.read('orders', 1);
	});
	is($node->safe_psql('old', q{SELECT extversion FROM pg_extension WHERE extname = 'queue'}),
		$from, "installed $from");

	# this library, before ALTER EXTENSION UPDATE: the old SQL's table
	# privileges still say who may send (0.1.0 had no queue.grant)
	if ($from ne '0.1.0')
	{
		$node->safe_psql('old', q{SELECT queue.grant('keyed', 'producer', 'send')});
		is($node->safe_psql('old', q{SET ROLE producer; SELECT queue.send('keyed', '{"k":9}') > 0}), 't',
			"before the update, a producer granted send by $from sends");
		my ($r0, $o0, $e0) = $node->psql('old', q{SET ROLE stranger; SELECT queue.send('keyed', '{}')});
		like($e0, qr/permission denied for queue "keyed"/, "before the update, a stranger cannot");
	}

	$node->safe_psql('old', 'ALTER EXTENSION queue UPDATE');
	if ($from ne '0.1.0')
	{
		is($node->safe_psql('old', q{SET ROLE producer; SELECT queue.send('keyed', '{"k":10}') > 0}), 't',
			"after the update, the producer's grant of $from still holds");
	}
	is($node->safe_psql('old', q{SELECT extversion FROM pg_extension WHERE extname = 'queue'}),
		$current, "updated from $from to $current");

	# Every member of the extension, described with what matters of it.
	my $catalog = q{
		SELECT pg_describe_object(d.classid, d.objid, 0) || ' ' ||
			   coalesce((SELECT concat_ws(' | ', p.prokind, p.provolatile, p.prosecdef,
										  p.proisstrict, p.proconfig::text, p.proacl::text,
										  pg_get_function_arguments(p.oid),
										  pg_get_function_result(p.oid), md5(p.prosrc),
										  p.probin)
						   FROM pg_proc p
						  WHERE d.classid = 'pg_proc'::regclass AND p.oid = d.objid),
						(SELECT concat_ws(' | ', c.relkind, c.relacl::text,
										  (SELECT string_agg(a.attname || ' ' ||
															 format_type(a.atttypid, a.atttypmod) ||
															 CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
															 ', ' ORDER BY a.attnum)
											 FROM pg_attribute a
											WHERE a.attrelid = c.oid AND a.attnum > 0
											  AND NOT a.attisdropped),
										  CASE WHEN c.relkind = 'v'
											   THEN md5(pg_get_viewdef(c.oid)) END)
						   FROM pg_class c
						  WHERE d.classid = 'pg_class'::regclass AND c.oid = d.objid),
						'')
		  FROM pg_depend d
		 WHERE d.refclassid = 'pg_extension'::regclass
		   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'queue')
		   AND d.deptype = 'e'
		 ORDER BY 1
	};
	my $old = $node->safe_psql('old', $catalog);
	my $fresh = $node->safe_psql('fresh', $catalog);
	cmp_ok(scalar(split /\n/, $fresh), '>', 50, 'the fresh install has its objects listed');
	is($old, $fresh, "the database updated from $from has the objects of a fresh install");

	my $extras = q{
		SELECT (SELECT array_agg(c::regclass::text ORDER BY c::regclass::text)
				  FROM pg_extension e, unnest(e.extconfig) c WHERE e.extname = 'queue'),
			   (SELECT nspacl FROM pg_namespace WHERE nspname = 'queue')
	};
	is($node->safe_psql('old', $extras), $node->safe_psql('fresh', $extras),
		'same config tables and schema privileges');

	# a queue made by $from has, after the update, the objects of one made by
	# the current version: tables, indexes, constraints and sequence
	my $queue_objects = q{
		SELECT c.relname || ' ' || c.relkind::text || ' ' ||
			   coalesce(pg_get_indexdef(c.oid), '') || ' ' ||
			   coalesce((SELECT string_agg(k.conname || ' ' || pg_get_constraintdef(k.oid), ', '
										   ORDER BY k.conname)
						   FROM pg_constraint k WHERE k.conrelid = c.oid), '') || ' ' ||
			   pg_get_userbyid(c.relowner)
		  FROM pg_class c
		 WHERE c.relnamespace = 'queue'::regnamespace AND c.relname ~ '_orders$'
		 ORDER BY 1
	};
	my $fresh_objects = $node->safe_psql('fresh', $queue_objects);
	cmp_ok(scalar(split /\n/, $fresh_objects), '==', 15, 'a queue has 15 relations (5 tables, 9 indexes, a sequence)');
	is($node->safe_psql('old', $queue_objects), $fresh_objects,
		"a queue made by $from has the relations of one made now");

	# the ordered queue of $from has a group limit of 1; the other none
	is($node->safe_psql('old', q{
		SELECT string_agg(queue_name || ' ' || ordered || ' ' || coalesce(max_in_flight_per_group::text, '-')
						  || ' ' || coalesce(dead_letter_queue, '-'), ', ' ORDER BY queue_name)
		  FROM queue.queues}),
		'keyed true 1 -, orders false - -', "ordered queues of $from keep one message per group in flight");

	# the messages survived, and the queues work
	is($node->safe_psql('old', q{SELECT ready, in_flight, archived FROM queue.stats('orders', exact => true)}),
		'8|1|1', 'messages, the one in flight and the archived one kept');
	is($node->safe_psql('old', q{
		SELECT string_agg(DISTINCT pg_get_userbyid(c.relowner), ',')
		  FROM pg_class c
		 WHERE c.relnamespace = 'queue'::regnamespace AND c.relkind = 'r'
		   AND c.relname ~ '^(q|dl|a|k|p)_(orders|keyed)$'}),
		'postgres', 'queue tables belong to the extension owner');
	is($node->safe_psql('old', q{SELECT queue.send('keyed', '{"k":3}', idempotency_key => 'k1')}),
		'1', 'idempotency keys kept across the update');
	is($node->safe_psql('old', q{SELECT queue.publish('events', '{"e":1}')}), '1', 'bindings kept');

	# the privilege rules hold for queues made before the update
	$node->safe_psql('old', q{
		SELECT queue.grant('orders', 'producer', 'send');
	});
	my ($ret, $stdout, $stderr) = $node->psql('old', q{
		SET ROLE producer;
		SELECT queue.send('orders', '{"from":"producer"}');
	});
	is($ret, 0, 'a producer sends to an old queue');
	($ret, $stdout, $stderr) = $node->psql('old', q{
		SET ROLE producer;
		SELECT * FROM queue.read('orders');
	});
	like($stderr, qr/permission denied for queue "orders"/, 'a producer cannot read it');
	($ret, $stdout, $stderr) = $node->psql('old', q{
		SET ROLE stranger;
		SELECT queue.purge('orders');
	});
	like($stderr, qr/permission denied for queue "orders"/, 'a stranger cannot purge it');

	# and the extension still drops with its queues
	$node->safe_psql('old', 'DROP EXTENSION queue CASCADE');
	is($node->safe_psql('old', q{SELECT count(*) FROM pg_class WHERE relname LIKE 'q\_%'}), '0',
		'DROP EXTENSION CASCADE drops the queues made before the update');
	$node->safe_psql('postgres', 'DROP DATABASE old');
}

$node->stop;
done_testing();
