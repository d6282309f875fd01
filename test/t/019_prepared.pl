# Two-phase commit (issue 16, part 1): a send, nack or redrive committed
# with COMMIT PREPARED wakes a long poll at once, as a plain commit does,
# and CREATE EXTENSION queue committed that way starts the database's
# worker at once.  The worker's step runs every 60 s here, so a wakeup that
# came from it (the fallback) would take far longer than what is checked.
#
# Copyright (c) 2026, the queue authors
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = PostgreSQL::Test::Cluster->new('prepared');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'queue'
max_prepared_transactions = 10
queue.worker_interval = '60s'
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION queue;
	SELECT queue.create('p', max_deliveries => 0, visibility_timeout => '1 hour');
});

# a long poll in the background; returns how long it slept
sub poll_start
{
	my ($wait) = @_;
	my $poller = $node->background_psql('postgres');
	$poller->query_safe(q{SELECT queue.stats('p')});
	$poller->query_until(qr/polling/, qq{\\echo polling
SELECT count(*) FROM queue.read('p', 1, wait => '$wait');
});
	# asleep on the queue before the commit comes
	$node->poll_query_until('postgres',
		q{SELECT figure FROM queue.health() WHERE finding = 'long_polls' AND queue_name = 'p'}, '1')
	  or die 'the long poll did not start';
	return $poller;
}

sub poll_wait
{
	my ($poller) = @_;
	my $out = '';
	$out = $poller->query_safe('SELECT 1') while $out eq '';
	$poller->quit;
}

# a plain commit, for comparison
my $poller = poll_start('30 seconds');
my $t0 = time;
$node->safe_psql('postgres', q{SELECT queue.send('p', '{"n": 1}')});
poll_wait($poller);
my $plain = time - $t0;
cmp_ok($plain, '<', 10, sprintf('a plain commit wakes the long poll (%.3f s)', $plain));
$node->safe_psql('postgres', q{SELECT queue.ack('p', id) FROM queue.q_p});

# COMMIT PREPARED of a send
$node->safe_psql('postgres', q{
	BEGIN; SELECT queue.send('p', '{"n": 2}'); PREPARE TRANSACTION 'send_2pc';
});
$poller = poll_start('30 seconds');
$t0 = time;
$node->safe_psql('postgres', q{COMMIT PREPARED 'send_2pc'});
poll_wait($poller);
my $prepared = time - $t0;
cmp_ok($prepared, '<', 10,
	sprintf('COMMIT PREPARED of a send wakes the long poll at once (%.3f s; the worker would take up to 60 s)', $prepared));
diag(sprintf('wake latency: plain commit %.3f s, COMMIT PREPARED %.3f s', $plain, $prepared));

# COMMIT PREPARED of a nack (the message comes back at once)
my $id = $node->safe_psql('postgres', q{SELECT id FROM queue.q_p});
$node->safe_psql('postgres', qq{
	BEGIN; SELECT queue.nack('p', $id, delay => '0'); PREPARE TRANSACTION 'nack_2pc';
});
$poller = poll_start('30 seconds');
$t0 = time;
$node->safe_psql('postgres', q{COMMIT PREPARED 'nack_2pc'});
poll_wait($poller);
cmp_ok(time - $t0, '<', 10, 'COMMIT PREPARED of a nack wakes the long poll');
$node->safe_psql('postgres', q{SELECT queue.ack('p', id) FROM queue.q_p});

# ROLLBACK PREPARED wakes nobody, and forgets what it kept: a later
# transaction prepared under the same gid wakes only for itself
$node->safe_psql('postgres', q{
	BEGIN; SELECT queue.send('p', '{"n": 3}'); PREPARE TRANSACTION 'gone_2pc';
	ROLLBACK PREPARED 'gone_2pc';
});
is($node->safe_psql('postgres', q{SELECT count(*) FROM queue.read('p', 1, wait => '300 milliseconds')}),
	'0', 'ROLLBACK PREPARED: nothing to read');

# a prepared transaction the poller itself cannot see yet does not wake it
$node->safe_psql('postgres', q{
	BEGIN; SELECT queue.send('p', '{"n": 4}'); PREPARE TRANSACTION 'late_2pc';
});
is($node->safe_psql('postgres', q{SELECT count(*) FROM queue.read('p', 1, wait => '300 milliseconds')}),
	'0', 'while prepared, the message is not there');
$node->safe_psql('postgres', q{COMMIT PREPARED 'late_2pc'});
is($node->safe_psql('postgres', q{SELECT count(*) FROM queue.read('p', 1)}), '1',
	'after COMMIT PREPARED it is');

# CREATE EXTENSION committed through COMMIT PREPARED: the worker starts at
# once, not at the launcher's next probe (a minute)
$node->safe_psql('postgres', 'CREATE DATABASE late');
$node->safe_psql('late', q{
	SET client_min_messages = error;
	BEGIN; CREATE EXTENSION queue; PREPARE TRANSACTION 'ext_2pc';
});
$t0 = time;
$node->safe_psql('late', q{COMMIT PREPARED 'ext_2pc'});
ok($node->poll_query_until('late',
		q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'queue worker' AND datname = 'late'}, '1'),
	'a worker runs for the database');
cmp_ok(time - $t0, '<', 30,
	sprintf('... started at once after COMMIT PREPARED of CREATE EXTENSION (%.3f s; the probe comes after 60 s)', time - $t0));

$node->stop;
done_testing();
