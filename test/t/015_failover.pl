# Failover under load: a promoted synchronous standby has every send and
# every ack whose COMMIT returned (model: postgres's
# src/test/recovery/t/007_sync_rep.pl).
#
# A primary with a synchronous standby; 2 producers and 4 consumers
# (test/load/client.py) run against the primary; the primary is killed
# with SIGKILL, the standby promoted (and its synchronous_standby_names
# cleared, since it has no standby of its own), the clients pointed at it,
# and the consumers drain the queues there.  QueueCheck then counts, on
# the promoted standby: lost = 0 among acknowledged sends and acks,
# duplicates = 0, ordered groups in order.
#
# Negative control, in the same test: the same with asynchronous
# replication and the walsender stopped with SIGSTOP, so that commits
# return without reaching the standby: the checker must report lost > 0,
# or it cannot see a loss.
#
# Copyright (c) 2026, the queue authors
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use QueueCheck;
use Test::More;
use Time::HiRes qw(usleep);

# primary and standby; $sync: whether the standby is synchronous
sub pair
{
	my ($name, $sync) = @_;
	my $primary = PostgreSQL::Test::Cluster->new("${name}_primary");
	$primary->init(allows_streaming => 1);
	$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'queue'
max_connections = 40
});
	$primary->start;
	QueueCheck::setup($primary, 'postgres');
	$primary->backup('base');
	my $standby = PostgreSQL::Test::Cluster->new("${name}_standby");
	$standby->init_from_backup($primary, 'base', has_streaming => 1);
	$standby->append_conf('postgresql.conf', "cluster_name = '${name}_standby'");
	$standby->start;
	# synchronous only now: commits before the standby ran would wait
	$primary->safe_psql('postgres',
		"ALTER SYSTEM SET synchronous_standby_names = '${name}_standby'; SELECT pg_reload_conf()")
	  if $sync;
	my $state = $sync ? 'sync' : 'async';
	$primary->poll_query_until('postgres',
		"SELECT sync_state = '$state' FROM pg_stat_replication WHERE application_name = '${name}_standby'")
	  or die "the standby did not start streaming ($state)";
	return ($primary, $standby);
}

# the load against $primary, then a failover to $standby ($before_kill runs
# just before the kill); returns the check made on the promoted standby
sub failover
{
	my ($primary, $standby, $before_kill) = @_;
	my $run = QueueCheck::new_run(
		PostgreSQL::Test::Utils::tempdir() . '/load', $primary->connstr('postgres'));
	QueueCheck::start($run, 2, 4, 0.1);
	sleep 3;
	$before_kill->() if $before_kill;
	$primary->kill9;
	$standby->promote;
	$standby->safe_psql('postgres',
		q{ALTER SYSTEM SET synchronous_standby_names = ''; SELECT pg_reload_conf()});
	QueueCheck::set_conninfo($run, $standby->connstr('postgres'));
	sleep 2;
	ok(QueueCheck::stop($run, 180), 'producers stopped, consumers drained the promoted standby');
	my $r = QueueCheck::check($standby, 'postgres', $run);
	note(QueueCheck::summary($r));
	return $r;
}

# --- synchronous: nothing acknowledged is lost ------------------------------
my ($primary, $standby) = pair('sync', 1);
my $r = failover($primary, $standby);
cmp_ok($r->{sent}, '>', 100, 'a real load was sent');
is($r->{lost}, 0, 'lost: 0 on the promoted synchronous standby');
is(scalar @{ $r->{duplicates} }, 0, 'duplicates: 0');
is(scalar @{ $r->{order} }, 0, 'every ordered group processed in order');
is($r->{queued}, 0, 'the queues are drained');
ok($standby->poll_query_until('postgres',
	q{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'queue worker'}),
	'the background worker runs on the promoted standby');
diag(sprintf('failover (synchronous): %d messages checked (%d processed, %d dead), '
	  . 'lost %d, duplicated %d, unexpected %d',
	$r->{sent}, $r->{processed}, $r->{dead}, $r->{lost},
	scalar @{ $r->{duplicates} }, scalar @{ $r->{unexpected} }));
$standby->stop;

# --- negative control: asynchronous, walsender stopped ----------------------
my ($aprimary, $astandby) = pair('async', 0);
my $walsender;
my $nr = failover($aprimary, $astandby, sub {
	$walsender = $aprimary->safe_psql('postgres',
		q{SELECT pid FROM pg_stat_replication LIMIT 1});
	kill 'STOP', $walsender;
	# commits return on the primary; none reaches the standby
	sleep 2;
});
kill 'KILL', $walsender if $walsender;
cmp_ok($nr->{lost}, '>', 0,
	'negative control: with the walsender stopped and asynchronous replication, the checker reports lost sends or acks');
diag(sprintf('failover (asynchronous, negative control): lost %d', $nr->{lost}));
$astandby->stop;

done_testing();
