# Long polling: queue.read(..., wait => ...) sleeps until another session
# makes a message visible, and wakes within milliseconds of the commit.
#
# Readers run in the background (one psql each, by application_name) and
# report server-side epoch timestamps; a reader is known to be asleep when
# pg_stat_activity shows it in wait_event 'Extension'.  Latency is measured
# on the server clock: from just after the waking transaction committed (a
# clock_timestamp() taken right after COMMIT, in the same session) to the
# reader's clock_timestamp() as it returns.  "Prompt" means within 250 ms.
#
# The background worker also wakes sleepers when messages come due (a
# fallback, every worker_interval), which would hide a missing wake-up: it
# is off for the first part, so that every wake-up seen there comes from
# the mechanism under test, and on (at 200 ms) for the fallback cases.
#
# Also: cancel, statement_timeout, pg_terminate_backend and a fast shutdown
# end a sleeping reader promptly; twenty sleepers and one message wake
# exactly one; two queues that share a wait slot; a server without the
# preload (100 ms polling).
#
# Four cases guard defects found when these tests were written (fixed in
# 53e8efd):
#   - a rolled-back pop woke nobody (pop did not note its deliveries, so the
#     abort callback that wakes readers for rolled-back reads skipped it);
#   - a reader ended by pg_terminate_backend (FATAL, no PG_FINALLY) left its
#     queue's sleeper count raised for good;
#   - two queues sharing a wait slot: ConditionVariableSignal woke the
#     slot's first sleeper, which could be the other queue's reader, and the
#     right reader slept on (slots are table OID mod 1024, so any two queues
#     whose OIDs differ by a multiple of 1024 share one);
#   - REPEATABLE READ refused a wait only when it would sleep, so it passed
#     while messages were visible and failed once the queue ran dry.
#
# Copyright (c) 2026, the queue authors
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time sleep);

my $prompt = 0.25;    # seconds from commit to the reader's return

my $node = PostgreSQL::Test::Cluster->new('wait');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'queue'
max_connections = 60
queue.worker_enabled = off
queue.worker_interval = '200ms'
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION queue;
	SELECT queue.create('w');
});

# --- helpers ---------------------------------------------------------------

# Start psql in the background on $n as application_name $app, running
# each of @sql (one -c each).  Returns a handle for finish_reader.
sub start_reader
{
	my ($n, $app, @sql) = @_;
	my $r = { out => '', err => '', app => $app, started => time };
	my @cmd = (
		$n->installed_command('psql'), '-XAtq', '-v', 'ON_ERROR_STOP=1',
		'-v', 'VERBOSITY=verbose',
		'-d', $n->connstr('postgres') . " application_name=$app");
	push @cmd, '-c', $_ for @sql;
	local %ENV = $n->_get_env();
	$r->{h} = IPC::Run::start(\@cmd, '>', \$r->{out}, '2>', \$r->{err},
		IPC::Run::timeout(90));
	return $r;
}

# Wait for a background psql to exit; returns (stdout, stderr), chomped.
sub finish_reader
{
	my ($r) = @_;
	$r->{h}->finish;
	chomp(my $out = $r->{out});
	chomp(my $err = $r->{err});
	return ($out, $err);
}

# Whether a background psql has exited.
sub reader_done
{
	my ($r) = @_;
	$r->{h}->pump_nb;
	return !$r->{h}->pumpable;
}

# Poll until $count sessions named $app are asleep in a long poll.
sub asleep
{
	my ($n, $app, $count) = @_;
	$count //= 1;
	return $n->poll_query_until('postgres', qq{
		SELECT count(*) = $count FROM pg_stat_activity
		 WHERE application_name = '$app'
		   AND wait_event_type = 'Extension' AND wait_event = 'Extension'});
}

# Sessions named $app still connected.
sub connected
{
	my ($n, $app) = @_;
	return $n->safe_psql('postgres', qq{
		SELECT count(*) FROM pg_stat_activity WHERE application_name = '$app'});
}

# Run $sql (which ends its transaction), then return the server's clock
# right after it, as epoch seconds, with the rows of $sql before it.
sub run_then_clock
{
	my ($n, $sql) = @_;
	my @lines = grep { $_ ne '' } split /\n/, $n->safe_psql('postgres',
		"$sql;\nSELECT extract(epoch FROM clock_timestamp());");
	my $clock = pop @lines;
	return ($clock, @lines);
}

# The reader's SQL: one message's id and the clock when read returned.
sub read_sql
{
	my ($queue, $wait, $extra) = @_;
	$extra //= '';
	return "SELECT id, extract(epoch FROM clock_timestamp()) $extra"
	  . " FROM queue.read('$queue', 1, visibility_timeout => '1 hour', wait => '$wait')";
}

sub visible_at
{
	my ($n, $queue, $id) = @_;
	return $n->safe_psql('postgres',
		"SELECT extract(epoch FROM visible_at) FROM queue.q_$queue WHERE id = $id");
}

sub ms { return sprintf('%.1f ms', 1000 * shift); }

# Each case starts from an empty queue (messages handed out earlier would
# come back when their visibility timeout runs out).
sub empty
{
	my ($n, $queue) = @_;
	$n->safe_psql('postgres', "SELECT queue.purge('$queue')");
}

# --- woken at commit -------------------------------------------------------

# A send in an explicit transaction: the reader neither returns before the
# commit nor long after it.
{
	empty($node, 'w');
	my $r = start_reader($node, 'commit', read_sql('w', '10 seconds'));
	ok(asleep($node, 'commit'), 'commit: reader asleep on the empty queue');
	my ($after, $id, $before) = run_then_clock($node, q{
		BEGIN;
		SELECT queue.send('w', '{"n": 1}');
		SELECT pg_sleep(0.3);
		SELECT extract(epoch FROM clock_timestamp());
		COMMIT;});
	my ($out) = finish_reader($r);
	my ($got, $at) = split /\|/, $out;
	is($got, $id, 'commit: the reader gets the message');
	cmp_ok($at, '>', $before, 'commit: not before the commit');
	cmp_ok($at - $after, '<', $prompt,
		'commit: returns promptly after the commit (' . ms($at - $after) . ')');
}

# The same with autocommit, ten times in a row (a wake-up is not lost when
# one reader after another falls asleep).
{
	empty($node, 'w');
	my $worst = 0;
	my $got_all = 1;
	for my $i (1 .. 10)
	{
		my $r = start_reader($node, 'commit10', read_sql('w', '10 seconds'));
		asleep($node, 'commit10') or die 'reader did not fall asleep';
		my ($after, $id) =
		  run_then_clock($node, "SELECT queue.send('w', '{\"n\": $i}')");
		my ($got, $at) = split /\|/, (finish_reader($r))[0];
		$got_all &&= defined $got && $got eq $id;
		$worst = $at - $after if $at - $after > $worst;
	}
	ok($got_all, 'autocommit x10: each reader gets its message');
	cmp_ok($worst, '<', $prompt,
		'autocommit x10: each returns promptly (worst ' . ms($worst) . ')');
}

# --- not woken into anything by a rollback ----------------------------------

{
	empty($node, 'w');
	my $r = start_reader($node, 'rollback',
		"SELECT count(*), extract(epoch FROM clock_timestamp() - statement_timestamp())"
		  . " FROM queue.read('w', 1, wait => '1 second')");
	ok(asleep($node, 'rollback'), 'rollback: reader asleep');
	$node->safe_psql('postgres', q{
		BEGIN;
		SELECT queue.send('w', '{"n": "rolled back"}');
		SELECT queue.send_batch('w', array_fill('{}'::jsonb, ARRAY[10]));
		ROLLBACK;});
	my ($n, $took) = split /\|/, (finish_reader($r))[0];
	is($n, '0', 'rollback: the reader gets nothing');
	cmp_ok($took, '>=', 0.99, 'rollback: the reader sleeps out its whole wait');
}

# --- woken when a delay or a visibility timeout runs out --------------------

# Sent with a delay before the reader looked: the reader computes when it
# comes due from its scan.
{
	empty($node, 'w');
	my $id = $node->safe_psql('postgres',
		"SELECT queue.send('w', '{\"n\": \"delayed\"}', delay => '500 milliseconds')");
	my $due = visible_at($node, 'w', $id);
	my $r = start_reader($node, 'delay', read_sql('w', '10 seconds'));
	my ($got, $at) = split /\|/, (finish_reader($r))[0];
	is($got, $id, 'delay: the reader gets the delayed message');
	cmp_ok($at, '>=', $due, 'delay: not before it is due');
	cmp_ok($at - $due, '<', $prompt,
		'delay: returns promptly when it is due (' . ms($at - $due) . ')');
}

# Sent with a delay while the reader sleeps: woken at the commit, it sleeps
# on until the message is due.
{
	empty($node, 'w');
	my $r = start_reader($node, 'delay2', read_sql('w', '10 seconds'));
	ok(asleep($node, 'delay2'), 'delay while asleep: reader asleep');
	my $id = $node->safe_psql('postgres',
		"SELECT queue.send('w', '{\"n\": \"delayed 2\"}', delay => '700 milliseconds')");
	my $due = visible_at($node, 'w', $id);
	my ($got, $at) = split /\|/, (finish_reader($r))[0];
	is($got, $id, 'delay while asleep: the reader gets the message');
	cmp_ok($at, '>=', $due, 'delay while asleep: not before it is due');
	cmp_ok($at - $due, '<', $prompt,
		'delay while asleep: returns promptly when it is due (' . ms($at - $due) . ')');
}

# A visibility timeout that runs out: the message comes back to the
# sleeping reader as soon as it is visible again.
{
	empty($node, 'w');
	my $id = $node->safe_psql('postgres', q{SELECT queue.send('w', '{"n": "vt"}')});
	$node->safe_psql('postgres',
		"SELECT id FROM queue.read('w', 1, visibility_timeout => '700 milliseconds')");
	my $due = visible_at($node, 'w', $id);
	my $r = start_reader($node, 'vt', read_sql('w', '10 seconds', ', delivery_count'));
	my ($got, $at, $count) = split /\|/, (finish_reader($r))[0];
	is($got, $id, 'visibility timeout: the reader gets the message again');
	is($count, '2', 'visibility timeout: its second delivery');
	cmp_ok($at, '>=', $due, 'visibility timeout: not before it runs out');
	cmp_ok($at - $due, '<', $prompt,
		'visibility timeout: returns promptly when it runs out (' . ms($at - $due) . ')');
}

# --- woken by nack, redrive, and reads rolled back --------------------------

{
	empty($node, 'w');
	my $id = $node->safe_psql('postgres', q{SELECT queue.send('w', '{"n": "nack"}')});
	$node->safe_psql('postgres',
		"SELECT id FROM queue.read('w', 1, visibility_timeout => '1 hour')");
	my $r = start_reader($node, 'nack', read_sql('w', '10 seconds'));
	ok(asleep($node, 'nack'), 'nack: reader asleep');
	my ($after) = run_then_clock($node,
		"SELECT queue.nack('w', $id, delay => '0 seconds')");
	my ($got, $at) = split /\|/, (finish_reader($r))[0];
	is($got, $id, 'nack: the reader gets the nacked message');
	cmp_ok($at - $after, '<', $prompt,
		'nack: returns promptly after the commit (' . ms($at - $after) . ')');
}

{
	empty($node, 'w');
	$node->safe_psql('postgres', q{SELECT queue.create('wd', max_deliveries => 1)});
	my $id = $node->safe_psql('postgres', q{SELECT queue.send('wd', '{"n": "dead"}')});
	$node->safe_psql('postgres', qq{
		SELECT id FROM queue.read('wd', 1, visibility_timeout => '1 hour');
		SELECT queue.nack('wd', $id, reason => 'poison');});
	is($node->safe_psql('postgres', q{SELECT count(*) FROM queue.dead_letters('wd')}),
		'1', 'redrive: the message is a dead letter');
	my $r = start_reader($node, 'redrive', read_sql('wd', '10 seconds'));
	ok(asleep($node, 'redrive'), 'redrive: reader asleep');
	my ($after) = run_then_clock($node, q{SELECT queue.redrive('wd')});
	my ($got, $at) = split /\|/, (finish_reader($r))[0];
	is($got, $id, 'redrive: the reader gets the redriven message');
	cmp_ok($at - $after, '<', $prompt,
		'redrive: returns promptly after the commit (' . ms($at - $after) . ')');
}

# A reader holds the message in an open transaction (the sleeping reader
# skips the row it has locked); the holder rolls back.
for my $how ('ROLLBACK', 'ROLLBACK TO SAVEPOINT sp')
{
	empty($node, 'w');
	my $id = $node->safe_psql('postgres', q{SELECT queue.send('w', '{"n": "held"}')});
	my $holder = $node->background_psql('postgres');
	$holder->query_safe('BEGIN');
	$holder->query_safe('SAVEPOINT sp');
	is($holder->query_safe(q{SELECT id FROM queue.read('w')}), $id,
		"$how: the holder reads the message");
	my $r = start_reader($node, 'held', read_sql('w', '10 seconds'));
	ok(asleep($node, 'held'), "$how: reader asleep");
	$holder->query_safe($how);
	my $after = $holder->query_safe('SELECT extract(epoch FROM clock_timestamp())');
	my ($got, $at) = split /\|/, (finish_reader($r))[0];
	$holder->query_safe('COMMIT') if $how =~ /SAVEPOINT/;
	$holder->quit;
	is($got, $id, "$how: the reader gets the message");
	cmp_ok($at - $after, '<', $prompt,
		"$how of a read: returns promptly (" . ms($at - $after) . ')');
}

# The same with pop (at-most-once): a rolled-back pop makes the message
# visible again just as a rolled-back read does.
{
	empty($node, 'w');
	my $id = $node->safe_psql('postgres', q{SELECT queue.send('w', '{"n": "popped"}')});
	my $holder = $node->background_psql('postgres');
	$holder->query_safe('BEGIN');
	is($holder->query_safe(q{SELECT id FROM queue.pop('w')}), $id,
		'pop rolled back: the holder pops the message');
	my $r = start_reader($node, 'pop', read_sql('w', '5 seconds'));
	ok(asleep($node, 'pop'), 'pop rolled back: reader asleep');
	$holder->query_safe('ROLLBACK');
	my $after = $holder->query_safe('SELECT extract(epoch FROM clock_timestamp())');
	$holder->quit;
	my ($got, $at) = split /\|/, (finish_reader($r))[0];
	is($got, $id, 'pop rolled back: the reader gets the message');
	cmp_ok($at - $after, '<', $prompt,
		'pop rolled back: returns promptly (' . ms($at - $after) . ')');
}

# --- interrupting a sleeping reader -----------------------------------------

my $relid = $node->safe_psql('postgres', q{SELECT 'queue.q_w'::regclass::oid});

{
	empty($node, 'w');
	my $r = start_reader($node, 'cancel', read_sql('w', '30 seconds'));
	ok(asleep($node, 'cancel'), 'cancel: reader asleep');
	my $t0 = time;
	$node->safe_psql('postgres',
		q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'cancel'});
	my (undef, $err) = finish_reader($r);
	my $took = time - $t0;
	like($err, qr/57014/, 'cancel: the reader fails with 57014');
	cmp_ok($took, '<', 2, "cancel: promptly (${\ ms($took)})");
	is($node->safe_psql('postgres', "SELECT queue._has_sleepers($relid)"), 'f',
		'cancel: the queue has no sleepers left');
}

{
	empty($node, 'w');
	my $r = start_reader($node, 'stmt_timeout', q{SET statement_timeout = '300ms'},
		read_sql('w', '30 seconds'));
	my (undef, $err) = finish_reader($r);
	my $took = time - $r->{started};
	like($err, qr/57014.*statement timeout/, 'statement_timeout: the reader fails with 57014');
	cmp_ok($took, '<', 3, "statement_timeout: promptly (${\ ms($took)} in all)");
}

{
	empty($node, 'w');
	my $r = start_reader($node, 'terminate', read_sql('w', '30 seconds'));
	ok(asleep($node, 'terminate'), 'terminate: reader asleep');
	my $t0 = time;
	$node->safe_psql('postgres',
		q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'terminate'});
	my (undef, $err) = finish_reader($r);
	my $took = time - $t0;
	like($err, qr/57P01/, 'terminate: the reader is disconnected with 57P01');
	cmp_ok($took, '<', 2, "terminate: promptly (${\ ms($took)})");
	ok($node->poll_query_until('postgres',
			q{SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = 'terminate'}),
		'terminate: the backend is gone');
	is($node->safe_psql('postgres', "SELECT queue._has_sleepers($relid)"), 'f',
		'terminate: the queue has no sleepers left');
}

# --- many sleepers ----------------------------------------------------------

# Twenty readers asleep; one message wakes one of them and the others sleep
# on; a batch of three wakes three; a batch of sixteen wakes the rest.
{
	empty($node, 'w');
	my @r = map {
		start_reader($node, 'many',
			"SELECT id, delivery_count FROM queue.read('w', 1, wait => '30 seconds')")
	} 1 .. 20;
	ok(asleep($node, 'many', 20), 'many: twenty readers asleep');

	$node->safe_psql('postgres', q{SELECT queue.send('w', '{"n": "one of twenty"}')});
	ok($node->poll_query_until('postgres',
			q{SELECT count(*) = 19 FROM pg_stat_activity WHERE application_name = 'many'}),
		'many: one message, one reader returns');
	sleep 1;
	is(connected($node, 'many'), '19', 'many: one second later the other 19 still wait');
	ok(asleep($node, 'many', 19), 'many: and sleep');

	$node->safe_psql('postgres',
		q{SELECT count(*) FROM queue.send_batch('w', array_fill('{"n": "three"}'::jsonb, ARRAY[3]))});
	ok($node->poll_query_until('postgres',
			q{SELECT count(*) = 16 FROM pg_stat_activity WHERE application_name = 'many'}),
		'many: a batch of three, three readers return');
	sleep 1;
	is(connected($node, 'many'), '16', 'many: one second later the other 16 still wait');

	my $t0 = time;
	$node->safe_psql('postgres',
		q{SELECT count(*) FROM queue.send_batch('w', array_fill('{"n": "sixteen"}'::jsonb, ARRAY[16]))});
	my %ids;
	my $rows = 0;
	for my $r (@r)
	{
		my ($out, $err) = finish_reader($r);
		for my $line (split /\n/, $out)
		{
			my ($id, $count) = split /\|/, $line;
			$ids{$id}++;
			$rows++;
		}
	}
	my $took = time - $t0;
	is($rows, 20, 'many: every reader got exactly one message');
	is(scalar(keys %ids), 20, 'many: twenty different messages');
	cmp_ok($took, '<', 5, "many: the last sixteen returned promptly (${\ ms($took)})");
}

# --- two queues that share a wait slot --------------------------------------

# Sleepers map to one of a fixed number of condition variables by a hash of
# the queue's table; two queues whose tables hash alike share one.  A
# message sent to one of them must still wake its own reader, also when
# the other queue's reader fell asleep first.  The hash below mirrors
# slot_of() in src/wait.c; the second queue is created after using up just
# enough OIDs (large objects) for its table to land in the first's slot.
{
	empty($node, 'w');
	$node->safe_psql('postgres', q{
		CREATE FUNCTION wait_slot(q text) RETURNS bigint LANGUAGE sql AS $$
		  SELECT (((SELECT oid FROM pg_database WHERE datname = current_database())::bigint
		           * 2654435761 % 4294967296)
		          # (format('queue.%I', 'q_' || q)::regclass::oid::bigint * 40503 % 4294967296))
		         % 1024 $$;
		CREATE FUNCTION next_oid() RETURNS bigint LANGUAGE sql AS $$
		  SELECT o::bigint FROM lo_create(0) o, lo_unlink(o) $$;
		SELECT queue.create('slot_a');});
	my $rel_a = $node->safe_psql('postgres', q{SELECT 'queue.q_slot_a'::regclass::oid});
	# how far the message table's OID lies from the next free OID
	my $o = $node->safe_psql('postgres', 'SELECT next_oid()');
	$node->safe_psql('postgres', q{SELECT queue.create('slot_probe')});
	my $offset = $node->safe_psql('postgres', q{SELECT 'queue.q_slot_probe'::regclass::oid}) - $o;
	my $shared = 0;
	for my $try (1 .. 5)
	{
		my $next = $node->safe_psql('postgres', 'SELECT next_oid()');
		my $skip = ($rel_a - $next - $offset) % 1024;
		$skip += 1024 if $skip < 0;
		$node->safe_psql('postgres',
			"SELECT count(next_oid()) FROM generate_series(1, $skip)") if $skip > 0;
		$node->safe_psql('postgres', q{SELECT queue.create('slot_b')});
		$shared = $node->safe_psql('postgres',
			q{SELECT wait_slot('slot_a') = wait_slot('slot_b')}) eq 't';
		last if $shared;
		$node->safe_psql('postgres', q{SELECT queue.drop('slot_b')});
	}
	ok($shared, 'shared slot: slot_a and slot_b share a wait slot');

	my $rb = start_reader($node, 'slot_b', read_sql('slot_b', '5 seconds'));
	ok(asleep($node, 'slot_b'), 'shared slot: the reader of slot_b is asleep');
	my $ra = start_reader($node, 'slot_a', read_sql('slot_a', '5 seconds'));
	ok(asleep($node, 'slot_a'), 'shared slot: then the reader of slot_a');
	my ($after, $id) = run_then_clock($node, q{SELECT queue.send('slot_a', '{}')});
	my ($got, $at) = split /\|/, (finish_reader($ra))[0];
	is($got, $id, 'shared slot: the reader of slot_a gets its message');
	cmp_ok($at - $after, '<', $prompt,
		'shared slot: and returns promptly (' . ms($at - $after) . ')');
	my ($id_b) = run_then_clock($node, q{SELECT queue.send('slot_b', '{}')});
	finish_reader($rb);
}

# --- REPEATABLE READ --------------------------------------------------------

# A wait cannot work with a transaction snapshot, so it is refused there:
# also when a message happens to be visible, so that a consumer written
# that way fails at once, not only once its queue runs dry.
{
	empty($node, 'w');
	$node->safe_psql('postgres', q{SELECT queue.send('w', '{"n": "rr"}')});
	my ($rc, $out, $err) = $node->psql('postgres', q{
		BEGIN ISOLATION LEVEL REPEATABLE READ;
		SELECT count(*) FROM queue.read('w', 1, wait => '1 second');
		ROLLBACK;}, extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	like($err, qr/0A000/, 'REPEATABLE READ: wait refused with 0A000 with a message visible');
	($rc, $out, $err) = $node->psql('postgres', q{
		BEGIN ISOLATION LEVEL REPEATABLE READ;
		SELECT count(*) FROM queue.read('w', 1);
		ROLLBACK;});
	is($out, '1', 'REPEATABLE READ: a read without wait works');
}

# --- the background worker's fallback ---------------------------------------

# A message that another reader holds (row locked, in a transaction still
# open) when the reader falls asleep, and that then commits with a short
# visibility timeout: the sleeping reader did not see when it would come
# due, so the worker wakes it (within worker_interval of the message coming
# due) instead of it sleeping out its wait.
{
	empty($node, 'w');
	$node->append_conf('postgresql.conf', 'queue.worker_enabled = on');
	$node->reload;
	ok($node->poll_query_until('postgres', q{
			SELECT count(*) > 0 FROM queue.worker_status
			 WHERE database = current_database() AND runs > 0}),
		'fallback: the worker runs');
	my $id = $node->safe_psql('postgres', q{SELECT queue.send('w', '{"n": "fallback"}')});
	my $holder = $node->background_psql('postgres');
	$holder->query_safe('BEGIN');
	is($holder->query_safe(q{SELECT id FROM queue.read('w', 1, visibility_timeout => '1 second')}),
		$id, 'fallback: the holder reads the message');
	my $r = start_reader($node, 'fallback', read_sql('w', '10 seconds'));
	ok(asleep($node, 'fallback'), 'fallback: reader asleep');
	$holder->query_safe('COMMIT');
	my $after = $holder->query_safe('SELECT extract(epoch FROM clock_timestamp())');
	$holder->quit;
	my $due = visible_at($node, 'w', $id);
	my ($got, $at) = split /\|/, (finish_reader($r))[0];
	# visible again at the later of the commit and the end of the timeout
	$due = $after if $after > $due;
	is($got, $id, 'fallback: the reader gets the message');
	cmp_ok($at, '>=', $due, 'fallback: not before it is due');
	cmp_ok($at - $due, '<', 0.2 + $prompt,
		'fallback: within worker_interval of it coming due (' . ms($at - $due) . ')');
}

# --- shutdown ---------------------------------------------------------------

{
	empty($node, 'w');
	my $r = start_reader($node, 'shutdown', read_sql('w', '30 seconds'));
	ok(asleep($node, 'shutdown'), 'shutdown: reader asleep');
	my $t0 = time;
	$node->stop('fast');
	my $took = time - $t0;
	my (undef, $err) = finish_reader($r);
	cmp_ok($took, '<', 5, "shutdown: a fast shutdown does not wait for the reader (${\ ms($took)})");
	like($err, qr/57P01|terminating connection/, 'shutdown: the reader is disconnected');
}

# --- without the preload ----------------------------------------------------

# No shared memory: the wait falls back to looking every 100 ms.
{
	my $plain = PostgreSQL::Test::Cluster->new('wait_no_preload');
	$plain->init;
	$plain->start;
	$plain->safe_psql('postgres', q{CREATE EXTENSION queue; SELECT queue.create('w');});
	my $r = start_reader($plain, 'plain',
		"SELECT count(*), extract(epoch FROM clock_timestamp() - statement_timestamp())"
		  . " FROM queue.read('w', 1, wait => '500 milliseconds')");
	my ($n, $took) = split /\|/, (finish_reader($r))[0];
	is($n, '0', 'no preload: an empty wait returns nothing');
	cmp_ok($took, '>=', 0.49, 'no preload: after the whole wait');
	$r = start_reader($plain, 'plain', read_sql('w', '10 seconds'));
	ok(asleep($plain, 'plain'), 'no preload: reader asleep');
	my ($after, $id) = run_then_clock($plain, q{SELECT queue.send('w', '{}')});
	my ($got, $at) = split /\|/, (finish_reader($r))[0];
	is($got, $id, 'no preload: the reader gets the message');
	cmp_ok($at - $after, '<', 0.1 + $prompt,
		'no preload: within one 100 ms poll of the commit (' . ms($at - $after) . ')');
	$plain->stop;
}

done_testing();
