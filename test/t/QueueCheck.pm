# QueueCheck -- the load and the checker shared by the fault tests
# (014_crash_load.pl, 015_failover.pl) and the Citus test (021_citus.pl,
# with its own clients, test/load/citus_client.py), Jepsen-style.
#
# The load is test/load/client.py: producers that log each send whose
# COMMIT returned ("S <key> <queue>"), consumers that insert a row into
# table processed and ack the message in one transaction, and log each
# such transaction whose COMMIT returned ("P <key>").
#
# The check, at the end, with the clients stopped:
#   lost sends   acknowledged sends - (processed + still queued + dead letters)
#   lost acks    acknowledged processing (consumer logs) - processed rows
#   duplicates   keys processed more than once
#   unexpected   processed but never acknowledged as sent (a send whose
#                commit outcome was unknown): listed, not a failure
#   order        on the ordered queue, each group's messages processed in
#                the order of their ids
# and, with check_keys, that every acknowledged key still deduplicates: a
# second send of it makes no new message.
#
# Copyright (c) 2026, the queue authors
package QueueCheck;

use strict;
use warnings;

use File::Path qw(make_path);
use IPC::Run;
use PostgreSQL::Test::Utils;
use Time::HiRes qw(usleep);

our $CLIENT = 'test/load/client.py';
our $PYTHON = '/usr/bin/python3';
# more arguments for every client (bench/soak: --poison)
our $EXTRA_ARGS = [];

# setup($node, $dbname): the extension, the two queues and the tables of
# the load.
sub setup
{
	my ($node, $db) = @_;
	$node->safe_psql($db, q{
		CREATE EXTENSION IF NOT EXISTS queue;
		SELECT queue.create('plain', dedup_window => '1 hour');
		SELECT queue.create('ordered', ordered => true, dedup_window => '1 hour');
		CREATE TABLE orders (key text NOT NULL, at timestamptz DEFAULT clock_timestamp());
		CREATE TABLE processed (
			pid bigint GENERATED ALWAYS AS IDENTITY,
			key text NOT NULL, queue text NOT NULL, msg_id bigint NOT NULL,
			group_key text, consumer int NOT NULL,
			at timestamptz NOT NULL DEFAULT clock_timestamp());
	});
	return;
}

# new_run($dir, $connstr): a run's directory: the conninfo file, the logs,
# the stop file.
sub new_run
{
	my ($dir, $connstr) = @_;
	make_path($dir);
	my $run = { dir => $dir, clients => [], producers => [], consumers => [] };
	set_conninfo($run, $connstr);
	unlink "$dir/stop";
	return $run;
}

# set_conninfo($run, $connstr): where clients connect from now on
sub set_conninfo
{
	my ($run, $connstr) = @_;
	my $tmp = "$run->{dir}/conninfo.tmp";
	open my $fh, '>', $tmp or die "$tmp: $!";
	print $fh "$connstr\n";
	close $fh;
	rename $tmp, "$run->{dir}/conninfo" or die "rename: $!";
	return;
}

# start($run, $nproducers, $nconsumers, $rollback)
sub start
{
	my ($run, $np, $nc, $rollback) = @_;
	$rollback //= 0.1;
	for my $role (['producer', $np], ['consumer', $nc])
	{
		for my $n (1 .. $role->[1])
		{
			my $log = "$run->{dir}/$role->[0]$n.log";
			my @cmd = ($PYTHON, $CLIENT, $role->[0], $n,
				'--conninfo-file', "$run->{dir}/conninfo",
				'--log', $log, '--stop', "$run->{dir}/stop",
				'--rollback', $rollback, @$EXTRA_ARGS);
			my $h = IPC::Run::start(\@cmd, '<', \undef, '>>', "$run->{dir}/clients.out",
				'2>>', "$run->{dir}/clients.out");
			push @{ $run->{clients} }, $h;
			push @{ $run->{"$role->[0]s"} }, $log;
		}
	}
	return;
}

# stop($run, $timeout): ask every client to stop (consumers once the queues
# are empty) and wait for them.  Returns 1 if all stopped in time.
sub stop
{
	my ($run, $timeout) = @_;
	$timeout //= 120;
	open my $fh, '>', "$run->{dir}/stop" or die "stop file: $!";
	close $fh;
	my $deadline = time + $timeout;
	for my $h (@{ $run->{clients} })
	{
		while ($h->pumpable && time < $deadline)
		{
			eval { $h->pump_nb; };
			usleep(100_000);
		}
	}
	my $all = 1;
	for my $h (@{ $run->{clients} })
	{
		if ($h->pumpable)
		{
			$all = 0;
			$h->kill_kill;
		}
		else
		{
			$h->finish;
		}
	}
	$run->{clients} = [];
	return $all;
}

sub read_log
{
	my ($file, $tag) = @_;
	my @keys;
	return @keys unless -e $file;
	open my $fh, '<', $file or die "$file: $!";
	while (my $line = <$fh>)
	{
		chomp $line;
		my @f = split / /, $line;
		push @keys, $f[1] if @f >= 2 && $f[0] eq $tag;
	}
	close $fh;
	return @keys;
}

sub column
{
	my ($node, $db, $sql) = @_;
	my $out = $node->safe_psql($db, $sql);
	return grep { $_ ne '' } split /\n/, $out;
}

# check($node, $db, $run, %opt): the figures (see the top of the file).
# Options: extra_sends => [keys] and extra_acks => [keys] add keys to the
# logs (the negative controls plant a loss with them); queued => [keys]
# and dead => [keys] replace the lookup of queues plain and ordered, and
# ordered => 0 skips the check of queue ordered (021_citus.pl, whose
# queues are on other nodes).
sub check
{
	my ($node, $db, $run, %opt) = @_;
	my %sent;
	$sent{$_} = 1 for (map { read_log($_, 'S') } @{ $run->{producers} }),
	  @{ $opt{extra_sends} // [] };
	my %acked;
	$acked{$_} = 1 for (map { read_log($_, 'P') } @{ $run->{consumers} }),
	  @{ $opt{extra_acks} // [] };

	my %processed;
	for (column($node, $db, q{SELECT key || ' ' || count(*) FROM processed GROUP BY key}))
	{
		my ($k, $c) = split / /;
		$processed{$k} = $c;
	}
	# queued => [keys], dead => [keys]: the keys still in the queues and in
	# the dead letters, for queues other than plain and ordered
	my %queued = map { $_ => 1 } @{ $opt{queued} // [ column($node, $db, q{
		SELECT body->>'key' FROM queue.q_plain
		UNION ALL SELECT body->>'key' FROM queue.q_ordered}) ] };
	my %dead = map { $_ => 1 } @{ $opt{dead} // [ column($node, $db, q{
		SELECT body->>'key' FROM queue.dl_plain
		UNION ALL SELECT body->>'key' FROM queue.dl_ordered}) ] };

	my %r = (
		sent => scalar(keys %sent),
		processed => scalar(keys %processed),
		queued => scalar(keys %queued),
		dead => scalar(keys %dead),
		lost_sends => [ sort grep { !$processed{$_} && !$queued{$_} && !$dead{$_} } keys %sent ],
		lost_acks => [ sort grep { !$processed{$_} } keys %acked ],
		duplicates => [ sort grep { $processed{$_} > 1 } keys %processed ],
		unexpected => [ sort grep { !$sent{$_} } keys %processed ],
	);

	# ordered: within each group, ids in processing order must increase
	# (not with ordered => 0: no queue ordered)
	my @order;
	my %last;
	for (($opt{ordered} // 1) ? column($node, $db, q{
		SELECT group_key || ' ' || msg_id || ' ' || key FROM processed
		 WHERE queue = 'ordered' ORDER BY pid}) : ())
	{
		my ($g, $id, $k) = split / /;
		push @order, "$g: $k (id $id) after id $last{$g}"
		  if defined $last{$g} && $id <= $last{$g};
		$last{$g} = $id;
	}
	$r{order} = \@order;
	$r{lost} = @{ $r{lost_sends} } + @{ $r{lost_acks} };
	return \%r;
}

# check_keys($node, $db, $run): send every acknowledged key again; returns
# the number of new messages that made (0: every key still deduplicates).
sub check_keys
{
	my ($node, $db, $run) = @_;
	my @lines = map { my $f = $_; read_s($f) } @{ $run->{producers} };
	my $sql = "SELECT (SELECT count(*) FROM queue.q_plain) + (SELECT count(*) FROM queue.q_ordered);\n";
	my $before = $node->safe_psql($db, $sql);
	my $batch = '';
	for my $l (@lines)
	{
		my ($key, $queue) = @$l;
		# the group the producer gave it: g<seq mod 8>
		my ($seq) = $key =~ /-(\d+)$/;
		my $group = $queue eq 'ordered' ? "'g" . ($seq % 8) . "'" : 'NULL';
		$batch .= "SELECT queue.send('$queue', '{\"key\":\"$key\",\"again\":true}', "
		  . "idempotency_key => '$key', group_key => $group);\n";
	}
	$node->safe_psql($db, $batch) if $batch ne '';
	my $after = $node->safe_psql($db, $sql);
	return $after - $before;
}

sub read_s
{
	my ($file) = @_;
	my @out;
	return @out unless -e $file;
	open my $fh, '<', $file or die "$file: $!";
	while (my $line = <$fh>)
	{
		chomp $line;
		my @f = split / /, $line;
		push @out, [ $f[1], $f[2] ] if @f >= 3 && $f[0] eq 'S';
	}
	close $fh;
	return @out;
}

# summary($r): one line of figures, and the first few keys of each problem
sub summary
{
	my ($r) = @_;
	my $s = sprintf('sent %d, processed %d, queued %d, dead %d; lost %d (sends %d, acks %d), '
		  . 'duplicates %d, unexpected %d, order violations %d',
		$r->{sent}, $r->{processed}, $r->{queued}, $r->{dead}, $r->{lost},
		scalar @{ $r->{lost_sends} }, scalar @{ $r->{lost_acks} },
		scalar @{ $r->{duplicates} }, scalar @{ $r->{unexpected} },
		scalar @{ $r->{order} });
	for my $what (qw(lost_sends lost_acks duplicates unexpected order))
	{
		my @l = @{ $r->{$what} };
		$s .= "\n  $what: " . join(', ', @l[ 0 .. ($#l < 9 ? $#l : 9) ])
		  . (@l > 10 ? ', ...' : '')
		  if @l;
	}
	return $s;
}

1;
