# Queues on a real Citus cluster: one coordinator and two workers on this
# machine, set up as the README's "Past one server" recipe says.
#
# - queue.citus_distribute(colocate_with => 'orders') routes every function
#   that takes a queue name; each queue is on the node of its tenant's
#   orders;
# - a call on a node without the queue names the node that has it; a NULL
#   queue name is an error, not a crashed backend (Citus 13.2 would hash
#   it);
# - the guards: the extension's tables cannot be distributed, made
#   reference tables or added to Citus's metadata; the shards of
#   queue.placement cannot be moved, copied or split; publish refuses;
# - a transaction spanning two workers commits both sends or neither,
#   also when the second node fails at PREPARE;
# - the cluster-wide views;
# - load: producers insert an order and send in one transaction on the
#   coordinator (some roll back, some span two workers), consumers read
#   from the workers directly and ack in the same transaction as their
#   own insert; QueueCheck's checker reports no loss and no duplicate;
# - DROP EXTENSION queue CASCADE leaves nothing that blocks a new CREATE
#   EXTENSION.
#
# Citus is built by test/setup.sh (../shared/citus/build.sh); without it
# the test is skipped.
#
# Copyright (c) 2026, the queue authors
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

use lib 'test/t';
use QueueCheck;

my $libdir = `pg_config --pkglibdir`;
chomp $libdir;
plan skip_all => "Citus is not installed in $libdir (test/setup.sh builds it from ../shared/citus)"
  unless -f "$libdir/citus.so";

my @nodes;
for my $name ('coordinator', 'worker1', 'worker2')
{
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(allows_streaming => 'logical');
	my $host = $node->host;
	$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'citus,queue'
max_prepared_transactions = 100
max_connections = 100
citus.local_hostname = '$host'
});
	$node->start;
	push @nodes, $node;
}
my ($coord, $w1, $w2) = @nodes;
my $host = $coord->host;
my %port_of = (coordinator => $coord->port, worker1 => $w1->port, worker2 => $w2->port);
my %node_at = map { $_->port => $_ } @nodes;

# --- the recipe --------------------------------------------------------------
$_->safe_psql('postgres', 'CREATE EXTENSION citus') for @nodes;
$coord->safe_psql('postgres', qq{
	SELECT citus_set_coordinator_host('$host', $port_of{coordinator});
	SELECT citus_add_node('$host', $port_of{worker1});
	SELECT citus_add_node('$host', $port_of{worker2});
});
$coord->safe_psql('postgres', q{
	CREATE EXTENSION queue;
	CREATE TABLE orders (tenant text NOT NULL, key text NOT NULL,
						 at timestamptz NOT NULL DEFAULT now());
	SELECT create_distributed_table('orders', 'tenant');
	CREATE TABLE processed (tenant text NOT NULL, key text NOT NULL,
							msg_id bigint NOT NULL, consumer int,
							at timestamptz NOT NULL DEFAULT clock_timestamp());
	SELECT create_distributed_table('processed', 'tenant', colocate_with => 'orders');
});
is($w1->safe_psql('postgres', q{SELECT extversion FROM pg_extension WHERE extname = 'queue'}),
	$coord->safe_psql('postgres', q{SELECT extversion FROM pg_extension WHERE extname = 'queue'}),
	'CREATE EXTENSION queue reached the workers');

my ($ret, $out, $err) = $w1->psql('postgres', q{SELECT queue.citus_distribute()});
like($err, qr/runs on the coordinator/, 'citus_distribute refuses to run on a worker');

my $routed = $coord->safe_psql('postgres',
	q{SELECT queue.citus_distribute(colocate_with => 'orders')});
cmp_ok($routed, '>=', 20, "citus_distribute routed $routed functions");
is($coord->safe_psql('postgres', q{SELECT queue.citus_distribute(colocate_with => 'orders')}),
	$routed, 'citus_distribute again changes nothing');
is($coord->safe_psql('postgres', q{
	SELECT string_agg(f, ',' ORDER BY f) FROM unnest(ARRAY[
		'send', 'send_batch', 'read', 'ack', 'nack', 'extend', 'pop', 'create',
		'alter', 'drop', 'purge', 'grant', 'revoke', 'stats', 'dead_letters',
		'redrive']) f
	 WHERE NOT EXISTS (
		SELECT 1 FROM pg_dist_object o JOIN pg_proc p ON p.oid = o.objid
		 WHERE o.classid = 'pg_proc'::regclass AND p.proname = f
		   AND p.pronamespace = 'queue'::regnamespace
		   AND o.distribution_argument_index = 0 AND o.force_delegation
		   AND o.colocationid = (SELECT colocationid FROM pg_dist_partition
								  WHERE logicalrelid = 'queue.placement'::regclass))}),
	'', 'every function of the issue routes by its queue name, forced into transactions');
is($coord->safe_psql('postgres', q{
	SELECT a.colocationid = b.colocationid FROM pg_dist_partition a, pg_dist_partition b
	 WHERE a.logicalrelid = 'queue.placement'::regclass AND b.logicalrelid = 'orders'::regclass}),
	't', 'queue.placement is colocated with orders');
($ret, $out, $err) = $coord->psql('postgres',
	q{SELECT queue.citus_distribute(colocate_with => 'processed')});
is($ret, 0, 'citus_distribute with another table of the same colocation group is accepted');

# --- queues, one per tenant ------------------------------------------------------
my @tenants = map { "tenant_$_" } ('a' .. 'h');
$coord->safe_psql('postgres', join('', map { "SELECT queue.create('$_');\n" } @tenants));
my %queue_port;
for (split /\n/, $coord->safe_psql('postgres',
		q{SELECT queue_name || ' ' || node_port FROM queue.cluster_queues()}))
{
	my ($q, $p) = split / /;
	$queue_port{$q} = $p;
}
is(join(',', sort keys %queue_port), join(',', @tenants), 'cluster_queues lists every queue once');
my %shard_port;
for my $t (@tenants)
{
	$shard_port{$t} = $coord->safe_psql('postgres', qq{
		SELECT nodeport FROM pg_dist_shard_placement
		 WHERE shardid = get_shard_id_for_distribution_column('orders', '$t')});
}
is_deeply(\%queue_port, \%shard_port, "each tenant's queue is on the node of its orders");
my @on1 = grep { $queue_port{$_} == $port_of{worker1} } @tenants;
my @on2 = grep { $queue_port{$_} == $port_of{worker2} } @tenants;
ok(@on1 && @on2, sprintf('both workers hold queues (%d and %d)', scalar @on1, scalar @on2));
is($coord->safe_psql('postgres', q{SELECT count(*) FROM queue.registry}), '0',
	'the coordinator holds no queue');
my ($qa, $qb) = ($on1[0], $on2[0]);

# --- calls on a node without the queue ----------------------------------------
($ret, $out, $err) = $w2->psql('postgres',
	qq{DO \$\$ BEGIN PERFORM queue.send('$qa', '{}'); END \$\$});
like($err, qr/queue "$qa" is not on this node/, 'a call that runs on the wrong worker says so');
like($err, qr/places it on node \Q$host\E:$port_of{worker1}/, '... and names the node that holds it');
($ret, $out, $err) = $coord->psql('postgres',
	qq{SELECT * FROM queue.read('$qa', 1) WHERE random() >= 0});
like($err, qr/queue "$qa" is not on this node.*\n.*:$port_of{worker1}/,
	'a call the coordinator cannot route (a volatile WHERE clause) names the node');
($ret, $out, $err) = $coord->psql('postgres', qq{SELECT queue.stats('no_such_queue')});
like($err, qr/queue "no_such_queue" does not exist/,
	'a queue that exists nowhere: routed to the node of its name, which says it does not exist');
like($w2->safe_psql('postgres', qq{SELECT queue.send('$qa', '{"via": "worker2"}')}), qr/^\d+$/,
	'a top-level call on another worker is routed to the queue\'s node');
is($w1->safe_psql('postgres', qq{SELECT body->>'via' FROM queue.pop('$qa')}), 'worker2',
	'... where the message is');
my $elsewhere;
for my $i (1 .. 50)
{
	my $p = $coord->safe_psql('postgres', qq{
		SELECT nodeport FROM pg_dist_shard_placement
		 WHERE shardid = get_shard_id_for_distribution_column('queue.placement', 'spare_$i')});
	if ($p == $port_of{worker1}) { $elsewhere = "spare_$i"; last; }
}
($ret, $out, $err) = $w2->psql('postgres',
	qq{DO \$\$ BEGIN PERFORM queue.create('$elsewhere'); END \$\$});
like($err, qr/queue "$elsewhere" is not on this node/,
	'create on a node the name does not place the queue on is refused');
($ret, $out, $err) = $coord->psql('postgres',
	qq{SELECT queue.create('$elsewhere', dead_letter_queue => '$qb')});
like($err, qr/dead-letter queue "$qb" is not on this node/,
	'a dead-letter queue on another node is refused, naming its node');

# --- NULL queue names: errors, not crashes -------------------------------------------
for my $node ($coord, $w1)
{
	my $name = $node->name;
	($ret, $out, $err) = $node->psql('postgres', q{SELECT queue.send(NULL, '{}')});
	like($err, qr/queue name must not be NULL/, "$name: send(NULL) is an error");
	($ret, $out, $err) = $node->psql('postgres',
		q{PREPARE s(text) AS SELECT queue.send($1, '{}'); EXECUTE s(NULL)});
	like($err, qr/queue name must not be NULL/, "$name: a prepared send with a NULL parameter too");
	($ret, $out, $err) = $node->psql('postgres',
		q{BEGIN; SELECT queue.read(NULL); ROLLBACK});
	like($err, qr/queue name must not be NULL/, "$name: read(NULL) in a transaction too");
	is($node->safe_psql('postgres', q{SELECT count(*) >= 0 FROM queue.stats()}), 't',
		"$name: stats() answers for its own node");
}
is($w1->safe_psql('postgres', q{SELECT string_agg(queue_name, ',' ORDER BY queue_name) FROM queue.stats()}),
	join(',', @on1), "stats() on a worker lists that worker's queues");

# --- guards --------------------------------------------------------------------
($ret, $out, $err) = $coord->psql('postgres',
	q{SELECT create_distributed_table('queue.registry', 'queue_name')});
like($err, qr/table queue.registry cannot be distributed/, 'queue.registry cannot be distributed');
($ret, $out, $err) = $coord->psql('postgres', q{SELECT create_reference_table('queue.grants')});
like($err, qr/table queue.grants cannot be distributed/, 'queue.grants cannot be a reference table');
($ret, $out, $err) = $coord->psql('postgres',
	q{SELECT citus_add_local_table_to_metadata('queue.bindings', cascade_via_foreign_keys => true)});
like($err, qr/table queue.bindings cannot be distributed/,
	'queue.bindings cannot be added to Citus\'s metadata');
is($coord->safe_psql('postgres', q{
	SELECT count(*) FROM pg_dist_partition
	 WHERE logicalrelid::regclass::text LIKE 'queue.%'
	   AND logicalrelid <> 'queue.placement'::regclass}), '0',
	'no table of schema queue but queue.placement is in Citus\'s metadata');

my $shard = $coord->safe_psql('postgres', qq{
	SELECT get_shard_id_for_distribution_column('queue.placement', '$qa')});
for my $mode ('block_writes', 'force_logical')
{
	($ret, $out, $err) = $coord->psql('postgres', qq{
		SELECT citus_move_shard_placement($shard, '$host', $port_of{worker1},
										  '$host', $port_of{worker2},
										  shard_transfer_mode => '$mode')});
	like($err, qr/shard $shard of queue.placement cannot be moved, copied or split/,
		"moving the shard that places $qa is refused ($mode)");
}
($ret, $out, $err) = $coord->psql('postgres',
	qq{SELECT isolate_tenant_to_new_shard('orders', '$qa', cascade_option => 'CASCADE',
											 shard_transfer_mode => 'block_writes')});
like($err, qr/of queue.placement cannot be moved, copied or split/,
	'splitting it (isolate_tenant_to_new_shard) is refused');
is($coord->safe_psql('postgres', qq{
	SELECT nodeport FROM pg_dist_shard_placement WHERE shardid = $shard}),
	$port_of{worker1}, 'the shard stayed where it was');
like($coord->safe_psql('postgres', qq{SELECT queue.send('$qa', '{"after": "move"}')}), qr/^\d+$/,
	'the queue works after the refused move');
$coord->safe_psql('postgres', qq{SELECT queue.purge('$qa')});

($ret, $out, $err) = $coord->psql('postgres', q{SELECT queue.publish('topic', '{}')});
like($err, qr/publish does not fan out across the nodes of a Citus cluster/, 'publish is refused');
($ret, $out, $err) = $w1->psql('postgres', qq{SELECT queue._bind_impl('topic', '$qa')});
like($err, qr/bind does not fan out/, 'bind is refused');

# --- a transaction spanning two workers ------------------------------------------
sub depth
{
	my ($q) = @_;
	return $coord->safe_psql('postgres', qq{SELECT ready FROM queue.stats('$q', exact => true)});
}
$coord->safe_psql('postgres', qq{
	BEGIN;
	SELECT queue.send('$qa', '{"k": 1}');
	INSERT INTO orders (tenant, key) VALUES ('$qb', 'two-node');
	SELECT queue.send('$qb', '{"k": 1}');
	COMMIT;
});
is(depth($qa) . ' ' . depth($qb), '1 1', 'a transaction on two workers commits both sends');
$coord->safe_psql('postgres', qq{
	BEGIN;
	SELECT queue.send('$qa', '{"k": 2}');
	SELECT queue.send('$qb', '{"k": 2}');
	ROLLBACK;
});
is(depth($qa) . ' ' . depth($qb), '1 1', '... and a rollback neither');
$coord->safe_psql('postgres', q{
	CREATE TABLE guard (tenant text NOT NULL, v int NOT NULL,
						CONSTRAINT guard_once UNIQUE (tenant, v) DEFERRABLE INITIALLY DEFERRED);
	SELECT create_distributed_table('guard', 'tenant', colocate_with => 'orders');
});
$coord->safe_psql('postgres', qq{INSERT INTO guard VALUES ('$qb', 1)});
($ret, $out, $err) = $coord->psql('postgres', qq{
	BEGIN;
	SELECT queue.send('$qa', '{"k": 3}');
	SELECT queue.send('$qb', '{"k": 3}');
	INSERT INTO guard VALUES ('$qb', 1);
	COMMIT;
});
like($err, qr/guard_once/, "a commit that fails at PREPARE on the node of $qb is an error");
is(depth($qa) . ' ' . depth($qb), '1 1', '... and commits neither send');
is($coord->safe_psql('postgres', q{SELECT count(*) FROM pg_prepared_xacts}) . ' '
	  . $w1->safe_psql('postgres', q{SELECT count(*) FROM pg_prepared_xacts}) . ' '
	  . $w2->safe_psql('postgres', q{SELECT count(*) FROM pg_prepared_xacts}),
	'0 0 0', 'no prepared transaction is left behind');
$coord->safe_psql('postgres', qq{SELECT queue.purge('$qa'); SELECT queue.purge('$qb');});

# --- cluster-wide views ------------------------------------------------------
is($coord->safe_psql('postgres', q{SELECT count(*) FROM queue.cluster_stats()}),
	scalar @tenants, 'cluster_stats has a row per queue');
is($coord->safe_psql('postgres', qq{
	SELECT node_port FROM queue.cluster_stats(exact => true) WHERE queue_name = '$qb'}),
	$port_of{worker2}, '... with the node that holds it');
my $workers_seen = 0;
for (1 .. 100)
{
	$workers_seen = $coord->safe_psql('postgres',
		q{SELECT count(DISTINCT node_port) FROM queue.cluster_worker_status() WHERE pid IS NOT NULL});
	last if $workers_seen == 3;
	usleep(200_000);
}
is($workers_seen, 3, 'cluster_worker_status shows the worker of every node');

# --- load: producers on the coordinator, consumers on the workers ----------------
my $dir = $PostgreSQL::Test::Utils::tmp_check . '/citus_load';
my $run = QueueCheck::new_run($dir,
	join("\n", map { $_->connstr('postgres') } $coord, $w1, $w2));
{
	local $QueueCheck::CLIENT = 'test/load/citus_client.py';
	local $QueueCheck::EXTRA_ARGS = [ '--tenants', join(',', @tenants) ];
	QueueCheck::start($run, 3, 4, 0.1);
}
sleep 15;
ok(QueueCheck::stop($run, 120), 'every client stopped');
my @queued;
my @dead;
for my $node ($w1, $w2)
{
	for my $t (qw(q dl))
	{
		my $sql = $node->safe_psql('postgres', qq{
			SELECT coalesce(string_agg(format('SELECT body->>''key'' FROM queue.%I', '${t}_' || queue_name),
									   ' UNION ALL '), 'SELECT NULL WHERE false')
			  FROM queue.queues});
		my @keys = QueueCheck::column($node, 'postgres', $sql);
		push @{ $t eq 'q' ? \@queued : \@dead }, @keys;
	}
}
my $r = QueueCheck::check($coord, 'postgres', $run, queued => \@queued, dead => \@dead,
	ordered => 0);
note(QueueCheck::summary($r));
cmp_ok($r->{sent}, '>', 100, "producers sent $r->{sent} messages");
is($r->{lost}, 0, 'lost = 0');
is(scalar @{ $r->{duplicates} }, 0, 'duplicates = 0');
is(scalar @{ $r->{unexpected} }, 0, 'no message of a rolled-back transaction was processed');
is($coord->safe_psql('postgres', q{
	SELECT count(*) FROM processed p
	 WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.key = p.key AND o.tenant = p.tenant)}),
	'0', 'every processed message belongs to a committed order of its tenant');
is($coord->safe_psql('postgres', q{
	SELECT count(*) FROM orders o
	 WHERE o.key LIKE 'P%'
	   AND NOT EXISTS (SELECT 1 FROM processed p WHERE p.key = o.key AND p.tenant = o.tenant)}),
	'0', 'every committed order was processed');
is($coord->safe_psql('postgres', q{SELECT count(DISTINCT consumer) FROM processed}), '4',
	'consumers on both workers processed messages');

# --- DROP EXTENSION leaves nothing behind ----------------------------------------
$coord->safe_psql('postgres', 'DROP EXTENSION queue CASCADE');
for my $node (@nodes)
{
	is($node->safe_psql('postgres', q{
			SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			 WHERE n.nspname = 'queue'}),
		'0', $node->name . ': DROP EXTENSION queue CASCADE left no relation (nor shard) in schema queue');
}
$coord->safe_psql('postgres', 'CREATE EXTENSION queue');
is($coord->safe_psql('postgres', q{SELECT queue.citus_distribute(colocate_with => 'orders')}),
	$routed, 'CREATE EXTENSION and citus_distribute work again');
$coord->safe_psql('postgres', qq{SELECT queue.create('$qa')});
is($w1->safe_psql('postgres', qq{SELECT count(*) FROM queue.queues WHERE queue_name = '$qa'}),
	'1', 'and a queue is placed as before');

$_->stop for @nodes;
done_testing();
