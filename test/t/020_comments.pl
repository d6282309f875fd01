# Comments: a database updated from each released version has the same
# COMMENT ON FUNCTION of every function in schema queue as a fresh install
# (TAP 009 compares the objects themselves, not their comments), and a
# fresh install has one on each.
#
# Copyright (c) 2026, the queue authors
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('comments');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'queue'
queue.worker_enabled = off
});
$node->start;

my $comments = q{
	SELECT p.oid::regprocedure::text || ' ' || coalesce(obj_description(p.oid, 'pg_proc'), '(none)')
	  FROM pg_proc p
	 WHERE p.pronamespace = 'queue'::regnamespace
	 ORDER BY 1
};

$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION queue');
my $fresh = $node->safe_psql('fresh', $comments);
cmp_ok(scalar(split /\n/, $fresh), '>=', 56, 'the fresh install has its functions listed');
unlike($fresh, qr/\(none\)$/m, 'every function of a fresh install has a comment');

foreach my $from ('0.1.0', '0.2.0', '0.3.0')
{
	$node->safe_psql('postgres', 'CREATE DATABASE old');
	$node->safe_psql('old', qq{CREATE EXTENSION queue VERSION '$from'});
	$node->safe_psql('old', 'ALTER EXTENSION queue UPDATE');
	is($node->safe_psql('old', $comments), $fresh,
		"updated from $from: the comments of a fresh install");
	$node->safe_psql('postgres', 'DROP DATABASE old');
}

$node->stop;
done_testing();
