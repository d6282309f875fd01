# queue.health's findings that depend on the cluster (issue 13): what holds
# back the xmin horizon (an open transaction, a prepared transaction, with
# the pid, application and gid to act on), and a worker that is missing.
# The findings about a queue are in test/sql/health.sql.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('health');
$node->init;
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
