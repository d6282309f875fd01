# Queue privileges are rows of queue.grants, not table privileges (issue 12):
#
#  - the update from 0.4.0 turns the table privileges of a database into
#    rows (those queue.grant made, and one granted on a table by hand),
#    leaves out what no table privilege backed any more (DROP OWNED), and
#    revokes every write on the queues' tables;
#  - pg_dump and pg_restore keep every role's privileges, for a database
#    updated from 0.4.0 and for one made with the current version: the
#    answer of has_queue_privilege for every role, queue and privilege is
#    the same before and after;
#  - REASSIGN OWNED moves no privilege (as for tables), DROP OWNED ends a
#    role's queue privileges, and DROP ROLE refuses a role that still holds
#    one.
#
# Copyright (c) 2026, the queue authors
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('privileges');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'queue'
queue.worker_enabled = off
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE ROLE r_send; CREATE ROLE r_consume; CREATE ROLE r_manage;
	CREATE ROLE r_group; CREATE ROLE r_member IN ROLE r_group;
	CREATE ROLE r_manual; CREATE ROLE r_gone; CREATE ROLE r_none;
});

# every role, queue and privilege, with has_queue_privilege's answer
my $matrix = q{
	SELECT string_agg(format('%s %s %s %s', r, q, p,
							 queue.has_queue_privilege(r::regrole, q, p)), E'\n'
					  ORDER BY r, q, p)
	  FROM unnest(ARRAY['r_send', 'r_consume', 'r_manage', 'r_group', 'r_member',
						'r_manual', 'r_gone', 'r_none']) r,
		   (SELECT queue_name AS q FROM queue.queues) q,
		   unnest(ARRAY['send', 'consume', 'manage']) p
};
# what anyone but the owner may do to the tables of the queues and the catalog
my $table_rights = q{
	SELECT coalesce(string_agg(DISTINCT format('%s %s %s', c.relname,
							   coalesce(nullif(a.grantee, 0)::regrole::text, 'PUBLIC'),
							   a.privilege_type), E'\n'), '')
	  FROM pg_class c, aclexplode(c.relacl) a
	 WHERE c.relnamespace = 'queue'::regnamespace
	   AND a.grantee <> c.relowner
	   AND (a.privilege_type <> 'SELECT' OR c.relname IN ('registry', 'bindings', 'grants'))
};

sub expected_matrix
{
	my (%holds) = @_;			# "role queue" => privilege
	my @lines;
	foreach my $r (sort qw(r_send r_consume r_manage r_group r_member r_manual r_gone r_none))
	{
		foreach my $q (sort qw(a b))
		{
			foreach my $p (sort qw(send consume manage))
			{
				my $h = $holds{"$r $q"} // '';
				my $yes = ($h eq $p || $h eq 'manage') ? 't' : 'f';
				push @lines, "$r $q $p $yes";
			}
		}
	}
	return join("\n", @lines);
}

# --- a database made with 0.4.0 ----------------------------------------------

$node->safe_psql('postgres', 'CREATE DATABASE old');
$node->safe_psql('old', q{
	CREATE EXTENSION queue VERSION '0.4.0';
	SELECT queue.create('a');
	SELECT queue.create('b');
	SELECT queue.send('a', '{"n": 1}');
	SELECT queue.grant('a', 'r_send', 'send');
	SELECT queue.grant('a', 'r_consume', 'consume');
	SELECT queue.grant('b', 'r_manage', 'manage');
	SELECT queue.grant('b', 'r_group', 'consume');
	-- by hand, on the table: becomes send
	GRANT INSERT ON queue.q_b TO r_manual;
	-- emptied by DROP OWNED: its row is left in 0.4.0 and must not come back
	SELECT queue.grant('a', 'r_gone', 'manage');
	DROP OWNED BY r_gone;
});
my %holds_old = ('r_send a' => 'send', 'r_consume a' => 'consume',
	'r_manage b' => 'manage', 'r_group b' => 'consume', 'r_member b' => 'consume',
	'r_manual b' => 'send');

$node->safe_psql('old', 'ALTER EXTENSION queue UPDATE');
is($node->safe_psql('old', q{SELECT extversion FROM pg_extension WHERE extname = 'queue'}),
	$node->safe_psql('old', q{SELECT default_version FROM pg_available_extensions WHERE name = 'queue'}),
	'updated from 0.4.0 to the current version');
is($node->safe_psql('old', $matrix), expected_matrix(%holds_old),
	'after the update, each role holds what its table privileges gave it in 0.4.0');
is($node->safe_psql('old', $table_rights), '',
	'after the update, nobody but the owner may write to a queue table or read the catalog');
is($node->safe_psql('old', q{
	SELECT string_agg(format('%s %s %s', queue_name, grantee, privilege), ', '
					  ORDER BY queue_name, grantee::text, privilege) FROM queue.grants}),
	'a r_consume consume, a r_send send, b r_group consume, b r_manage manage, b r_manual send',
	'queue.grants: the rows queue.grant made, the one granted by hand, not the emptied one');

my ($ret, $stdout, $stderr) = $node->psql('old', q{
	SET ROLE r_send;
	INSERT INTO queue.q_a (id, body, delivery_count, enqueued_at, visible_at)
	VALUES (1000, '{}', 0, now(), now());
});
like($stderr, qr/permission denied for table q_a/, 'a producer can no longer INSERT into q_');
is($node->safe_psql('old', q{SET ROLE r_send; SELECT queue.send('a', '{"n": 2}') > 0}), 't',
	'it sends through the function');
is($node->safe_psql('old', q{SET ROLE r_member; SELECT count(*) FROM queue.read('b', 10)}), '0',
	'a member of a consuming group role reads');
is($node->safe_psql('old', q{SET ROLE r_manual; SELECT queue.send('b', '{}') > 0}), 't',
	'the role granted INSERT by hand sends');
($ret, $stdout, $stderr) = $node->psql('old', q{SET ROLE r_gone; SELECT queue.purge('a')});
like($stderr, qr/permission denied for queue "a"/, 'the role emptied by DROP OWNED holds nothing');

# --- pg_dump and pg_restore ----------------------------------------------------

sub dump_restore
{
	my ($src, $dst) = @_;
	my $dump = $node->basedir . "/$src.dump";
	$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr($src) ],
		"pg_dump of $src");
	$node->safe_psql('postgres', "CREATE DATABASE $dst");
	$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr($dst), $dump ],
		"pg_restore of $src into $dst");
}

my $before = $node->safe_psql('old', $matrix);
dump_restore('old', 'old_restored');
is($node->safe_psql('old_restored', $matrix), $before,
	'the database updated from 0.4.0: every privilege survives pg_dump and pg_restore');
is($node->safe_psql('old_restored', $table_rights), '',
	'... and nobody but the owner may write to its tables');

$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', q{
	CREATE EXTENSION queue;
	SELECT queue.create('a');
	SELECT queue.create('b');
	SELECT queue.grant('a', 'r_send', 'send');
	SELECT queue.grant('a', 'r_consume', 'consume');
	SELECT queue.grant('b', 'r_manage', 'manage');
	SELECT queue.grant('b', 'r_group', 'send');
	SELECT queue.grant('b', 'r_group', 'consume');
	SELECT queue.grant('b', 'r_manual', 'send');
	SELECT queue.revoke('b', 'r_manual', 'send');
});
my %holds_fresh = ('r_send a' => 'send', 'r_consume a' => 'consume',
	'r_manage b' => 'manage');
$before = $node->safe_psql('fresh', $matrix);
my $expected = expected_matrix(%holds_fresh);
# r_group and r_member hold two privileges on b: send and consume
$expected =~ s/^(r_(?:group|member) b (?:consume|send)) f$/$1 t/mg;
is($before, $expected, 'a fresh database: the privileges granted');
dump_restore('fresh', 'fresh_restored');
is($node->safe_psql('fresh_restored', $matrix), $before,
	'a fresh database: every privilege survives pg_dump and pg_restore');
is($node->safe_psql('fresh_restored', q{SET ROLE r_member; SELECT queue.send('b', '{}') > 0}), 't',
	'the restored grants work');

# --- REASSIGN OWNED, DROP OWNED and DROP ROLE -------------------------------------

# REASSIGN OWNED moves what a role owns, not what it was granted (as for
# tables): the privileges stay with the role
$node->safe_psql('fresh', 'REASSIGN OWNED BY r_consume TO r_none');
is($node->safe_psql('fresh', q{
	SELECT queue.has_queue_privilege('r_consume', 'a', 'consume'),
		   queue.has_queue_privilege('r_none', 'a', 'consume')}), 't|f',
	'REASSIGN OWNED moves no queue privilege');


($ret, $stdout, $stderr) = $node->psql('fresh', 'DROP ROLE r_send');
like($stderr, qr/role "r_send" cannot be dropped because some objects depend on it/,
	'DROP ROLE refuses a role that holds a queue privilege');
like($stderr, qr/privileges for sequence queue\.qseq_a/, '... naming the anchor of its privileges');
# r_send holds privileges in old, old_restored and fresh_restored too
foreach my $db ('old', 'old_restored', 'fresh', 'fresh_restored')
{
	$node->safe_psql($db, 'DROP OWNED BY r_send');
}
is($node->safe_psql('fresh', q{SELECT queue.has_queue_privilege('r_send', 'a', 'send')}), 'f',
	'DROP OWNED ends the role\'s queue privileges');
is($node->psql('postgres', 'DROP ROLE r_send'), 0, 'then DROP ROLE succeeds');
my $dump = $node->basedir . '/after_drop.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('fresh') ],
	'pg_dump after the role is gone');
$node->safe_psql('postgres', 'CREATE DATABASE after_drop');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('after_drop'), $dump ],
	'pg_restore after the role is gone (its rows were forgotten or are restorable)');

$node->stop;
done_testing();
