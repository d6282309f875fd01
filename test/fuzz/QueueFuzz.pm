# Copyright (c) 2026, the queue authors

=pod

=head1 NAME

QueueFuzz - a fuzzer for the SQL surface of the queue extension

=head1 SYNOPSIS

  use QueueFuzz;
  my $result = QueueFuzz::run(
      psql     => 'psql',          # the client to run
      host     => '/tmp', port => 5432, dbname => 'postgres',
      superuser => 'postgres', stranger => 'fuzz_stranger',
      logfile  => '/path/to/server.log',  # scanned for crashes
      outdir   => '/tmp/fuzz',     # chunk scripts and psql output
      fuzzdir  => 'test/fuzz',     # where setup.sql is
      seconds  => 60, seed => 42,
      noise    => 2);              # concurrent noise sessions
  print QueueFuzz::report($result);

=head1 DESCRIPTION

From a seed, generates psql scripts ("chunks") of random calls to every
public function of the schema queue, with hostile names (quotes,
semicolons, unicode, too long, injection attempts, case variants), NULL in
every argument, huge, deep and malformed JSON, extreme intervals and
quantities, arrays with NULL elements, other bounds, other dimensions and
mismatched lengths, ids and receipts that do not exist, mixed with valid
calls on a few real queues (retries, dead letters, the archive, keys,
ordered groups, priorities, fan-out), explicit transactions with COMMIT,
ROLLBACK, SAVEPOINT / ROLLBACK TO, PREPARE TRANSACTION and READ ONLY.

Each chunk runs in one psql session with ON_ERROR_STOP off and
ON_ERROR_ROLLBACK on.  Around every fuzzed call psql takes a fingerprint
(fuzz.fp(), see setup.sql); when the call errors (psql's :ERROR), the state
must not have changed (fuzz.check()).  Some calls go through fuzz.try(),
which runs them in a subtransaction and swallows the error: the statement
then commits, and the fingerprint catches what leaked out of the rolled-
back subtransaction (shared-memory counters).  Calls made as the
unprivileged role (in a session of its own, or after SET ROLE or SET
SESSION AUTHORIZATION in a superuser session whose caches are warm), and
calls in READ ONLY transactions, must change nothing at all, whether they
fail or not.

Meanwhile, noise sessions (superuser) fuzz queues of their own (fzc_*,
left out of the fingerprints) and race one another and the background
worker: only crashes, SQLSTATEs and invariants are checked there.

Failures: a backend crash (server log: "terminated by signal", "was
terminated by exception", PANIC, TRAP, an abnormal exit), psql losing its
connection, a chunk that hangs, a fingerprint that changed, an error
with SQLSTATE class XX (internal) or 58 (system), a syntax error 42601
(the generator only writes well-formed SQL: a syntax error means some
input was spliced into a statement), an unprivileged call failing with
anything but 42501 or an input error, a broken invariant
(fuzz.invariants()), and a background worker whose step fails again and
again (which leaves every queue of the database without dead-lettering,
retention and wake-ups).  Other SQLSTATEs one would not expect from bad input
(42P01, 42P07, 23xxx, ...) are reported as findings.

Generation does not depend on what the calls return, so a seed always
gives the same statements: QUEUE_FUZZ_SEED replays a run, and every
failure names its chunk script and call number.

=cut

package QueueFuzz;

use strict;
use warnings;
use utf8;

use File::Path qw(make_path);
use IPC::Run;
use Time::HiRes qw(time);

# ---------------------------------------------------------------------
# Randomness (Perl's own drand48: the same seed gives the same run)
# ---------------------------------------------------------------------

sub r      { return int(rand($_[0])); }
sub pick   { return $_[ int(rand(scalar @_)) ]; }
sub chance { return rand() < $_[0]; }

# wpick([weight, value], ...): a value; a CODE value is called
sub wpick
{
	my $total = 0;
	$total += $_->[0] for @_;
	my $x = rand($total);
	for my $c (@_)
	{
		$x -= $c->[0];
		if ($x < 0)
		{
			return ref($c->[1]) eq 'CODE' ? $c->[1]->() : $c->[1];
		}
	}
	my $last = $_[-1][1];
	return ref($last) eq 'CODE' ? $last->() : $last;
}

# ---------------------------------------------------------------------
# SQL literals
# ---------------------------------------------------------------------

sub lit
{
	my ($s) = @_;
	return 'NULL' unless defined $s;
	$s =~ s/'/''/g;
	return "'$s'";
}

# ---------------------------------------------------------------------
# Values.  Every generator returns an SQL expression.
# ---------------------------------------------------------------------

our @REAL = qw(fz_a fz_o fz_r fz_u fz_p);
our @TOPICS = qw(fz_t fz_t2 fz_t3);

# valid names that may or may not exist; some collide with the names of
# the real queues' derived tables and indexes
our @VALID = (
	'a', '_', 'z' x 48, 'fz_new', 'fz_gone', 'q_fz_a', 'dl_fz_a',
	'fz_a_priority', 'fz_a_group', 'fz_a_pkey', 'fz_a_id_seq',
	'fz_r_acked_at', 'fz_o_created_at', 'fz_p_pkey', '_' x 48, 'a1_');

# names the rule refuses
our @HOSTILE_NAMES = (
	'', ' ', 'FZ_A', 'Fz_a', 'fz_A', 'fz_a ', ' fz_a', "fz_a\n", "fz_a\t",
	'fz-a', 'fz.a', 'queue.fz_a', 'queue.q_fz_a', '"fz_a"', 'fz_a"', 'a"b',
	"a'b", "fz_a'; DROP TABLE queue.registry; --",
	'fz_a"; DROP TABLE queue.registry; --', "') OR ('1'='1",
	"fz_a; SELECT pg_sleep(10)", 'fz_a); DROP SCHEMA queue CASCADE; --',
	'$1', '%I', '%s', '%L', '%%', '%1$I', '\\', 'fz_a\\', '../x', 'pg_temp',
	'pg_catalog.pg_class', '1abc', '9', 'ü', 'fz_ä', "fz_\x{0430}",
	'日本', "\x{1F600}", "fz_a\x{200B}", "\x{FEFF}fz_a", "fz_a\x{0301}",
	'İ', 'ǅ', 'x' x 49, 'x' x 63, 'x' x 64, 'fz_a' . ('_' x 60), '*',
	'/*', '*/', '--', ';', "fz_a\r", "\x7f", "a\x01b");

# the same, as expressions
our @HOSTILE_NAME_EXPRS = (
	'NULL', 'NULL::text', "repeat('x', 100000)", "repeat('a', 48) || 'b'",
	"upper('fz_a')", "'fz_a' || chr(0)", "chr(8203) || 'fz_a'",
	"U&'fz_\\0061'", "chr(55296)", "'fz_a'::char(10)", "'fz_a'::name",
	"repeat('ü', 30)", "E'fz_a\\\\'", "'fz_' || repeat('a', 45)",
	"(SELECT string_agg(chr(g), '') FROM generate_series(1, 127) g)");

our @ROLES_SAFE = (
	'fuzz_grantee', 'postgres', 'pg_monitor', 'nonexistent_role', '', ' ',
	'fuzz_grantee ', 'fuzz_grantee"; DROP ROLE fuzz_grantee; --',
	"fuzz_grantee'; DROP ROLE fuzz_grantee; --", 'x' x 70, 'pg_signal_backend',
	'current_user', 'session_user', 'none', '-', "\x{1F600}");
# only inside transactions that roll back: they would give the
# unprivileged role rights (the exact name, case variants, quoting, PUBLIC)
our @ROLES_RISKY = (
	'fuzz_stranger', 'FUZZ_STRANGER', '"fuzz_stranger"', 'public', 'PUBLIC',
	'"public"', 'Public', ' fuzz_stranger');

our @PRIVS = ('send', 'consume', 'manage');
our @HOSTILE_PRIVS = (
	'SEND', 'Send', 'all', 'ALL', '', ' send', 'send ', 'send,consume',
	'send, consume', 'select', 'insert', 'truncate', 'usage',
	"send'; DROP TABLE queue.registry; --", 'manage;', 'x' x 1000, 'consume"');

our @HOSTILE_TEXT = (
	'', ' ', "'", '"', "a'b", 'a"b', "x'; DROP TABLE queue.registry; --",
	'$1', '%s', '%I', '\\', "\n", "日本語", "\x{1F600}", "\x{FEFF}",
	'NULL', 'null', '{}', '[]', "\x01");
our @HOSTILE_TEXT_EXPRS = (
	'NULL', "repeat('k', 5000)",
	"(SELECT string_agg(md5(g::text), '') FROM generate_series(1, 120) g)",
	"(SELECT string_agg(md5(g::text), '') FROM generate_series(1, 400) g)",
	"repeat('é', 2000)", "'k' || chr(0)", "repeat('x', 3000000)",
	"chr(55296)", "chr(1114111)");

our @INTERVALS_SANE = ("'0'", "'1 ms'", "'10 ms'", "'100 ms'", "'1 second'", "'2 seconds'");
our @INTERVALS_HOSTILE = (
	'NULL', "'-1 s'", "'-1 microsecond'", "'1 microsecond'", "'0.5 microsecond'",
	"'infinity'", "'-infinity'", "'1000000 years'", "'178000000 years'",
	"'-178000000 years'", "'2147483647 days'", "'-2147483648 days'",
	"'2147483647 mons'", "'2147483647 hours'", "'-2147483648 hours'",
	"'1 mon -30 days'", "'1 day -86400 seconds'", "'-1 mon 31 days'",
	"'1 mon -31 days'", "'@ 1 hour ago'", "'P1Y2M3DT4H5M6S'", "'PT0.000001S'",
	"'1e6 years'", "'abc'", "''", "'1 fortnight'", "'30'",
	"make_interval(secs => 1e15)", "'1 s'::interval * 1e10",
	"interval '1 year' * 1e6", "'-0'", "'1 week'", "'10000 years'",
	"'9223372036854775807 microseconds'", "'292277 years'",
	"'100 s'::interval / 0");

our @INTS_HOSTILE = (
	'NULL', '0', '-1', '2147483647', '-2147483648', '2147483648',
	'-2147483649', '1e10', "'1'", "'x'", '1.5', "'2147483647'::int",
	"(-2147483647 - 1)", '999999', '1000', '1001', '65536');
our @BIGINTS_HOSTILE = (
	'NULL', '0', '-1', '9223372036854775807', '-9223372036854775808',
	'9223372036854775808', "'x'", '2147483648', '-2147483649', '1.5',
	"'9223372036854775807'::bigint", "(-9223372036854775807 - 1)");

# ---------------------------------------------------------------------
# The generator object
# ---------------------------------------------------------------------

sub new
{
	my ($class, %o) = @_;
	my $self = bless {
		seed      => $o{seed},
		functions => $o{functions} || {},   # name => [argument type lists]
		max_batch => 1000,
		n         => $o{first_call} // 0,   # last call number
		tag       => ($o{prefix} // 'fz') . $o{seed},
		role      => 'super',
		p         => $o{prefix} // 'fz',
	}, $class;
	# the names of the pools with the prefix of this generator: the noise
	# sessions work on queues of their own (fzc_*)
	my $p = $self->{p};
	my $sub = sub { map { (my $x = $_) =~ s/fz_/${p}_/g; $x } @_ };
	$self->{real}   = [ $sub->(@REAL) ];
	$self->{topics} = [ $sub->(@TOPICS) ];
	$self->{valid}  = [ grep { $p eq 'fz' || /${p}_/ } $sub->(@VALID) ];
	$self->{hostile_names} = [ $sub->(@HOSTILE_NAMES) ];
	$self->{hostile_exprs} = [ $sub->(@HOSTILE_NAME_EXPRS) ];
	$self->{mixnames} = $p eq 'fz' ? [ 'fz_new', 'fz_gone', 'a', '_' ] : [ "${p}_new", "${p}_gone" ];
	srand($o{seed}) unless $o{no_srand};
	return $self;
}

sub super { return $_[0]{role} ne 'stranger'; }

sub qname_sane
{
	my ($self) = @_;
	return lit(wpick([ 8, sub { pick(@{ $self->{real} }) } ], [ 2, sub { pick(@{ $self->{valid} }) } ]));
}

sub qname_hostile
{
	my ($self) = @_;
	return wpick(
		[ 6, sub { lit(pick(@{ $self->{hostile_names} })) } ],
		[ 3, sub { pick(@{ $self->{hostile_exprs} }) } ],
		[ 1, sub { lit(pick(@{ $self->{valid} })) } ]);
}

sub qname
{
	my ($self, $h) = @_;
	return chance($h) ? $self->qname_hostile : $self->qname_sane;
}

sub topic
{
	my ($self, $h) = @_;
	return $self->qname_hostile if chance($h);
	return lit(wpick([ 6, sub { pick(@{ $self->{topics} }) } ], [ 2, sub { pick(@{ $self->{real} }) } ],
		[ 1, sub { pick(@{ $self->{valid} }) } ]));
}

sub body_sane
{
	my ($self) = @_;
	my $n = r(1000);
	return wpick(
		[ 5, "'{\"n\": $n}'" ],
		[ 1, "'[1, 2, 3]'" ],
		[ 1, "'\"s\"'" ],
		[ 1, "'null'" ],
		[ 1, "'0'" ],
		[ 1, "'{\"ü\": \"日本\", \"e\": \"\\ud83d\\ude00\"}'" ],
		[ 1, sub { "jsonb_build_object('n', $n, 's', repeat('x', " . r(3000) . '))' } ],
		[ 1, sub { "(SELECT jsonb_agg(g) FROM generate_series(1, " . r(200) . ') g)' } ]);
}

sub body_hostile
{
	my ($self) = @_;
	my $depth = pick(10, 100, 1000, 5000, 20000, 200000);
	return wpick(
		[ 3, 'NULL' ],
		[ 1, 'NULL::jsonb' ],
		[ 1, "'null'::jsonb" ],
		[ 2, sub { "jsonb_build_object('s', repeat('x', " . pick(65000, 65536, 66000, 70000, 1100000) . '))' } ],
		[ 1, sub { "(SELECT jsonb_agg(g) FROM generate_series(1, " . pick(10000, 20000, 300000) . ') g)' } ],
		[ 1, sub { "(SELECT jsonb_object_agg('k' || g, g) FROM generate_series(1, " . pick(3000, 9000) . ') g)' } ],
		[ 2, sub { "(repeat('[', $depth) || repeat(']', $depth))::jsonb" } ],
		[ 1, sub { "(repeat('{\"a\":', $depth) || '1' || repeat('}', $depth))::jsonb" } ],
		[ 1, sub { "(SELECT to_jsonb(array_agg(repeat('y', 1000))) FROM generate_series(1, 70))" } ],
		[ 1, "'{'" ], [ 1, "'{\"a\":}'" ], [ 1, "''" ], [ 1, "'{\"a\": 1,}'" ],
		[ 1, "'NaN'" ], [ 1, "'\"\\u0000\"'" ], [ 1, "'\"\\ud800\"'" ],
		[ 1, "'1e1000000'" ], [ 1, "'{\"a\": 1, \"a\": 2}'" ], [ 1, "'-0'" ],
		[ 1, "'{}'::json" ], [ 1, '123' ], [ 1, "'abc'::text" ], [ 1, "'[]'" ],
		[ 1, "'\"' || repeat('z', 70000) || '\"'" ],
		[ 1, "'{\"k\": \"'' || pg_sleep(5) || ''\"}'" ],
		[ 1, "to_jsonb('a'';DROP TABLE queue.registry;--'::text)" ]);
}

sub body
{
	my ($self, $h) = @_;
	return chance($h) ? $self->body_hostile : $self->body_sane;
}

sub headers
{
	my ($self, $h) = @_;
	if (chance($h))
	{
		return wpick(
			[ 2, "'[1, 2]'" ], [ 2, "'\"str\"'" ], [ 2, "'null'" ], [ 1, "'5'" ],
			[ 1, "'true'" ], [ 1, "'[]'" ], [ 3, sub { $self->body_hostile } ],
			[ 1, "jsonb_build_object('h', repeat('h', 70000))" ]);
	}
	return wpick([ 4, 'NULL' ], [ 4, "'{\"h\": " . r(10) . "}'" ], [ 1, "'{}'" ]);
}

sub ival
{
	my ($self, $h) = @_;
	return pick(@INTERVALS_HOSTILE) if chance($h);
	return wpick([ 3, 'NULL' ], [ 6, sub { pick(@INTERVALS_SANE) } ]);
}

sub int_of
{
	my ($self, $h, @sane) = @_;
	return pick(@INTS_HOSTILE, $self->{max_batch}, $self->{max_batch} + 1) if chance($h);
	return pick(@sane);
}

sub qty
{
	my ($self, $h) = @_;
	return $self->int_of($h, 1, 1, 2, 3, 5, 10);
}

sub boolv
{
	my ($self, $h) = @_;
	return pick('NULL', "'maybe'", '1', "'yes'", "'on'", 'NULL::boolean') if chance($h);
	return pick('true', 'false');
}

sub textv
{
	my ($self, $h, @sane) = @_;
	return wpick([ 2, sub { lit(pick(@HOSTILE_TEXT)) } ], [ 1, sub { pick(@HOSTILE_TEXT_EXPRS) } ])
	  if chance($h);
	return pick(@sane);
}

sub ikey
{
	my ($self, $h) = @_;
	return $self->textv($h, 'NULL', 'NULL', map { lit("key$_") } 1 .. 12);
}

sub gkey
{
	my ($self, $h) = @_;
	return $self->textv($h, 'NULL', map { lit("g$_") } 1 .. 4);
}

sub reason
{
	my ($self, $h) = @_;
	return $self->textv($h, 'NULL', "'fuzz'", "'carrier API down'");
}

sub producer
{
	my ($self, $h) = @_;
	return $self->textv($h, map { lit("p$_") } 1 .. 3);
}

sub pseq
{
	my ($self, $h) = @_;
	return pick(@BIGINTS_HOSTILE) if chance($h);
	return 1 + r(40);
}

sub prio
{
	my ($self, $h) = @_;
	return $self->int_of($h, 0, 0, 0, 1, 2, -1, 'NULL');
}

# a message id: one that exists (read through fuzz.id, which the
# unprivileged role may call too), one that does not, or an extreme
sub id
{
	my ($self, $q, $h) = @_;
	return pick(@BIGINTS_HOSTILE) if chance($h);
	my $tab = wpick([ 6, 'q' ], [ 2, 'dl' ], [ 1, 'a' ]);
	return wpick(
		[ 6, sub { "fuzz.id($q, '$tab', " . r(5) . ')' } ],
		[ 2, sub { 1 + r(400) } ],
		[ 1, sub { 100000 + r(1000) } ]);
}

sub receipt
{
	my ($self, $q, $id, $h) = @_;
	return pick(@INTS_HOSTILE) if chance($h);
	return wpick(
		[ 4, 'NULL' ],
		[ 4, sub { "fuzz.dc($q, $id)" } ],
		[ 2, sub { "fuzz.dc($q, $id) - 1" } ],
		[ 1, sub { 1 + r(3) } ]);
}

# the 1-D arrays of a send_batch, n elements each (or a hostile shape)
sub jsonb_array
{
	my ($self, $n, $h, $headers) = @_;
	if (chance($h))
	{
		my $elem = $headers ? "'{\"h\": 1}'" : "'{\"n\": 1}'";
		return wpick(
			[ 2, 'NULL' ], [ 1, 'NULL::jsonb[]' ], [ 2, "'{}'::jsonb[]" ],
			[ 2, 'ARRAY[NULL]::jsonb[]' ], [ 2, "ARRAY[$elem, NULL]::jsonb[]" ],
			[ 2, "'{{\"{}\",\"{}\"},{\"{}\",\"{}\"}}'::jsonb[]" ],
			[ 2, "'[0:1]={\"{}\",\"[]\"}'::jsonb[]" ],
			[ 1, "'[-2147483648:-2147483647]={\"{}\",\"{}\"}'::jsonb[]" ],
			[ 1, "'[2147483646:2147483647]={\"{}\",\"{}\"}'::jsonb[]" ],
			[ 2, sub { "(SELECT array_agg(jsonb_build_object('n', g)) FROM generate_series(1, "
				  . pick($self->{max_batch}, $self->{max_batch} + 1, 100000, $n + 1, 0) . ') g)' } ],
			[ 2, sub { 'ARRAY[' . join(', ', map { $headers ? $self->headers(0.7) : $self->body_hostile } 1 .. 1 + r(3)) . ']::jsonb[]' } ],
			[ 1, "ARRAY[jsonb_build_object('s', repeat('x', 70000))]" ],
			[ 1, "'{\"not json\"}'::jsonb[]" ],
			[ 1, "ARRAY['{}']::json[]" ],
			[ 1, "ARRAY['{}']" ],
			[ 1, "ARRAY[1, 2]" ]);
	}
	return 'NULL' if $headers && chance(0.4);
	return "'{}'::jsonb[]" if $n == 0;
	return 'ARRAY[' . join(', ', map { $headers ? $self->headers(0) : $self->body_sane } 1 .. $n) . ']::jsonb[]';
}

sub text_array
{
	my ($self, $n, $h, $prefix) = @_;
	if (chance($h))
	{
		return wpick(
			[ 2, 'NULL' ], [ 2, "'{}'::text[]" ], [ 2, 'ARRAY[NULL]::text[]' ],
			[ 2, "'{{a,b},{c,d}}'::text[]" ], [ 2, "'[0:1]={a,b}'::text[]" ],
			[ 2, sub { 'ARRAY[' . join(', ', map { $self->textv(0.8, "'$prefix'") } 1 .. $n + r(2)) . ']::text[]' } ],
			[ 1, sub { "(SELECT array_agg('$prefix' || (g % 3)) FROM generate_series(1, " . pick($n + 1, 100000) . ') g)' } ],
			[ 1, "ARRAY[1, 2]" ]);
	}
	return 'NULL' if chance(0.3);
	return "'{}'::text[]" if $n == 0;
	return 'ARRAY[' . join(', ', map { chance(0.2) ? 'NULL' : lit($prefix . r(6)) } 1 .. $n) . ']::text[]';
}

sub id_array
{
	my ($self, $q, $h) = @_;
	if (chance($h))
	{
		return wpick(
			[ 2, 'NULL' ], [ 2, "'{}'::bigint[]" ], [ 2, 'ARRAY[NULL]::bigint[]' ],
			[ 2, "ARRAY[1, NULL, 2]::bigint[]" ], [ 2, "'{{1,2},{3,4}}'::bigint[]" ],
			[ 2, "'[0:2]={1,2,3}'::bigint[]" ],
			[ 1, "ARRAY[9223372036854775807, -9223372036854775808, 0, -1]" ],
			[ 1, "(SELECT array_agg(g) FROM generate_series(1, 200000) g)" ],
			[ 1, "(SELECT array_agg(g % 5) FROM generate_series(1, 5000) g)" ],
			[ 1, "ARRAY[1, 2]::int[]" ], [ 1, "ARRAY['1']" ], [ 1, "'{a}'::bigint[]" ]);
	}
	my $tab = wpick([ 6, 'q' ], [ 3, 'dl' ], [ 1, 'a' ]);
	return wpick(
		[ 5, sub { "fuzz.ids($q, '$tab', " . (1 + r(5)) . ')' } ],
		[ 1, sub { "fuzz.ids($q, '$tab', 3) || fuzz.ids($q, '$tab', 3)" } ],
		[ 2, sub { 'ARRAY[' . join(', ', map { 1 + r(300) } 1 .. 1 + r(4)) . ']::bigint[]' } ]);
}

sub role
{
	my ($self, $h, $risky) = @_;
	return lit(pick(@ROLES_RISKY)) if $risky;
	return pick('NULL', lit(pick(@ROLES_SAFE)), "repeat('r', 100)") if chance($h);
	return lit(pick('fuzz_grantee', 'fuzz_grantee', 'nonexistent_role'));
}

sub priv
{
	my ($self, $h) = @_;
	return pick('NULL', map { lit($_) } @HOSTILE_PRIVS) if chance($h);
	return lit(pick(@PRIVS));
}

# ---------------------------------------------------------------------
# Calls
# ---------------------------------------------------------------------

# args(spec...) -- an argument list from [name, value, has_default]:
# positional, named, or mixed; arguments with defaults are left out now
# and then (value undef: always left out)
sub args
{
	my ($self, @spec) = @_;
	my @keep = map { [ $_->[0], $_->[1], $_->[2] && (!defined $_->[1] || chance(0.25)) ] } @spec;
	my $style = wpick([ 4, 'pos' ], [ 4, 'named' ], [ 2, 'mixed' ]);
	if ($style eq 'pos')
	{
		# drop left-out arguments from the end; left-out ones in the
		# middle become NULL
		pop @keep while @keep && $keep[-1][2];
		return join(', ', map { $_->[2] ? 'NULL' : $_->[1] } @keep);
	}
	my $npos = $style eq 'mixed' ? r(scalar @keep) : 0;
	my @out;
	for my $i (0 .. $#keep)
	{
		my ($name, $value, $omit) = @{ $keep[$i] };
		if ($i < $npos)
		{
			push @out, $omit ? 'NULL' : $value;
		}
		elsif (!$omit)
		{
			push @out, "$name => $value";
		}
	}
	return join(', ', @out);
}

# sel(fn, args, set) -- a statement calling queue.fn in one of several forms
sub sel
{
	my ($self, $fn, $args, $set) = @_;
	my $qfn = $fn =~ /^(create|drop|alter|grant|revoke)$/ && chance(0.3) ? "queue.\"$fn\"" : "queue.$fn";
	my $call = "$qfn($args)";
	return wpick(
		[ 6, "SELECT $call" ],
		[ $set ? 4 : 0, "SELECT * FROM $call" ],
		[ $set ? 2 : 1, "SELECT count(*) FROM (SELECT $call) s" ],
		[ 1, "SELECT $call FROM generate_series(1, " . (2 + r(3)) . ')' ],
		[ 1, "WITH c AS MATERIALIZED (SELECT $call) SELECT count(*) FROM c" ]);
}

sub h { return chance(0.45) ? 0 : pick(0.15, 0.3, 0.6); }

my %GEN;

$GEN{create} = sub {
	my ($self, $h) = @_;
	my $q = chance(0.7) ? lit(pick(@{ $self->{valid} }, @{ $self->{real} })) : $self->qname($h);
	return $self->sel('create', $self->args(
		[ 'queue_name', $q ],
		[ 'visibility_timeout', $self->ival($h), 1 ],
		[ 'max_deliveries', $self->int_of($h, 0, 1, 3, 5), 1 ],
		[ 'retry_delay', $self->ival($h), 1 ],
		[ 'retry_delay_max', $self->ival($h), 1 ],
		[ 'dedup_window', $self->ival($h), 1 ],
		[ 'retention', $self->ival($h), 1 ],
		[ 'ordered', $self->boolv($h), 1 ],
		[ 'unlogged', $self->boolv($h), 1 ],
		[ 'if_not_exists', $self->boolv($h), 1 ]));
};

$GEN{alter} = sub {
	my ($self, $h) = @_;
	my $q = $self->qname($h);
	# altering the real queues keeps them sane most of the time
	my $hh = $q =~ /^'fz_[aorup]'$/ && chance(0.7) ? 0 : $h;
	return $self->sel('alter', $self->args(
		[ 'queue_name', $q ],
		[ 'visibility_timeout', $hh || chance(0.8) ? $self->ival($hh) : undef, 1 ],
		[ 'max_deliveries', chance(0.5) ? $self->int_of($hh, 0, 1, 3, 5) : undef, 1 ],
		[ 'retry_delay', chance(0.5) ? $self->ival($hh) : undef, 1 ],
		[ 'retry_delay_max', chance(0.5) ? $self->ival($hh) : undef, 1 ],
		[ 'dedup_window', chance(0.5) ? $self->ival($hh) : undef, 1 ],
		[ 'retention', chance(0.5) ? $self->ival($hh) : undef, 1 ],
		[ 'ordered', chance(0.3) ? $self->boolv($hh) : undef, 1 ],
		[ 'unlogged', chance(0.3) ? $self->boolv($hh) : undef, 1 ]));
};

$GEN{drop} = sub {
	my ($self, $h) = @_;
	my $q = chance(0.5) ? lit(pick(@{ $self->{valid} })) : $self->qname($h);
	return $self->sel('drop', $self->args([ 'queue_name', $q ], [ 'if_exists', $self->boolv($h), 1 ]));
};

$GEN{pause} = sub {
	my ($self, $h) = @_;
	return $self->sel('pause', $self->args([ 'queue_name', $self->qname($h) ]));
};

$GEN{resume} = sub {
	my ($self, $h) = @_;
	return $self->sel('resume', $self->args([ 'queue_name', $self->qname($h) ]));
};

$GEN{has_queue_privilege} = sub {
	my ($self, $h, $risky) = @_;
	return $self->sel('has_queue_privilege', $self->args(
		[ 'queue_name', $self->qname($h) ], [ 'privilege', $self->priv($h) ]));
};

$GEN{purge} = sub {
	my ($self, $h) = @_;
	return $self->sel('purge', $self->args([ 'queue_name', $self->qname($h) ]));
};

$GEN{send} = sub {
	my ($self, $h) = @_;
	my $producer = chance(0.2) ? $self->producer($h) : undef;
	my $seq = defined $producer ? $self->pseq($h) : (chance($h / 3) ? $self->pseq($h) : undef);
	return $self->sel('send', $self->args(
		[ 'queue_name', $self->qname($h) ],
		[ 'body', $self->body($h) ],
		[ 'headers', $self->headers($h), 1 ],
		[ 'delay', chance(0.3) ? $self->ival($h) : undef, 1 ],
		[ 'idempotency_key', chance(0.3) ? $self->ikey($h) : undef, 1 ],
		[ 'group_key', chance(0.4) ? $self->gkey($h) : undef, 1 ],
		[ 'priority', chance(0.3) ? $self->prio($h) : undef, 1 ],
		[ 'producer', $producer, 1 ],
		[ 'producer_seq', $seq, 1 ]));
};

$GEN{send_batch} = sub {
	my ($self, $h) = @_;
	my $n = wpick([ 1, 0 ], [ 8, sub { 1 + r(5) } ], [ 1, 20 ]);
	return $self->sel('send_batch', $self->args(
		[ 'queue_name', $self->qname($h) ],
		[ 'bodies', $self->jsonb_array($n, $h, 0) ],
		[ 'headers', chance(0.5) ? $self->jsonb_array($n, $h, 1) : undef, 1 ],
		[ 'delay', chance(0.3) ? $self->ival($h) : undef, 1 ],
		[ 'idempotency_keys', chance(0.4) ? $self->text_array($n, $h, 'bk') : undef, 1 ],
		[ 'group_keys', chance(0.4) ? $self->text_array($n, $h, 'g') : undef, 1 ],
		[ 'priority', chance(0.3) ? $self->prio($h) : undef, 1 ]), 1);
};

$GEN{read} = sub {
	my ($self, $h) = @_;
	my $wait = chance(0.2) ? (chance($h) ? pick(@INTERVALS_HOSTILE) : pick("'10 ms'", "'50 ms'", "'1 s'")) : undef;
	return $self->sel('read', $self->args(
		[ 'queue_name', $self->qname($h) ],
		[ 'quantity', $self->qty($h), 1 ],
		[ 'visibility_timeout', chance(0.6) ? $self->ival($h) : undef, 1 ],
		[ 'wait', $wait, 1 ]), 1);
};

$GEN{pop} = sub {
	my ($self, $h) = @_;
	return $self->sel('pop', $self->args([ 'queue_name', $self->qname($h) ], [ 'quantity', $self->qty($h), 1 ]), 1);
};

$GEN{ack} = sub {
	my ($self, $h) = @_;
	my $q = $self->qname($h);
	my $id = $self->id($q, $h);
	return $self->sel('ack', $self->args(
		[ 'queue_name', $q ], [ 'id', $id ],
		[ 'receipt', chance(0.6) ? $self->receipt($q, $id, $h) : undef, 1 ]));
};

$GEN{ack_ids} = sub {
	my ($self, $h) = @_;
	my $q = $self->qname($h);
	return $self->sel('ack', $self->args([ 'queue_name', $q ], [ 'ids', $self->id_array($q, $h) ]));
};

$GEN{nack} = sub {
	my ($self, $h) = @_;
	my $q = $self->qname($h);
	my $id = $self->id($q, $h);
	return $self->sel('nack', $self->args(
		[ 'queue_name', $q ], [ 'id', $id ],
		[ 'delay', chance(0.5) ? $self->ival($h) : undef, 1 ],
		[ 'reason', chance(0.5) ? $self->reason($h) : undef, 1 ],
		[ 'receipt', chance(0.4) ? $self->receipt($q, $id, $h) : undef, 1 ]));
};

$GEN{extend} = sub {
	my ($self, $h) = @_;
	my $q = $self->qname($h);
	my $id = $self->id($q, $h);
	return $self->sel('extend', $self->args(
		[ 'queue_name', $q ], [ 'id', $id ],
		[ 'visibility_timeout', chance($h) ? pick(@INTERVALS_HOSTILE) : pick(@INTERVALS_SANE) ],
		[ 'receipt', chance(0.4) ? $self->receipt($q, $id, $h) : undef, 1 ]));
};

$GEN{dead_letters} = sub {
	my ($self, $h) = @_;
	return $self->sel('dead_letters', $self->args(
		[ 'queue_name', $self->qname($h) ],
		[ 'quantity', $self->int_of($h, 1, 10, 100), 1 ]), 1);
};

$GEN{redrive} = sub {
	my ($self, $h) = @_;
	my $q = $self->qname($h);
	return $self->sel('redrive', $self->args(
		[ 'queue_name', $q ],
		[ 'quantity', chance(0.5) ? $self->int_of($h, 1, 2, 'NULL') : undef, 1 ],
		[ 'ids', chance(0.5) ? $self->id_array($q, $h) : undef, 1 ]));
};

$GEN{stats} = sub {
	my ($self, $h) = @_;
	return $self->sel('stats', chance(0.3) ? '' : $self->args([ 'queue_name', $self->qname($h) ]), 1);
};

$GEN{bind} = sub {
	my ($self, $h) = @_;
	return $self->sel('bind', $self->args([ 'topic', $self->topic($h) ], [ 'queue_name', $self->qname($h) ]));
};

$GEN{unbind} = sub {
	my ($self, $h) = @_;
	# unbinding the fuzzer's own bindings is rare: housekeep restores them
	return $self->sel('unbind', $self->args([ 'topic', $self->topic($h) ], [ 'queue_name', $self->qname($h) ]));
};

$GEN{publish} = sub {
	my ($self, $h) = @_;
	return $self->sel('publish', $self->args(
		[ 'topic', $self->topic($h) ],
		[ 'body', $self->body($h) ],
		[ 'headers', $self->headers($h), 1 ],
		[ 'delay', chance(0.3) ? $self->ival($h) : undef, 1 ],
		[ 'idempotency_key', chance(0.3) ? $self->ikey($h) : undef, 1 ],
		[ 'group_key', chance(0.3) ? $self->gkey($h) : undef, 1 ]));
};

$GEN{producer_gaps} = sub {
	my ($self, $h) = @_;
	return $self->sel('producer_gaps', $self->args([ 'queue_name', $self->qname($h) ]), 1);
};

$GEN{grant} = sub {
	my ($self, $h, $risky) = @_;
	return $self->sel('grant', $self->args(
		[ 'queue_name', $self->qname($h) ], [ 'role', $self->role($h, $risky) ],
		[ 'privilege', $self->priv($h) ]));
};

$GEN{revoke} = sub {
	my ($self, $h, $risky) = @_;
	return $self->sel('revoke', $self->args(
		[ 'queue_name', $self->qname($h) ], [ 'role', $self->role($h, $risky) ],
		[ 'privilege', $self->priv($h) ]));
};

# Direct writes to a queue's tables and the catalog, which only the
# extension's owner may make (issue 12): generated for the stranger, whose
# calls must fail with 42501 and change nothing.
my %UPDATABLE = (q => 'priority = 7', dl => "reason = 'forged'", a => 'priority = 7',
	k => 'id = 1', p => 'seq = seq + 1', registry => 'max_deliveries = 1',
	bindings => "topic = 'forged'", grants => "privilege = 'manage'");
$GEN{direct} = sub {
	my ($self, $h) = @_;
	my $q = pick(@{ $self->{real} });
	my $kind = pick(qw(q dl a k p registry bindings grants));
	my $t = $kind =~ /^(registry|bindings|grants)$/ ? $kind : "${kind}_$q";
	return pick(
		"INSERT INTO queue.$t SELECT * FROM queue.$t LIMIT 1",
		"UPDATE queue.$t SET $UPDATABLE{$kind}",
		"DELETE FROM queue.$t",
		"TRUNCATE queue.$t",
		"SELECT nextval('queue.qseq_$q')");
};

$GEN{health} = sub {
	my ($self, $h) = @_;
	return $self->sel('health', '', 1);
};

# Scenarios: valid work on the real queues, so that the interesting paths
# run (receipts, retries, dead letters, ordered groups, archive, fan-out).
$GEN{consume} = sub {
	my ($self, $h) = @_;
	my $q = lit(pick(@{ $self->{real} }));
	my $k = 1 + r(4);
	my $vt = pick('NULL', "'1 microsecond'", "'10 ms'", "'1 s'");
	return wpick(
		[ 3, "SELECT queue.ack($q, m.id, m.delivery_count) FROM queue.read($q, $k, $vt) m" ],
		[ 2, "SELECT queue.nack($q, m.id, " . pick('NULL', "'0'", "'1 ms'") . ", 'fuzz', m.delivery_count) FROM queue.read($q, $k, $vt) m" ],
		[ 1, "SELECT queue.extend($q, m.id, " . pick("'0'", "'1 ms'", "'1 s'") . ", m.delivery_count) FROM queue.read($q, $k) m" ],
		[ 1, "SELECT queue.ack($q, array_agg(m.id)) FROM queue.read($q, $k, $vt) m" ],
		[ 1, "SELECT queue.ack($q, m.id, m.delivery_count + 1) FROM queue.read($q, $k) m" ],
		[ 1, "SELECT queue.nack($q, m.id) FROM queue.read($q, $k, $vt) m" ],
		[ 1, "SELECT m.id, queue.ack($q, m.id), queue.ack($q, m.id) FROM queue.read($q, $k) m" ],
		[ 1, "SELECT queue.nack($q, m.id), queue.ack($q, m.id) FROM queue.read($q, $k) m" ],
		[ 1, "SELECT queue.redrive($q, ids => array_agg(d.id)) FROM queue.dead_letters($q, 5) d" ],
		[ 1, "SELECT count(*) FROM queue.pop($q, $k)" ],
		[ 1, "SELECT * FROM queue.read($q, $k, $vt)" ]);
};

$GEN{produce} = sub {
	my ($self, $h) = @_;
	my $q = lit(pick(@{ $self->{real} }));
	my $g = lit('g' . r(3));
	return wpick(
		[ 3, "SELECT queue.send($q, jsonb_build_object('i', g), group_key => 'g' || (g % 3), priority => g % 3 - 1) FROM generate_series(1, " . (1 + r(5)) . ') g' ],
		[ 2, "SELECT * FROM queue.send_batch($q, ARRAY['{\"a\":1}', '{\"a\":2}', '{\"a\":3}']::jsonb[], idempotency_keys => ARRAY['bk1', 'bk1', NULL], group_keys => ARRAY[$g, $g, NULL])" ],
		[ 2, "SELECT queue.send($q, '{}', producer => 'p" . r(3) . "', producer_seq => " . (1 + r(30)) . ')' ],
		[ 1, "SELECT queue.send($q, '{}', idempotency_key => 'key" . r(10) . "', producer => 'p1', producer_seq => " . (1 + r(30)) . ')' ],
		[ 2, "SELECT queue.publish('$self->{p}_t', '{\"t\": 1}', idempotency_key => 'pk" . r(5) . "', group_key => $g)" ],
		[ 1, "SELECT * FROM queue.producer_gaps($q)" ],
		[ 1, "SELECT queue.send($q, '{}', delay => " . pick("'10 ms'", "'1 s'") . ')' ]);
};

# Several calls on one name in one statement: the plan and option caches
# see the queue change under them.
$GEN{mix} = sub {
	my ($self, $h) = @_;
	my $q = lit(pick(@{ $self->{mixnames} }));
	my $t = "'$self->{p}_t3'";
	my @steps = (
		"queue.create($q, if_not_exists => true)", "queue.drop($q, true)",
		"queue.send($q, '{}')", "(SELECT count(*) FROM queue.read($q, 3))",
		"queue.purge($q)", "queue.alter($q, ordered => " . pick('true', 'false') . ')',
		"queue.alter($q, retention => " . pick("'1 s'", "'0'") . ')',
		"queue.alter($q, unlogged => " . pick('true', 'false') . ')',
		"queue.send($q, '{}', idempotency_key => 'mk', producer => 'mp', producer_seq => 1)",
		"(SELECT count(*) FROM queue.pop($q, 2))", "queue.ack($q, fuzz.id($q, 'q', 0))",
		"queue.bind($t, $q)", "queue.publish($t, '{}')",
		"(SELECT count(*) FROM queue.send_batch($q, ARRAY['{}', '{}']::jsonb[]))",
		"queue.redrive($q)", "(SELECT count(*) FROM queue.stats($q, exact => true))");
	return 'SELECT ' . join(', ', map { pick(@steps) } 1 .. 2 + r(4));
};

# SET of the extension's settings (superuser only; the others get 42501)
$GEN{guc} = sub {
	my ($self, $h) = @_;
	return wpick(
		[ 2, "SET queue.max_batch = " . pick(1, 2, 50, 1000000, 0, -1, "'x'") ],
		[ 2, "SET queue.max_message_size = " . pick("'1'", "'100'", "'64kB'", "'1GB'", "'0'", '-1') ],
		[ 2, "SET queue.max_wait = " . pick("'0'", "'1ms'", "'50ms'", "'1h'", "'-1'") ],
		[ 1, "SET LOCAL queue.max_batch = " . pick(1, 3) ],
		[ 1, "SET queue.worker_interval = '10ms'" ],
		[ 2, 'RESET queue.max_batch' ], [ 2, 'RESET queue.max_message_size' ],
		[ 1, 'RESET queue.max_wait' ]);
};

# generic calls of functions the generator has no recipe for (those that
# appear later, and the internal ones for the unprivileged role), from
# their argument types
sub generic_value
{
	my ($self, $type, $h) = @_;
	$h = 0.5 if $h < 0.3;
	my %by = (
		'text'       => sub { wpick([ 2, sub { $self->qname($h) } ], [ 1, sub { $self->reason($h) } ]) },
		'name'       => sub { $self->role($h) },
		'interval'   => sub { $self->ival($h) },
		'integer'    => sub { $self->int_of($h, 1, 2, 5) },
		'bigint'     => sub { pick(@BIGINTS_HOSTILE, 1, 2) },
		'oid'        => sub { pick("'queue.q_$self->{p}_a'::regclass::oid", "(SELECT oid FROM pg_class WHERE relname = 'q_$self->{p}_a')", '0', '1', "'4294967295'::oid", 'NULL', "'pg_class'::regclass::oid") },
		'regclass'   => sub { pick("'queue.q_$self->{p}_a'", "'pg_class'", "'pg_authid'", 'NULL', "'queue.registry'") },
		'regrole'    => sub { pick("'fuzz_stranger'", "'postgres'", 'NULL') },
		'boolean'    => sub { $self->boolv($h) },
		'jsonb'      => sub { $self->body($h) },
		'jsonb[]'    => sub { $self->jsonb_array(2, $h, 0) },
		'text[]'     => sub { $self->text_array(2, $h, 'x') },
		'bigint[]'   => sub { $self->id_array("'$self->{p}_a'", $h) },
		'timestamp with time zone' => sub { pick('now()', "'infinity'", 'NULL') },
	);
	my $g = $by{$type};
	return $g ? $g->() : 'NULL';
}

sub generic_call
{
	my ($self, $fn, $h) = @_;
	my $sigs = $self->{functions}{$fn};
	my $types = $sigs->[ r(scalar @$sigs) ];
	my @a = map { $self->generic_value($_, $h) } @$types;
	# the first ones only now and then: defaults
	pop @a while @a > 1 && chance(0.15);
	return "SELECT * FROM queue.\"$fn\"(" . join(', ', @a) . ')';
}

# ---------------------------------------------------------------------
# Choosing a call
# ---------------------------------------------------------------------

our @PUBLIC = qw(create alter drop purge send send_batch read pop ack nack
  extend dead_letters redrive stats bind unbind publish producer_gaps grant
  revoke health pause resume has_queue_privilege);

# fn (the function the statement is counted under) and its SQL
sub next_call
{
	my ($self, %o) = @_;
	my $h = h();
	my $have = $self->{functions};
	my @choices = (
		[ 3, 'create' ], [ 3, 'alter' ], [ 2, 'drop' ], [ 2, 'purge' ],
		[ 10, 'send' ], [ 6, 'send_batch' ], [ 7, 'read' ], [ 3, 'pop' ],
		[ 5, 'ack' ], [ 3, 'ack_ids' ], [ 4, 'nack' ], [ 3, 'extend' ],
		[ 2, 'dead_letters' ], [ 3, 'redrive' ], [ 2, 'stats' ], [ 2, 'bind' ],
		[ 1, 'unbind' ], [ 3, 'publish' ], [ 2, 'producer_gaps' ],
		[ 3, 'grant' ], [ 2, 'revoke' ], [ 1, 'health' ],
		[ 1, 'pause' ], [ 2, 'resume' ], [ 1, 'has_queue_privilege' ],
		[ 10, 'consume' ], [ 8, 'produce' ], [ 3, 'mix' ], [ 2, 'guc' ],
		[ 2, 'generic' ], [ $self->super ? 0 : 4, 'direct' ]);
	for (;;)
	{
		my $what = wpick(@choices);
		if ($what eq 'generic')
		{
			# functions with no recipe; internal ones only as the stranger
			my @fns = sort grep {
				my $f = $_;
				!grep { $_ eq $f } @PUBLIC
				  and ($f !~ /^_/ or !$self->super)
			} keys %$have;
			next unless @fns;
			my $fn = pick(@fns);
			return ($fn =~ /^_/ ? 'internal' : $fn, $self->generic_call($fn, $h));
		}
		my $fn = $what eq 'ack_ids' ? 'ack' : $what;
		next if grep { $_ eq $fn } @PUBLIC and !$have->{$fn};
		next if $what eq 'guc' && !$self->super && chance(0.7);
		my $sql = $GEN{$what}->($self, $h, $o{risky});
		return ($what, $sql);
	}
}

# ---------------------------------------------------------------------
# Scripts
# ---------------------------------------------------------------------

sub dq
{
	my ($self, $sql) = @_;
	my $t = '$' . $self->{tag} . '$';
	die "tag in statement" if index($sql, $t) >= 0;
	return "$t$sql$t";
}

# emit_call(fn, sql, role, must_not_change, via_try) -- the psql lines of
# one fuzzed call and its checks; records it in $self->{calls}
sub emit_call
{
	my ($self, $fn, $sql, %o) = @_;
	my $n = ++$self->{n};
	$self->{calls}{$n} = { fn => $fn, sql => $sql, role => $self->{role}, chunk => $self->{chunk},
		ro => $self->{in_ro}, try => $o{try} };
	my $check = <<"EOC";
SELECT fuzz.check(:'fz_fp', $n) AS fz_ck \\gset
\\if :ERROR
\\echo \@\@F $n :LAST_ERROR_MESSAGE
\\else
\\echo \@\@K $n :fz_ck
\\endif
EOC
	if ($self->{nocheck})
	{
		# noise sessions: no fingerprints (other sessions change the queues)
		return "\\echo \@\@C $n\n"
		  . ($o{try}
			? 'SELECT fuzz.try(' . $self->dq($sql) . ") AS fz_st \\gset\n"
			  . "\\if :ERROR\n\\echo \@\@E $n :SQLSTATE :LAST_ERROR_MESSAGE\n\\else\n"
			  . "SELECT :'fz_st' <> '00000' AS fz_err \\gset\n"
			  . "\\if :fz_err\n\\echo \@\@T $n :fz_st\n\\endif\n\\endif\n"
			: "$sql;\n\\if :ERROR\n\\echo \@\@E $n :SQLSTATE :LAST_ERROR_MESSAGE\n\\endif\n");
	}
	my $s = "\\echo \@\@C $n\nSELECT fuzz.fp() AS fz_fp \\gset\n"
	  . "\\if :ERROR\n\\echo \@\@X $n :LAST_ERROR_MESSAGE\n\\endif\n";
	if ($o{try})
	{
		$s .= 'SELECT fuzz.try(' . $self->dq($sql) . ") AS fz_st \\gset\n"
		  . "\\if :ERROR\n\\echo \@\@E $n :SQLSTATE :LAST_ERROR_MESSAGE\n\\set fz_st 'ERROR'\n\\endif\n"
		  . "SELECT :'fz_st' <> '00000' AS fz_err \\gset\n"
		  . "\\if :fz_err\n\\echo \@\@T $n :fz_st\n"
		  . ($o{must_not_change} ? "\\endif\n$check" : "$check\\endif\n");
	}
	else
	{
		$s .= "$sql;\n\\if :ERROR\n\\echo \@\@E $n :SQLSTATE :LAST_ERROR_MESSAGE\n"
		  . ($o{must_not_change} ? "\\endif\n$check" : "$check\\endif\n");
	}
	return $s;
}

# a statement that is not fuzzed but whose errors are still counted
sub emit_plain
{
	my ($self, $fn, $sql) = @_;
	my $n = ++$self->{n};
	$self->{calls}{$n} = { fn => $fn, sql => $sql, role => $self->{role}, chunk => $self->{chunk}, plain => 1 };
	return "\\echo \@\@C $n\n$sql;\n\\if :ERROR\n\\echo \@\@E $n :SQLSTATE :LAST_ERROR_MESSAGE\n\\endif\n";
}

sub emit_fuzz
{
	my ($self, %o) = @_;
	my ($fn, $sql) = $self->next_call(risky => $o{risky});
	my $mnc = $o{must_not_change} || !$self->super;
	# SET is a psql-side affair for fuzz.try; transaction-local ones too
	my $try = $sql !~ /^(SET|RESET)/ && chance(0.25);
	return $self->emit_call($fn, $sql, must_not_change => $mnc, try => $try);
}

# a transaction block: BEGIN, calls with savepoints, and an end
sub emit_block
{
	my ($self) = @_;
	my $kind = wpick([ 5, 'normal' ], [ 1, 'readonly' ], [ 1, 'rr' ],
		[ $self->super && $self->{functions}{grant} ? 1 : 0, 'risky' ]);
	my $s = '';
	my $begin = { normal => 'BEGIN', readonly => 'BEGIN READ ONLY',
		rr => pick('BEGIN ISOLATION LEVEL REPEATABLE READ', 'BEGIN ISOLATION LEVEL SERIALIZABLE'),
		risky => 'BEGIN' }->{$kind};
	$s .= $self->emit_plain('txn', $begin);
	$self->{in_ro} = $kind eq 'readonly';
	my @savepoints;
	my $nsp = 0;
	for (1 .. 2 + r(7))
	{
		my $x = r(10);
		if ($x == 0)
		{
			push @savepoints, 'sp' . ++$nsp;
			$s .= $self->emit_plain('txn', "SAVEPOINT $savepoints[-1]");
		}
		elsif ($x == 1 && @savepoints)
		{
			$s .= $self->emit_plain('txn', 'ROLLBACK TO SAVEPOINT ' . pick(@savepoints));
		}
		elsif ($x == 2 && @savepoints)
		{
			my $i = r(scalar @savepoints);
			$s .= $self->emit_plain('txn', "RELEASE SAVEPOINT $savepoints[$i]");
			splice(@savepoints, $i);
		}
		$s .= $self->emit_fuzz(must_not_change => $kind eq 'readonly', risky => $kind eq 'risky' && chance(0.5));
	}
	$self->{in_ro} = 0;
	if ($kind eq 'risky')
	{
		$s .= $self->emit_plain('txn', 'ROLLBACK');
		return $s;
	}
	my $end = wpick([ 6, 'COMMIT' ], [ 3, 'ROLLBACK' ], [ 1, 'PREPARE' ]);
	if ($end eq 'PREPARE')
	{
		my $gid = "$self->{tag}_c$self->{chunk}_$self->{n}";
		$s .= $self->emit_plain('txn', "PREPARE TRANSACTION '$gid'");
		$s .= $self->emit_plain('txn', pick('COMMIT', 'ROLLBACK') . " PREPARED '$gid'");
	}
	else
	{
		$s .= $self->emit_plain('txn', $end);
	}
	return $s;
}

# the script of one chunk; kind: super, stranger (its own connection) or
# setrole (a superuser session that becomes the stranger half way)
sub chunk
{
	my ($self, $kind, $ncalls, $chunkno) = @_;
	$self->{chunk} = $chunkno;
	my $noise = $kind =~ /^noise/;
	$self->{role} = $kind eq 'stranger' ? 'stranger' : $noise ? 'noise' : 'super';
	$self->{nocheck} = $noise;
	my $inv = $noise ? '' : "SELECT coalesce(fuzz.invariants(), 'ok') AS fz_inv \\gset\n\\echo \@\@V 0 :fz_inv\n";
	# the noise sessions wait for one another's locks now and then (a long
	# poll in a transaction that holds row locks): not for long
	my $s = "\\set ON_ERROR_STOP 0\n\\set ON_ERROR_ROLLBACK on\n\\o /dev/null\n"
	  . "SET statement_timeout = '" . ($noise ? '5s' : '30s') . "';\n";
	if ($kind ne 'stranger')
	{
		$self->{max_batch} = pick(50, 50, 50, 5, 1000);
		$s .= "SET queue.max_message_size = '64kB';\nSET queue.max_batch = $self->{max_batch};\n"
		  . "SET queue.max_wait = '" . pick(0, 1, 50, 200) . "ms';\n";
		# one session of each generator cleans up: prepared transactions
		# left over by earlier chunks, and the queues
		if ($kind ne 'noise2')
		{
			$s .= "SELECT format('ROLLBACK PREPARED %L', gid) FROM pg_prepared_xacts "
			  . "WHERE database = current_database() AND gid LIKE '$self->{tag}\\_%' "
			  . "AND gid NOT LIKE '$self->{tag}\\_c${chunkno}\\_%' \\gexec\n"
			  . "SELECT fuzz.housekeep('$self->{p}') AS fz_hk \\gset\n"
			  . "\\if :ERROR\n\\echo \@\@H 0 :SQLSTATE :LAST_ERROR_MESSAGE\n\\else\n\\echo \@\@N 0 :fz_hk\n\\endif\n"
			  . $inv;
		}
	}
	else
	{
		$self->{max_batch} = 1000;
	}
	my $switch = $kind eq 'setrole' ? int($ncalls / 3) : -1;
	my $how;
	my $i = 0;
	while ($i < $ncalls)
	{
		if ($switch >= 0 && $i >= $switch && !$how)
		{
			$how = pick('ROLE', 'SESSION AUTHORIZATION');
			$s .= $self->emit_plain('txn', "SET $how fuzz_stranger");
			$self->{role} = 'stranger';
		}
		if (chance(0.1))
		{
			$s .= $self->emit_block;
			$i += 4;
		}
		else
		{
			$s .= $self->emit_fuzz;
			$i++;
		}
	}
	if ($kind eq 'setrole')
	{
		$s .= "RESET $how;\n";
		$self->{role} = 'super';
	}
	$s .= $inv if $kind ne 'stranger';
	$s .= "\\echo \@\@DONE 0\n";
	return $s;
}

# ---------------------------------------------------------------------
# Judging
# ---------------------------------------------------------------------

# SQLSTATEs that bad input may get, from the unprivileged role too
sub input_error
{
	my ($st) = @_;
	return $st =~ /^(22...|42501|42704|42710|428..|42725|42P18|42P02|54...|0A000|55000|55P02|25...|57014|3B001|2BP01|53200|40P01|40001)$/;
}

# hard failures whatever the role
sub fatal_sqlstate
{
	my ($st) = @_;
	return $st =~ /^(XX...|58...|42601)$/;
}

# ---------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------

sub slurp
{
	my ($path) = @_;
	open(my $fh, '<:raw', $path) or return '';
	local $/;
	my $s = <$fh>;
	close $fh;
	return $s;
}

sub spew
{
	my ($path, $text) = @_;
	open(my $fh, '>:encoding(UTF-8)', $path) or die "could not write $path: $!";
	print $fh $text;
	close $fh;
}

sub psql_cmd
{
	my ($o, $user, @rest) = @_;
	return [ $o->{psql}, '-X', '-q', '-h', $o->{host}, '-p', $o->{port}, '-U', $user, '-d', $o->{dbname}, @rest ];
}

# psql -c, dies on failure; returns stdout
sub psql_ok
{
	my ($o, $sql) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run(psql_cmd($o, $o->{superuser}, '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', $sql),
		'>', \$out, '2>', \$err)
	  or die "psql failed: $sql\n$err";
	chomp $out;
	return $out;
}

# the functions of the schema queue, with their argument types
sub functions
{
	my ($o) = @_;
	my %f;
	for my $line (split /\n/, psql_ok($o, q{
		SELECT p.proname || '|' || coalesce(string_agg(format_type(t.typ, NULL), ',' ORDER BY t.ord), '')
		  FROM pg_proc p
		  LEFT JOIN LATERAL unnest(p.proargtypes::oid[]) WITH ORDINALITY AS t(typ, ord) ON true
		 WHERE p.pronamespace = 'queue'::regnamespace AND p.prokind = 'f'
		 GROUP BY p.oid, p.proname ORDER BY 1}))
	{
		my ($name, $types) = split /\|/, $line, 2;
		push @{ $f{$name} }, [ grep { length } split /,/, ($types // '') ];
	}
	return \%f;
}

# run(%options): fuzz for $o{seconds}; returns the result (see report)
#
# Each round runs one chunk of the main session (kind super, stranger or
# setrole, fingerprints checked) and, at the same time, $o{noise} noise
# sessions (superuser, on queues of their own, fzc_*, no fingerprints:
# crashes, SQLSTATEs and invariants only) that race one another.
sub run
{
	my (%o) = @_;
	$o{psql}      //= 'psql';
	$o{dbname}    //= 'postgres';
	$o{stranger}  //= 'fuzz_stranger';
	$o{chunk_calls} //= 100;
	$o{noise}     //= 2;
	$o{noise_calls} //= 150;
	$o{chunk_timeout} //= 300;
	$o{log} //= sub { print STDERR "$_[0]\n" };
	make_path($o{outdir});

	my $setup = slurp("$o{fuzzdir}/setup.sql");
	if (psql_ok(\%o, "SELECT count(*) FROM pg_namespace WHERE nspname = 'fuzz'") eq '0')
	{
		psql_ok(\%o, $setup);
		psql_ok(\%o, q{
			DO $$ BEGIN
				IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fuzz_stranger') THEN
					CREATE ROLE fuzz_stranger LOGIN;
				END IF;
				IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fuzz_grantee') THEN
					CREATE ROLE fuzz_grantee;
				END IF;
			END $$});
	}
	psql_ok(\%o, "SELECT fuzz.housekeep('fz'), fuzz.housekeep('fzc')");
	my $functions = functions(\%o);
	my $gen = QueueFuzz->new(seed => $o{seed}, functions => $functions);
	my $ngen = QueueFuzz->new(seed => $o{seed}, functions => $functions, prefix => 'fzc',
		no_srand => 1, first_call => 100_000_000);
	my $call = sub { my ($n) = @_; return $n >= 100_000_000 ? $ngen->{calls}{$n} : $gen->{calls}{$n}; };

	my %res = (
		seed => $o{seed}, calls => 0, chunks => 0, by_fn => {}, by_state => {},
		examples => {}, failures => [], findings => {}, inconclusive => 0,
		functions => [ sort keys %$functions ], fp_errors => 0, nfailures => 0,
	);
	my %failed_chunk;
	my $chunkno = 0;
	# failures of one kind (signature) are reported once, and counted
	my $fail = sub {
		my ($what, $n, $detail) = @_;
		my $c = defined $n ? $call->($n) : undef;
		my $msg = $what;
		my $sig = $what;
		if ($c)
		{
			$msg .= " (call $n, chunk $c->{chunk}, as $c->{role}, $c->{fn}"
			  . ($c->{ro} ? ', in a READ ONLY transaction' : '')
			  . ($c->{try} ? ', in fuzz.try' : '') . ")\n  statement: $c->{sql}";
			if ($what =~ /changed the state/)
			{
				my @tabs = $what =~ /(?:^|, |: )(q|dl|a|k|p|reg|bind|tot)_?[a-z0-9_]*:/g;
				my %u = map { $_ => 1 } @tabs;
				$sig = 'state changed by '
				  . ($c->{ro} ? 'a call in a READ ONLY transaction'
					: $c->{role} eq 'stranger' ? 'a call of the unprivileged role' : 'a failed call')
				  . " ($c->{fn}: " . join(',', sort keys %u) . ')';
			}
			elsif ($what =~ /^(SQLSTATE \S+|the unprivileged role got SQLSTATE \S+)/)
			{
				$sig = "$1 in $c->{fn}";
			}
		}
		$sig =~ s/\d+/N/g;
		$sig = substr($sig, 0, 120);
		$msg .= "\n  $detail" if defined $detail && length $detail;
		$failed_chunk{$chunkno} = 1;
		$res{nfailures}++;
		if (!$res{failure_count}{$sig}++)
		{
			push @{ $res{failures} }, $msg;
			$res{failure_sig}{$msg} = $sig;
			$o{log}->("FAILURE: $msg");
		}
	};

	# the output of one psql session
	my $judge = sub {
		my ($label, $out, $err, $ok, $rc) = @_;
		my $last;
		my $done = 0;
		my @seen;
		for my $line (split /\n/, $out)
		{
			next unless $line =~ /^\@\@(\w+)\s*(\d*)\s*(.*)$/;
			my ($tag, $n, $rest) = ($1, $2, $3);
			if ($tag eq 'C')
			{
				$last = $n;
				my $c = $call->($n);
				push @seen, $c;
				$res{calls}++;
				$res{by_fn}{"$c->{role}:$c->{fn}"}++;
			}
			elsif ($tag eq 'E' || $tag eq 'T')
			{
				my ($st, $msg) = split / /, $rest, 2;
				$msg //= '';
				my $c = $call->($n);
				$c->{errored} = 1;
				# fuzz.try itself failed: counted with its @@E already
				next if $tag eq 'T' && $st eq 'ERROR';
				my $key = "$c->{role}:$st";
				$res{by_state}{$key}++;
				$res{examples}{$key} //= "$c->{fn}: $msg";
				if (fatal_sqlstate($st))
				{
					$fail->("SQLSTATE $st: $msg", $n);
				}
				elsif ($c->{role} eq 'stranger' && !$c->{plain} && $c->{fn} ne 'internal' && !input_error($st)
					   # a direct write to the table of a queue dropped meanwhile
					   && !($c->{fn} eq 'direct' && $st eq '42P01'))
				{
					$fail->("the unprivileged role got SQLSTATE $st (not 42501 or an input error): $msg", $n);
				}
				elsif ($st =~ /^(42P01|42P07|42809|42703|42702|42P10|23...|40P01|55006|2F...|39...|P0001|P0002|P0003|P0004|42P13|0LP01|428C9|42P17|55P03)$/)
				{
					my $key = "$st $msg";
					push @{ $res{findings}{$key} }, $n;
					$res{finding_sql}{$key} //= "$c->{role}: $c->{sql}";
				}
			}
			elsif ($tag eq 'F')
			{
				$fail->("an errored or unprivileged call changed the state: $rest", $n);
			}
			elsif ($tag eq 'K')
			{
				$res{inconclusive}++ if $rest eq 'inconclusive';
			}
			elsif ($tag eq 'X')
			{
				$res{fp_errors}++;
				push @{ $res{findings}{"fingerprint failed: $rest"} }, $n;
			}
			elsif ($tag eq 'H')
			{
				$fail->("housekeeping failed in $label: $rest", undef);
			}
			elsif ($tag eq 'N')
			{
				push @{ $res{findings}{"housekeeping: $_"} }, 0 for grep { /failed/ } split /, (?=create |dropped |cleanup |drop |purged |redrove |bind )/, $rest;
			}
			elsif ($tag eq 'V')
			{
				$fail->("invariant broken: $rest", $last) unless $rest eq 'ok';
			}
			elsif ($tag eq 'DONE')
			{
				$done = 1;
			}
		}
		# internal functions the unprivileged role could run (a finding:
		# which of them PUBLIC may execute is the hardening's business)
		for my $c (grep { $_->{fn} eq 'internal' && !$_->{errored} } @seen)
		{
			my ($f) = $c->{sql} =~ /queue\."?(\w+)/;
			push @{ $res{findings}{"the unprivileged role ran queue.$f without an error"} }, 0;
			$res{finding_sql}{"the unprivileged role ran queue.$f without an error"} //= $c->{sql};
		}
		if (!$ok)
		{
			$fail->("$label did not finish within $o{chunk_timeout} s (hang?)", $last);
		}
		elsif (!$done || ($rc >> 8) != 0 || $err =~ /connection to server was lost|server closed the connection unexpectedly|could not connect/)
		{
			$fail->("psql lost its connection or failed (exit status " . ($rc >> 8) . ") in $label",
				$last, join("\n  ", grep { /connection|terminat|FATAL|PANIC/ } split /\n/, $err));
		}
		return $last;
	};

	my $logpos = -s $o{logfile} // 0;
	my $start = time;
	while (time - $start < $o{seconds})
	{
		$chunkno++;
		# the second and third chunks are the unprivileged role's, so that
		# even a short run has some
		my $kind = wpick([ 14, 'super' ], [ 3, 'stranger' ], [ 3, 'setrole' ]);
		$kind = 'stranger' if $chunkno == 2;
		$kind = 'setrole' if $chunkno == 3;
		my $base = sprintf('%s/chunk_%04d', $o{outdir}, $chunkno);
		spew("$base.sql", $gen->chunk($kind, $o{chunk_calls}, $chunkno));
		my @noise;
		for my $i (1 .. $o{noise})
		{
			my $file = "$base.noise$i.sql";
			spew($file, $ngen->chunk($i == 1 ? 'noise' : 'noise2', $o{noise_calls}, $chunkno));
			my $ns = { file => $file, out => '', err => '', label => "chunk $chunkno noise session $i" };
			$ns->{h} = IPC::Run::start(psql_cmd(\%o, $o{superuser}, '-f', $file),
				'>', \$ns->{out}, '2>', \$ns->{err}, IPC::Run::timeout($o{chunk_timeout}));
			push @noise, $ns;
		}

		my $user = $kind eq 'stranger' ? $o{stranger} : $o{superuser};
		my ($out, $err) = ('', '');
		my $ok = eval {
			IPC::Run::run(psql_cmd(\%o, $user, '-f', "$base.sql"), '>', \$out, '2>', \$err,
				IPC::Run::timeout($o{chunk_timeout}));
			1;
		};
		my $rc = $?;
		my @outs = ([ "chunk $chunkno ($kind)", "$base.out", $out, $err, $ok, $rc ]);
		for my $ns (@noise)
		{
			my $nok = eval { $ns->{h}->finish; 1 };
			if (!$nok)
			{
				eval { $ns->{h}->kill_kill; };
			}
			push @outs, [ $ns->{label}, $ns->{file} =~ s/\.sql$/.out/r, $ns->{out}, $ns->{err}, $nok,
				$nok ? $ns->{h}->full_result(0) : -1 ];
		}
		$res{chunks}++;

		my $last;
		for my $x (@outs)
		{
			my ($label, $outfile, $o_out, $o_err, $o_ok, $o_rc) = @$x;
			utf8::decode($o_out);
			utf8::decode($o_err);
			spew($outfile, $o_out . "\n---- stderr ----\n" . $o_err);
			my $l = $judge->($label, $o_out, $o_err, $o_ok, $o_rc // 0);
			$last //= $l;
		}

		# the noise sessions' queues too, now that nobody writes to them
		my ($iout, $ierr) = ('', '');
		IPC::Run::run(psql_cmd(\%o, $o{superuser}, '-A', '-t', '-c', 'SELECT fuzz.invariants(true)'),
			'>', \$iout, '2>', \$ierr);
		chomp $iout;
		utf8::decode($iout);
		$fail->("invariant broken after chunk $chunkno: $iout", undef) if length $iout;

		# the server log: crashes, assertion failures, worker deaths
		my $log = slurp($o{logfile});
		my $new = length($log) > $logpos ? substr($log, $logpos) : '';
		$logpos = length($log);
		utf8::decode($new);
		my @crash = grep {
			/terminated by signal|was terminated by exception|PANIC:|TRAP:|exited with exit code [1-9]|server process .* was terminated|terminating any other active server processes|all server processes terminated/
		} split /\n/, $new;
		if (@crash)
		{
			my @running = $new =~ /Failed process was running: (.*)/g;
			$fail->("server log of chunk $chunkno:\n  " . join("\n  ", @crash)
				  . join('', map { "\n  the process was running: $_" } @running), undef);
			# the server restarts after a crash; give it time
			sleep 5;
		}
		# the worker: a step that fails again and again leaves every queue
		# of the database without dead-lettering, retention and wake-ups
		my %werr;
		for my $l (split /\n/, $new)
		{
			$werr{$1}++ if $l =~ /queue worker: step failed: (.*)/;
			# since one queue's failure warns and no longer stops the step
			$werr{"on queue $1: $2"}++ if $l =~ /worker step on queue "([^"]*)" failed: (.*)/;
		}
		for my $m (sort keys %werr)
		{
			push @{ $res{findings}{"worker step failed: $m"} }, ($last // 0) for 1 .. $werr{$m};
			if ($werr{$m} >= 5 && $m !~ /lock timeout|deadlock|could not obtain lock|canceling statement/)
			{
				$fail->("the background worker failed $werr{$m} steps during chunk $chunkno with: $m", undef);
			}
		}
		last if $res{nfailures} >= 500;
		last if $o{stop_on_failure} && @{ $res{failures} };
		# keep the scripts and outputs of failing chunks only, and the last few
		my $oldno = $chunkno - 3;
		if (!$failed_chunk{$oldno})
		{
			unlink glob(sprintf('%s/chunk_%04d.*', $o{outdir}, $oldno));
		}
	}
	$res{elapsed} = time - $start;
	return \%res;
}

sub report
{
	my ($res) = @_;
	my $s = sprintf("queue fuzz: seed %s, %.0f s, %d chunks, %d statements, %d inconclusive fingerprints\n",
		$res->{seed}, $res->{elapsed}, $res->{chunks}, $res->{calls}, $res->{inconclusive});
	$s .= "functions found: @{ $res->{functions} }\n";
	$s .= "statements per function (role:function):\n";
	for my $k (sort { $res->{by_fn}{$b} <=> $res->{by_fn}{$a} || $a cmp $b } keys %{ $res->{by_fn} })
	{
		$s .= sprintf("  %-28s %7d\n", $k, $res->{by_fn}{$k});
	}
	$s .= "errors by SQLSTATE (role:SQLSTATE, count, first example):\n";
	for my $k (sort keys %{ $res->{by_state} })
	{
		my $ex = $res->{examples}{$k};
		$ex = substr($ex, 0, 150) . '...' if length($ex) > 150;
		$s .= sprintf("  %-16s %7d  %s\n", $k, $res->{by_state}{$k}, $ex);
	}
	if (%{ $res->{findings} })
	{
		$s .= "findings (unexpected but not fatal):\n";
		for my $k (sort keys %{ $res->{findings} })
		{
			my @n = @{ $res->{findings}{$k} };
			$s .= sprintf("  %s  [%d times, first call %s]\n", $k, scalar @n, $n[0]);
			$s .= "    first statement: $res->{finding_sql}{$k}\n" if $res->{finding_sql}{$k};
		}
	}
	if (@{ $res->{failures} })
	{
		$s .= sprintf("FAILURES: %d, of %d kinds (the first of each kind):\n",
			$res->{nfailures}, scalar @{ $res->{failures} });
		for my $f (@{ $res->{failures} })
		{
			my $sig = $res->{failure_sig}{$f};
			$s .= sprintf("- [%d x] %s\n", $res->{failure_count}{$sig}, $f);
		}
	}
	else
	{
		$s .= "no failures\n";
	}
	return $s;
}

1;
