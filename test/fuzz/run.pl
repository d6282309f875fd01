#!/usr/bin/perl
#
# test/fuzz/run.pl -- run the fuzzer (QueueFuzz.pm) against a running server.
#
#   test/fuzz/run.pl --logfile /path/to/server.log [--seconds 60] [--seed N]
#                    [--outdir DIR] [--chunk-calls 100] [--noise 2]
#                    [--stop-on-failure]
#
# The server must have the library in shared_preload_libraries, the
# extension created in the database, max_prepared_transactions > 0, and
# queue.max_wait short (say 200ms, or unprivileged long polls take that
# long).  Connection: PGHOST, PGPORT, PGDATABASE and PGUSER (a superuser).
# The first run creates the schema fuzz (test/fuzz/setup.sql) and the roles
# fuzz_stranger (LOGIN; the server must let it connect) and fuzz_grantee.
#
# The seed is printed; the same seed gives the same statements. Exit
# status 1 when something failed.  test/t/007_fuzz.pl runs this on a
# cluster of its own.
#
# Copyright (c) 2026, the queue authors
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;
use Getopt::Long;

use QueueFuzz;

binmode(STDOUT, ':encoding(UTF-8)');

my %o = (
	seconds => 60,
	seed    => ($ENV{QUEUE_FUZZ_SEED} // (time() ^ ($$ << 8)) % 2147483647),
	outdir  => '/tmp/queue-fuzz',
	chunk_calls => 100,
	noise   => 2,
);
GetOptions(
	'seconds=i'       => \$o{seconds},
	'seed=i'          => \$o{seed},
	'outdir=s'        => \$o{outdir},
	'logfile=s'       => \$o{logfile},
	'chunk-calls=i'   => \$o{chunk_calls},
	'noise=i'         => \$o{noise},
	'stop-on-failure' => \$o{stop_on_failure},
) or die "usage: $0 --logfile FILE [--seconds N] [--seed N] [--outdir DIR]\n";
die "--logfile (the server log, scanned for crashes) is required\n" unless $o{logfile};

print "queue fuzz: seed $o{seed}, $o{seconds} s, scripts in $o{outdir}\n";
my $res = QueueFuzz::run(
	%o,
	fuzzdir   => $FindBin::Bin,
	host      => $ENV{PGHOST} // '/var/run/postgresql',
	port      => $ENV{PGPORT} // 5432,
	dbname    => $ENV{PGDATABASE} // 'postgres',
	superuser => $ENV{PGUSER} // scalar(getpwuid($<)),
	log       => sub { print "$_[0]\n" });
print QueueFuzz::report($res);
exit(@{ $res->{failures} } ? 1 : 0);
