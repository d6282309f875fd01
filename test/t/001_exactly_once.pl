# Eight consumers that ack in the same transaction as their own writes
# process every message exactly once, even when some of their transactions
# and subtransactions roll back.
#
# Each consumer transaction reads one message (visibility timeout 1 s),
# records its effect, acks, and then, at random, rolls back the
# subtransaction holding effect and ack (the message comes back after its
# visibility timeout) or the whole transaction (the message comes back at
# once).  The checker counts effects per message: lost = sent - seen,
# duplicates = effects beyond the first.  A negative control proves the
# checker sees a duplicate and a loss when there is one.
#
# The queue never dead-letters (max_deliveries 0): a delivery whose
# transaction rolls back counts as failed, and at the default of 5 a
# message whose five deliveries all fail (about one in four thousand here,
# so one run in three has one) would rightly go to the dead letters, which
# this checker would count as lost.
#
# Copyright (c) 2026, the queue authors
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $messages = 2000;

my $node = PostgreSQL::Test::Cluster->new('exactly_once');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'queue'\nmax_connections = 40\n");
$node->start;

$node->safe_psql('postgres', qq{
	CREATE EXTENSION queue;
	SELECT queue.create('eo', retention => '1 day', max_deliveries => 0);
	CREATE TABLE effects (msg_id bigint NOT NULL, consumer int NOT NULL);
	SELECT count(*) FROM generate_series(1, $messages) g,
		LATERAL queue.send('eo', jsonb_build_object('n', g));
});

my $script = $node->basedir . '/consumer.sql';
open(my $fh, '>', $script) or die "could not write $script: $!";
print $fh <<'EOS';
BEGIN;
SELECT coalesce((SELECT id FROM queue.read('eo', 1, '1 second')), 0) AS id \gset
\if :id
SAVEPOINT work;
INSERT INTO effects (msg_id, consumer) VALUES (:id, :client_id);
SELECT queue.ack('eo', :id) AS acked \gset
\set sub random(1, 10)
\if :sub = 1
ROLLBACK TO SAVEPOINT work;
\endif
\set top random(1, 10)
\if :top = 1
ROLLBACK;
\else
COMMIT;
\endif
\else
COMMIT;
\endif
EOS
close($fh);

# Consume until the queue is empty (messages whose ack was rolled back in a
# subtransaction come back after their one-second visibility timeout).
my $rounds = 0;
while ($rounds++ < 20)
{
	$node->command_ok(
		[
			'pgbench', '-n', '-c', '8', '-j', '2', '-T', '5',
			'-f', $script, '-h', $node->host, '-p', $node->port, 'postgres'
		],
		"eight consumers, round $rounds");
	my $left = $node->safe_psql('postgres',
		"SELECT count(*) FROM queue.q_eo");
	last if $left == 0;
	sleep 1;
}

is($node->safe_psql('postgres', "SELECT count(*) FROM queue.q_eo"),
	'0', 'queue drained');

my $check = qq{
	SELECT (SELECT $messages - count(DISTINCT msg_id) FROM %s) AS lost,
	       (SELECT count(*) - count(DISTINCT msg_id) FROM %s) AS duplicates,
	       (SELECT count(*) FROM %s
	         WHERE msg_id NOT BETWEEN 1 AND $messages) AS unexpected
};
is($node->safe_psql('postgres', sprintf($check, ('effects') x 3)),
	'0|0|0', 'every message processed exactly once (lost|duplicates|unexpected)');

# Every message was acked once (the queue archives acked messages), and
# subtransaction rollbacks really happened: those messages were delivered
# again after their visibility timeout.
is($node->safe_psql('postgres',
	"SELECT count(*), count(DISTINCT id) FROM queue.a_eo"),
	"$messages|$messages", 'every message archived once');
ok($node->safe_psql('postgres',
	"SELECT count(*) FROM queue.a_eo WHERE delivery_count > 1") > 0,
	'some deliveries were rolled back and redelivered');
is($node->safe_psql('postgres', "SELECT acked_total FROM queue.stats('eo', exact => true)"),
	$messages, 'acked_total counts committed acks only');

# Negative control: the checker must see a duplicate and a loss.
$node->safe_psql('postgres', qq{
	CREATE TABLE effects_bad AS SELECT * FROM effects;
	INSERT INTO effects_bad SELECT msg_id, 99 FROM effects LIMIT 1;
	DELETE FROM effects_bad WHERE msg_id = (SELECT max(msg_id) FROM effects);
});
is($node->safe_psql('postgres', sprintf($check, ('effects_bad') x 3)),
	'1|1|0', 'negative control: the checker detects a loss and a duplicate');

$node->stop;
done_testing();
