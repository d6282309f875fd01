# queue.stats and queue.metrics without a scan (issue 13): the worker
# measures each queue and keeps the counts in shared memory; stats() returns
# them with their time (as_of), stats(q, exact => true) counts.  Also the
# query file for postgres_exporter: every query runs, as a pg_monitor role,
# and returns the columns the file lists.
#
# Copyright (c) 2026, the queue authors
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('stats');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'queue'
queue.worker_interval = '100ms'
queue.stats_interval = '200ms'
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION queue;
	SELECT queue.create('s', visibility_timeout => '1 hour');
	SELECT queue.send('s', '{}') FROM generate_series(1, 5);
	SELECT queue.send('s', '{}', delay => '1 hour');
});

my $counts = q{SELECT ready || '|' || in_flight || '|' || delayed || '|' || dead FROM queue.stats('s')};
ok($node->poll_query_until('postgres', $counts, '5|0|1|0'), 'the worker measures a queue');
ok($node->safe_psql('postgres', q{
	SELECT as_of BETWEEN clock_timestamp() - interval '10 seconds' AND clock_timestamp()
	  FROM queue.stats('s')}) eq 't', '... and says when');

$node->safe_psql('postgres', q{SELECT count(*) FROM queue.read('s', 2)});
ok($node->poll_query_until('postgres', $counts, '3|2|1|0'), 'a read is measured soon after');
$node->safe_psql('postgres', q{
	SELECT queue.alter('s', max_deliveries => 1);
	SELECT queue.nack('s', id, reason => 'poison') FROM queue.read('s', 1) r});
ok($node->poll_query_until('postgres', $counts, '2|2|1|1'), 'a dead letter is measured');
is($node->safe_psql('postgres', q{SELECT dead_total FROM queue.stats('s')}), '1',
	'... and counted');

# the counters do not wait for a measurement
is($node->safe_psql('postgres', q{SELECT sent_total FROM queue.stats('s')}), '6',
	'the counters are up to date');

# an idle empty queue is measured once
$node->safe_psql('postgres', q{SELECT queue.create('idle')});
# (until then stats() counts, as of each call)
ok($node->poll_query_until('postgres', q{
	SELECT (SELECT as_of FROM queue.stats('idle')) = (SELECT as_of FROM queue.stats('idle'))}, 't'),
	'an empty queue is measured once');
my $first = $node->safe_psql('postgres', q{SELECT as_of FROM queue.stats('idle')});
sleep 1;
is($node->safe_psql('postgres', q{SELECT as_of FROM queue.stats('idle')}), $first,
	'... and not again while nothing changes');

# queue.metrics: one row per metric, the same figures
is($node->safe_psql('postgres', q{
	SELECT string_agg(metric || '=' || kind, ',' ORDER BY metric) FROM queue.metrics
	 WHERE queue_name = 'idle'}),
	'acked_total=counter,archived=gauge,dead_letters=gauge,dead_total=counter,'
	. 'messages_delayed=gauge,messages_in_flight=gauge,messages_ready=gauge,'
	. 'oldest_ready_age_seconds=gauge,sent_total=counter',
	'queue.metrics: nine metrics per queue');
is($node->safe_psql('postgres', q{
	SELECT m.value = s.ready FROM queue.metrics m, queue.stats('s') s
	 WHERE m.queue_name = 's' AND m.metric = 'messages_ready'}), 't',
	'... with the figures of stats()');

# with a long interval the counts are as of the last measurement, not now;
# exact => true counts
$node->append_conf('postgresql.conf', qq{queue.stats_interval = '1h'});
$node->reload;
sleep 1;
$node->safe_psql('postgres', q{SELECT queue.send('idle', '{}') FROM generate_series(1, 3)});
sleep 1;
is($node->safe_psql('postgres', qq{SELECT ready || ' ' || (as_of = '$first') FROM queue.stats('idle')}), '0 true',
	'stats() does not count: the three sends are not measured yet');
is($node->safe_psql('postgres', q{SELECT ready FROM queue.stats('idle', exact => true)}), '3',
	'stats(exact => true) counts them');
ok($node->safe_psql('postgres', q{
	SELECT as_of > clock_timestamp() - interval '1 second' FROM queue.stats('idle', exact => true)}) eq 't',
	'... as of now');

# queue.stats_interval = 0: stats() always counts
$node->append_conf('postgresql.conf', qq{queue.stats_interval = 0});
$node->reload;
sleep 1;
$node->safe_psql('postgres', q{SELECT queue.create('fresh'); SELECT queue.send('fresh', '{}')});
is($node->safe_psql('postgres', q{SELECT ready FROM queue.stats('fresh')}), '1',
	'queue.stats_interval = 0: never measured, stats() counts');

# The postgres_exporter query file: each query runs as a pg_monitor role and
# returns the columns the file lists, labels as text and the rest numbers.
my $file = "$ENV{PWD}/examples/postgres_exporter/queries.yaml";
$file = 'examples/postgres_exporter/queries.yaml' unless -f $file;
open(my $fh, '<', $file) or die "cannot open $file: $!";
my (%queries, %metrics, @order, $current, $in_query, $metric);
while (my $line = <$fh>)
{
	next if $line =~ /^\s*#/ || $line =~ /^\s*$/;
	if ($line =~ /^(\w+):\s*$/)
	{
		$current = $1;
		push @order, $current;
		$in_query = 0;
	}
	elsif ($line =~ /^  query: \|\s*$/) { $in_query = 1; }
	elsif ($line =~ /^  metrics:\s*$/) { $in_query = 0; }
	elsif ($in_query) { $queries{$current} .= $line; }
	elsif ($line =~ /^    - (\w+):\s*$/)
	{
		$metric = $1;
		push @{ $metrics{$current} }, [ $metric, undef ];
	}
	elsif ($line =~ /^        usage: "(\w+)"\s*$/)
	{
		$metrics{$current}[-1][1] = $1;
	}
}
close $fh;
is(scalar(@order), 3, 'the exporter file has three queries');
$node->safe_psql('postgres', q{CREATE ROLE exporter LOGIN IN ROLE pg_monitor});
for my $name (@order)
{
	my $query = $queries{$name};
	ok(defined $query && @{ $metrics{$name} } > 0, "$name: a query and its metrics");
	my ($ret, $stdout, $stderr) = $node->psql('postgres',
		"SET ROLE exporter; SELECT count(*) FROM ($query) q", on_error_stop => 1);
	is($ret, 0, "$name: runs as a pg_monitor role") or diag $stderr;
	my $types = $node->safe_psql('postgres', qq{
		CREATE TEMP VIEW v AS $query;
		SELECT string_agg(attname || ':' || format_type(atttypid, NULL), ',' ORDER BY attnum)
		  FROM pg_attribute WHERE attrelid = 'v'::regclass AND attnum > 0});
	my $want = join(',', map {
		$_->[0] . ':' . ($_->[1] eq 'LABEL' ? 'text' : 'number')
	} @{ $metrics{$name} });
	$types =~ s/:(bigint|integer|double precision|numeric|real)/:number/g;
	is($types, $want, "$name: returns the columns the file lists");
	like(join(',', map { $_->[1] } @{ $metrics{$name} }), qr/^(LABEL|GAUGE|COUNTER)(,(LABEL|GAUGE|COUNTER))*$/,
		"$name: every metric has a usage postgres_exporter knows");
}
my ($ret, $out) = $node->psql('postgres', "SET ROLE exporter; $queries{queue}");
like($out, qr/^s\|/m, 'the exporter sees the queues, without any queue privilege');

$node->stop;

# without the library preloaded nothing is measured: stats() counts
my $bare = PostgreSQL::Test::Cluster->new('stats_bare');
$bare->init;
$bare->start;
$bare->safe_psql('postgres', q{
	SET client_min_messages = error;
	CREATE EXTENSION queue;
	SELECT queue.create('b');
	SELECT queue.send('b', '{}');
});
is($bare->safe_psql('postgres', q{
	SELECT ready || '|' || (sent_total IS NULL) FROM queue.stats('b')}), '1|true',
	'without the library preloaded: stats() counts, and has no counters');
$bare->stop;

done_testing();
