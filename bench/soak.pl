# bench/soak.pl -- run by bench/soak (see there and bench/README.md).
#
# A throwaway cluster with the extension preloaded; test/load/client.py's
# producers (1% poison messages) and consumers (10% of their transactions
# rolled back) run for --minutes; every --sample seconds the runner takes
# the processed rate, the messages queued, the dead tuples and size of the
# message tables, and the dead letters; at the end the consumers drain the
# queues and QueueCheck (test/t/QueueCheck.pm) counts lost and duplicated
# messages.  Writes <out>/soak.csv, <out>/soak.png (gnuplot) and
# <out>/soak.txt (the summary).
#
# Copyright (c) 2026, the queue authors
use strict;
use warnings;

use Getopt::Long;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use QueueCheck;
use Time::HiRes qw(time sleep);

my $minutes = 30;
my $sample = 30;
my $producers = 2;
my $consumers = 4;
my $out = 'bench/out/soak';
GetOptions('minutes=f' => \$minutes, 'sample=i' => \$sample,
	'producers=i' => \$producers, 'consumers=i' => \$consumers,
	'out=s' => \$out) or die "bad options\n";

my $node = PostgreSQL::Test::Cluster->new('soak');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'queue'
max_connections = 40
log_min_messages = warning
});
$node->start;
QueueCheck::setup($node, 'postgres');

my $run = QueueCheck::new_run("$out/run", $node->connstr('postgres'));
$QueueCheck::EXTRA_ARGS = [ '--poison', '0.01' ];
QueueCheck::start($run, $producers, $consumers, 0.1);

open my $csv, '>', "$out/soak.csv" or die "$out/soak.csv: $!";
print $csv "seconds,processed_per_s,queued,dead_tuples,dead_letters,size_kb\n";
my $stats = q{
	SELECT (SELECT count(*) FROM processed),
	       (SELECT count(*) FROM queue.q_plain) + (SELECT count(*) FROM queue.q_ordered),
	       (SELECT sum(n_dead_tup) FROM pg_stat_user_tables
	         WHERE schemaname = 'queue' AND relname IN ('q_plain', 'q_ordered')),
	       (SELECT count(*) FROM queue.dl_plain) + (SELECT count(*) FROM queue.dl_ordered),
	       (pg_total_relation_size('queue.q_plain') + pg_total_relation_size('queue.q_ordered')) / 1024};
my $t0 = time;
my $last_processed = 0;
my $last_t = $t0;
while (time - $t0 < $minutes * 60)
{
	sleep($sample - ((time - $t0) - int((time - $t0) / $sample) * $sample));
	my ($processed, $queued, $dead_tup, $dead, $size) =
	  split /\|/, $node->safe_psql('postgres', $stats);
	my $now = time;
	my $rate = ($processed - $last_processed) / ($now - $last_t);
	printf $csv "%.0f,%.1f,%d,%d,%d,%d\n", $now - $t0, $rate, $queued, $dead_tup // 0, $dead, $size;
	$csv->flush;
	printf "soak: %4.0f s  %7.1f processed/s  queued %d  dead tuples %d  dead letters %d  %d kB\n",
	  $now - $t0, $rate, $queued, $dead_tup // 0, $dead, $size;
	($last_processed, $last_t) = ($processed, $now);
}
close $csv;

my $stopped = QueueCheck::stop($run, 300);
my $r = QueueCheck::check($node, 'postgres', $run);
my $summary = sprintf("soak: %g minutes, %d producers (1%% poison), %d consumers (10%% rolled back); "
	  . "clients stopped: %s\n%s\n",
	$minutes, $producers, $consumers, $stopped ? 'yes' : 'NO (killed)', QueueCheck::summary($r));
print $summary;
open my $txt, '>', "$out/soak.txt" or die;
print $txt $summary;
close $txt;
$node->stop;

# the plot: four panels over time
open my $gp, '|-', 'gnuplot' or die "gnuplot: $!";
print $gp <<"EOF";
set terminal pngcairo size 1200,800 noenhanced
set output '$out/soak.png'
set datafile separator ','
set key off
set grid
set xlabel 'seconds'
set multiplot layout 2,2 title 'queue soak: $minutes min, 1% poison, 10% rolled back; lost $r->{lost}, duplicated @{[ scalar @{ $r->{duplicates} } ]}'
set title 'messages processed per second'
plot '$out/soak.csv' every ::1 using 1:2 with linespoints
set title 'messages queued'
plot '$out/soak.csv' every ::1 using 1:3 with linespoints
set title 'dead tuples in the message tables'
plot '$out/soak.csv' every ::1 using 1:4 with linespoints
set title 'dead letters'
plot '$out/soak.csv' every ::1 using 1:5 with linespoints
unset multiplot
EOF
close $gp or die "gnuplot failed\n";
exit($r->{lost} == 0 && !@{ $r->{duplicates} } ? 0 : 1);
