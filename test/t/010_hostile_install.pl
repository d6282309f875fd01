# The install script and the functions against objects a hostile role
# planted first (RELIABILITY.md, security checklist 3 and 4):
#  - CREATE EXTENSION refuses a schema "queue" that another role made, or
#    one that already holds anything;
#  - operators and functions planted in public, found first through the
#    caller's search_path, are never called by the install script or by
#    any function of the extension.
#
# Copyright (c) 2026, the queue authors
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('hostile');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'queue'
queue.worker_enabled = off
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE ROLE mallory LOGIN;
	CREATE DATABASE d1;
	CREATE DATABASE d2;
	CREATE DATABASE d3;
	GRANT CREATE ON DATABASE d1 TO mallory;
});

# 1. a schema made by another role
$node->safe_psql('d1', 'SET ROLE mallory; CREATE SCHEMA queue;');
my ($ret, $stdout, $stderr) = $node->psql('d1', 'CREATE EXTENSION queue');
isnt($ret, 0, 'CREATE EXTENSION fails on a schema queue owned by another role');
like($stderr, qr/schema "queue" belongs to another role/, 'and says why');
is($node->safe_psql('d1', q{SELECT count(*) FROM pg_extension WHERE extname = 'queue'}), '0',
	'nothing installed');

# 2. the right owner, but something in it already
$node->safe_psql('d2', q{
	CREATE SCHEMA queue;
	CREATE FUNCTION queue.send(text, jsonb) RETURNS bigint LANGUAGE sql AS 'SELECT 0::bigint';
});
($ret, $stdout, $stderr) = $node->psql('d2', 'CREATE EXTENSION queue');
isnt($ret, 0, 'CREATE EXTENSION fails on a schema queue that is not empty');
like($stderr, qr/schema "queue" is not empty/, 'and says why');

# an empty schema of the right owner is fine
$node->safe_psql('d2', 'DROP FUNCTION queue.send(text, jsonb)');
($ret, $stdout, $stderr) = $node->psql('d2', 'CREATE EXTENSION queue');
is($ret, 0, 'an empty schema queue of the installing role is used');

# 3. traps in public, ahead of pg_catalog on the caller's search_path
$node->safe_psql('d3', q{
	CREATE TABLE public.sprung (what text);
	GRANT INSERT ON public.sprung TO PUBLIC;
	CREATE FUNCTION public.trap_eq(text, text) RETURNS boolean LANGUAGE plpgsql AS
		$$ BEGIN INSERT INTO public.sprung VALUES ('text = text'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
	CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.trap_eq);
	CREATE FUNCTION public.trap_lt(interval, interval) RETURNS boolean LANGUAGE plpgsql AS
		$$ BEGIN INSERT INTO public.sprung VALUES ('interval < interval'); RETURN $1 OPERATOR(pg_catalog.<) $2; END $$;
	CREATE OPERATOR public.< (LEFTARG = interval, RIGHTARG = interval, FUNCTION = public.trap_lt);
	CREATE FUNCTION public.format(text, text) RETURNS text LANGUAGE plpgsql AS
		$$ BEGIN INSERT INTO public.sprung VALUES ('format'); RETURN pg_catalog.format($1, $2); END $$;
	CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE plpgsql AS
		$$ BEGIN INSERT INTO public.sprung VALUES ('now'); RETURN pg_catalog.now(); END $$;
	CREATE FUNCTION public.coalesce_trap(interval) RETURNS interval LANGUAGE sql AS 'SELECT $1';
	ALTER DATABASE d3 SET search_path = public, pg_catalog;
});
# the traps work (control)
is($node->safe_psql('d3', q{SELECT 'a' = 'a'; SELECT count(*) FROM public.sprung}), "t\n1",
	'control: a plain query in d3 springs the trap');
$node->safe_psql('d3', 'TRUNCATE public.sprung');

$node->safe_psql('d3', 'CREATE EXTENSION queue');
$node->safe_psql('d3', q{
	SELECT queue.create('t', retention => '1 day', ordered => false);
	SELECT queue.alter('t', max_deliveries => 3);
	SELECT queue.send('t', '{"a":1}', idempotency_key => 'k', producer => 'p', producer_seq => 1);
	SELECT queue.send('t', '{"a":1}', idempotency_key => 'k');
	SELECT queue.send_batch('t', ARRAY['{}', '{}']::jsonb[]);
	SELECT queue.ack('t', id) FROM queue.read('t', 1);
	SELECT queue.nack('t', id, reason => 'r') FROM queue.read('t', 1);
	SELECT queue.extend('t', id, '1 minute') FROM queue.read('t', 1);
	SELECT * FROM queue.pop('t');
	SELECT * FROM queue.stats(exact => true);
	SELECT * FROM queue.dead_letters('t');
	SELECT queue.redrive('t');
	SELECT * FROM queue.producer_gaps('t');
	SELECT queue.bind('topic', 't');
	SELECT queue.publish('topic', '{}');
	SELECT queue.unbind('topic', 't');
	CREATE ROLE r1;
	SELECT queue.grant('t', 'r1', 'send');
	SELECT queue.revoke('t', 'r1', 'send');
	SELECT * FROM queue._worker_step(100);
	SELECT queue.purge('t');
	SELECT queue.drop('t');
	SELECT * FROM queue.queues;
	SELECT * FROM queue.worker_status;
});
is($node->safe_psql('d3', q{SELECT coalesce(string_agg(DISTINCT what, ', '), 'none') FROM public.sprung}),
	'none', 'no planted operator or function was called by the install or the API');

$node->stop;
done_testing();
