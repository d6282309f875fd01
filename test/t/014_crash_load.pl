# Crashes under load: nothing acknowledged is lost, nothing processed twice.
#
# 2 producers and 4 consumers (test/load/client.py; a tenth of the
# consumers' transactions roll back) run against a plain queue (a tenth of
# its messages delayed by 1 s) and an ordered one, every message with an
# idempotency key.  Meanwhile the postmaster is killed with SIGKILL at a
# random moment and restarted, five times; then a single consumer backend
# is killed in the middle of its transaction (the postmaster restarts every
# process).  After each restart the background worker must be back within
# seconds.  At the end the consumers drain the queues and QueueCheck
# counts: lost = 0, duplicates = 0, every ordered group in order, every
# idempotency key still deduplicating.  Negative control: a planted loss
# and a planted duplicate must be reported.
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
use IPC::Run;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('crash_load');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'queue'
restart_after_crash = on
max_connections = 40
});
$node->start;
QueueCheck::setup($node, 'postgres');
$node->stop;
start_pm();

# The postmaster runs as a child of this script (not of pg_ctl, whose
# children the init process of some machines reaps only after a minute):
# after a SIGKILL we reap it at once, and a new one can start as soon as
# its orphaned backends have exited (they notice the postmaster's death).
my $pm;

sub start_pm
{
	my $name = $node->name;
	for (1 .. 600)
	{
		# ([p]: not the shell that runs pgrep, whose command line holds the pattern)
		last if system("pgrep -f '[p]ostgres: $name: ' >/dev/null") != 0;
		usleep(100_000);
	}
	$pm = IPC::Run::start(
		[ 'postgres', '-D', $node->data_dir, '-c', "cluster_name=$name" ],
		'<', \undef, '>>', $node->logfile, '2>>', $node->logfile);
	$node->poll_query_until('postgres', 'SELECT 1', '1')
	  or die 'the server did not start';
	return;
}

sub pm_pid
{
	open my $fh, '<', $node->data_dir . '/postmaster.pid' or die "postmaster.pid: $!";
	chomp(my $pid = <$fh>);
	close $fh;
	return $pid;
}

# the background worker of this database, within 15 s
sub worker_back
{
	for (1 .. 150)
	{
		my $n = $node->safe_psql('postgres',
			q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'queue worker'});
		return 1 if $n eq '1';
		usleep(100_000);
	}
	return 0;
}

my $run = QueueCheck::new_run(PostgreSQL::Test::Utils::tempdir() . '/load',
	$node->connstr('postgres'));
QueueCheck::start($run, 2, 4, 0.1);
sleep 2;

my $crashes = 0;
for my $i (1 .. 5)
{
	usleep(500_000 + int(rand(2_000_000)));
	kill 'KILL', pm_pid();
	$pm->finish;
	start_pm();
	ok(worker_back(), "crash $i: the worker is back within seconds");
	$crashes++;
}

# a consumer's backend killed in the middle of its transaction
my $victim = '';
for (1 .. 300)
{
	$victim = $node->safe_psql('postgres', q{
		SELECT pid FROM pg_stat_activity
		 WHERE application_name LIKE 'consumer%' AND state = 'idle in transaction'
		 LIMIT 1});
	last if $victim ne '';
	usleep(10_000);
}
isnt($victim, '', 'a consumer caught in the middle of a transaction');
kill 'KILL', $victim if $victim ne '';
$node->poll_query_until('postgres', 'SELECT 1', '1')
  or die 'the server did not come back after the crash';
ok(worker_back(), 'after the consumer crash the worker is back');
$crashes++;
sleep 2;

ok(QueueCheck::stop($run, 180), 'producers stopped, consumers drained the queues');
my $r = QueueCheck::check($node, 'postgres', $run);
note(QueueCheck::summary($r));
cmp_ok($r->{sent}, '>', 200, 'a real load was sent');
is($r->{lost}, 0, 'lost: 0 (acknowledged sends and processing all accounted for)');
is(scalar @{ $r->{duplicates} }, 0, 'duplicates: 0');
is(scalar @{ $r->{order} }, 0, 'every ordered group processed in order');
is($r->{queued}, 0, 'the queues are drained');
is(QueueCheck::check_keys($node, 'postgres', $run), 0,
	'every acknowledged idempotency key still deduplicates');
diag(sprintf('crash load: %d crash restarts, %d messages checked (%d processed, %d dead), '
	  . 'lost %d, duplicated %d, unexpected %d',
	$crashes, $r->{sent}, $r->{processed}, $r->{dead}, $r->{lost},
	scalar @{ $r->{duplicates} }, scalar @{ $r->{unexpected} }));

# negative control: a send acknowledged that is nowhere, a message
# processed twice
$node->safe_psql('postgres', q{
	INSERT INTO processed (key, queue, msg_id, group_key, consumer)
	SELECT key, queue, msg_id, group_key, 99 FROM processed ORDER BY pid LIMIT 1});
my $planted = QueueCheck::check($node, 'postgres', $run, extra_sends => ['P9-1']);
is_deeply($planted->{lost_sends}, ['P9-1'], 'negative control: the planted loss is reported');
is(scalar @{ $planted->{duplicates} }, 1, 'negative control: the planted duplicate is reported');
$node->safe_psql('postgres', 'DELETE FROM processed WHERE consumer = 99');

kill 'INT', pm_pid();
$pm->finish;
done_testing();
