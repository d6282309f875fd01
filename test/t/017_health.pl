# queue.health's findings that depend on the cluster (issue 13): what holds
# back the xmin horizon (an open transaction, a prepared transaction, a
# replication slot and a standby with hot_standby_feedback, with the pid,
# application, gid or slot to act on), long polls waiting, and a worker
# that is missing.
# The findings about a queue are in test/sql/health.sql.
#
# Copyright (c) 2026, the queue authors
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('health');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'queue'
max_prepared_transactions = 2
});
$node->start;
$node->safe_psql('postgres', q{CREATE EXTENSION queue; SELECT queue.create('h')});

my $findings = q{SELECT string_agg(severity || ' ' || finding, ', ' ORDER BY finding)
				   FROM queue.health(max_xact_age => '0') WHERE queue_name IS NULL
					AND finding LIKE 'xmin%'};
is($node->safe_psql('postgres', $findings), '', 'nothing holds back the xmin horizon');

# a REPEATABLE READ transaction left open by an application
my $held = $node->background_psql('postgres');
$held->query_safe(q{SET application_name = 'nightly_report'});
$held->query_safe(q{BEGIN ISOLATION LEVEL REPEATABLE READ});
$held->query_safe(q{SELECT count(*) FROM queue.queues});
my $pid = $held->query_safe('SELECT pg_backend_pid()');
chomp $pid;
is($node->safe_psql('postgres', $findings), 'warning xmin_transaction',
	'an open transaction is found');
like($node->safe_psql('postgres', q{
	SELECT detail || ' / ' || action FROM queue.health(max_xact_age => '0')
	 WHERE finding = 'xmin_transaction'}),
	qr/^pid $pid \(user \w+, application 'nightly_report', idle in transaction\) holds back the xmin horizon.* \/ end that transaction \(pg_terminate_backend\($pid\)/,
	'... with its pid, application and state, and what to do');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM queue.health() WHERE finding = 'xmin_transaction'}), '0',
	'... but not before it is max_xact_age old');
$held->query_safe('COMMIT');

# a prepared transaction
$node->safe_psql('postgres', q{
	BEGIN; SELECT queue.send('h', '{}'); PREPARE TRANSACTION 'forgotten_xa';
});
is($node->safe_psql('postgres', $findings), 'warning xmin_prepared', 'a prepared transaction is found');
like($node->safe_psql('postgres', q{
	SELECT detail || ' / ' || action FROM queue.health(max_xact_age => '0')
	 WHERE finding = 'xmin_prepared'}),
	qr/^prepared transaction 'forgotten_xa' .* \/ COMMIT PREPARED or ROLLBACK PREPARED 'forgotten_xa'$/,
	'... with its gid and what to do');
$node->safe_psql('postgres', q{ROLLBACK PREPARED 'forgotten_xa'});
is($node->safe_psql('postgres', $findings), '', 'gone once rolled back');
$held->quit;

# a standby that streams through a replication slot, with
# hot_standby_feedback, and a long query there: the slot and the standby
# hold back the horizon
$node->safe_psql('postgres', q{SELECT pg_create_physical_replication_slot('reporting_replica')});
$node->backup('health_backup');
my $standby = PostgreSQL::Test::Cluster->new('health_standby');
$standby->init_from_backup($node, 'health_backup', has_streaming => 1);
$standby->append_conf('postgresql.conf', qq{
primary_slot_name = 'reporting_replica'
hot_standby_feedback = on
wal_receiver_status_interval = 1s
});
$standby->start;
$node->wait_for_catchup($standby);
my $report = $standby->background_psql('postgres');
$report->query_safe(q{BEGIN ISOLATION LEVEL REPEATABLE READ});
$report->query_safe(q{SELECT count(*) FROM queue.q_h});
# xids go on on the primary, so that the held one falls behind
$node->safe_psql('postgres', q{SELECT queue.send('h', '{}')}) for 1 .. 3;
ok($node->poll_query_until('postgres', q{
	SELECT count(*) FROM queue.health(max_xact_age => '0') WHERE finding = 'xmin_slot'}, '1'),
	'a replication slot that holds the horizon is found');
like($node->safe_psql('postgres', q{
	SELECT detail || ' / ' || action FROM queue.health(max_xact_age => '0')
	 WHERE finding = 'xmin_slot'}),
	qr/^replication slot 'reporting_replica' \(physical\) holds back the xmin horizon by \d+ transactions \/ .*pg_drop_replication_slot\('reporting_replica'\)$/,
	'... named, with what to do');
# without the slot, the standby's feedback holds the horizon itself
$standby->append_conf('postgresql.conf', qq{primary_slot_name = ''});
$standby->reload;
ok($node->poll_query_until('postgres', q{
	SELECT count(*) FROM pg_replication_slots WHERE NOT active}, '1'),
	'the standby streams without its slot');
$node->safe_psql('postgres', q{SELECT pg_drop_replication_slot('reporting_replica')});
ok($node->poll_query_until('postgres', q{
	SELECT count(*) FROM queue.health(max_xact_age => '0') WHERE finding = 'xmin_standby'}, '1'),
	'a standby that holds the horizon through hot_standby_feedback is found');
like($node->safe_psql('postgres', q{
	SELECT detail FROM queue.health(max_xact_age => '0') WHERE finding = 'xmin_standby'}),
	qr/^standby 'health_standby' \(local\) holds back the xmin horizon by \d+ transactions through hot_standby_feedback$/,
	'... named');
$report->query_safe('COMMIT');
$report->quit;
$standby->stop;
is($node->safe_psql('postgres', $findings), '', 'nothing once the slot and the standby are gone');

# long polls waiting are reported (information, not a problem)
$node->safe_psql('postgres', q{SELECT queue.create('lp')});
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM queue.health() WHERE finding = 'long_polls'}), '0',
	'no long poll: no finding');
my $poller = $node->background_psql('postgres');
$poller->query_until(qr/polling/, q{\echo polling
SELECT count(*) FROM queue.read('lp', 1, wait => '10 seconds');
});
ok($node->poll_query_until('postgres', q{
	SELECT figure FROM queue.health() WHERE finding = 'long_polls' AND queue_name = 'lp'}, '1'),
	'a long poll waiting is reported');
$poller->quit;

# the worker runs: no finding about it
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM queue.health() WHERE finding LIKE 'worker%'}), '0',
	'a running worker: no finding');
$node->stop;

# without shared_preload_libraries there is no worker
my $bare = PostgreSQL::Test::Cluster->new('health_bare');
$bare->init;
$bare->start;
$bare->safe_psql('postgres', 'SET client_min_messages = error; CREATE EXTENSION queue');
is($bare->safe_psql('postgres', q{
	SELECT severity || ' ' || finding FROM queue.health() WHERE finding LIKE 'worker%'}),
	'critical worker_missing', 'no worker: a critical finding comes first');
like($bare->safe_psql('postgres', q{SELECT action FROM queue.health() LIMIT 1}),
	qr/shared_preload_libraries/, '... saying what to do');
$bare->stop;

done_testing();
