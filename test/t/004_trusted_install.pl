# test/t/004_trusted_install.pl: pgmq is a trusted extension.  A role with
# nothing but CREATE on a database installs it there, and then, as that
# role, the whole SQL tour works: create, send, read, pop, archive, delete,
# metrics, dead-letter queues, topics, insert notifications, fifo reads,
# drop.  Then what the installing role must NOT be able to do, although it
# owns the extension, owns schema pgmq and has the extension owner's grants:
#   - create C functions, or replace or alter pgmq's own functions and tables
#     (they belong to the bootstrap superuser);
#   - get its code run by a superuser who uses pgmq: through a hostile queue
#     name in pgmq.meta, a view posing as a queue table, a look-alike
#     overload of a function pgmq's SQL calls;
#   - write the dead-letter counts or notify stamps of a queue it has no
#     rights on, or send another role's dead letters to its own queue.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('trusted');
$node->init;
$node->start;

$node->safe_psql('postgres', q{
	CREATE ROLE installer LOGIN;
	CREATE DATABASE app;
	GRANT CREATE ON DATABASE app TO installer;
});

# Run SQL in database app as installer / as the superuser.
sub as_installer
{
	my ($sql) = @_;
	return $node->safe_psql('app', $sql, extra_params => [ '-U', 'installer' ]);
}

sub as_super
{
	my ($sql) = @_;
	return $node->safe_psql('app', $sql);
}

# The SQLSTATE and message of a statement that must fail, as installer.
sub installer_error
{
	my ($sql) = @_;
	my ($rc, $out, $err) = $node->psql(
		'app', "\\set VERBOSITY default\n$sql",
		extra_params => [ '-U', 'installer' ]);
	return $rc == 0 ? 'no error' : $err;
}

is( as_installer(q{SELECT rolsuper FROM pg_roles WHERE rolname = current_user}),
	'f', 'the installing role is not a superuser');

# 1. The install.
as_installer('CREATE EXTENSION pgmq');
is( as_installer(q{
		SELECT e.extowner::regrole || ' ' || n.nspowner::regrole
		  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
		 WHERE e.extname = 'pgmq'}),
	'installer installer',
	'the installing role owns the extension and schema pgmq');
is( as_installer(q{
		SELECT count(*) FILTER (WHERE p.proowner <> 10), count(*)
		  FROM pg_proc p WHERE p.pronamespace = 'pgmq'::regnamespace}) =~ /^0\|\d+$/ ? 1 : 0,
	1, 'every pgmq function belongs to the bootstrap superuser');
is( as_installer(q{
		SELECT count(*) FROM pg_proc p
		 WHERE p.pronamespace = 'pgmq'::regnamespace AND p.prosecdef}),
	'0', 'no pgmq function is SECURITY DEFINER');

# 2. The tour, as the installing role.
my $tour = as_installer(q{
	SELECT pgmq.create('tour');
	SELECT pgmq.create('tour_dlq');
	SELECT 'send ' || pgmq.send('tour', '{"n": 1}');
	SELECT 'batch ' || string_agg(id::text, ',')
	  FROM pgmq.send_batch('tour', ARRAY['{"n": 2}', '{"n": 3}', '{"n": 4}']::jsonb[]) id;
	SELECT 'read ' || msg_id || '/' || read_ct FROM pgmq.read('tour', 30, 1);
	SELECT 'pop ' || msg_id FROM pgmq.pop('tour');
	SELECT 'archive ' || pgmq.archive('tour', 3::bigint);
	SELECT 'delete ' || pgmq.delete('tour', 1::bigint);
	SELECT 'metrics ' || queue_length || '/' || total_messages FROM pgmq.metrics('tour');
	SELECT pgmq.set_dead_letter_queue('tour', 'tour_dlq', 1);
	SELECT 'dlq read ' || count(*) FROM pgmq.read('tour', 0, 5);
	SELECT 'dlq read ' || count(*) FROM pgmq.read('tour', 0, 5);
	SELECT 'metrics_all ' || string_agg(queue_name || ':' || queue_length || ':' || dead_lettered, ',' ORDER BY queue_name)
	  FROM pgmq.metrics_all();
	SELECT 'redrive ' || pgmq.redrive('tour_dlq');
	SELECT pgmq.bind_topic('orders.*', 'tour');
	SELECT 'send_topic ' || pgmq.send_topic('orders.new', '{"topic": true}');
	SELECT pgmq.enable_notify_insert('tour', 0);
	SELECT 'notify send ' || pgmq.send('tour', '{"notify": true}');
	SELECT 'stamped ' || (last_notified_at IS NOT NULL)
	  FROM pgmq.list_notify_insert_throttles() WHERE queue_name = 'tour';
	SELECT pgmq.create_fifo_index('tour');
	SELECT 'grouped ' || count(*) FROM pgmq.read_grouped('tour', 30, 10);
	SELECT 'purge ' || pgmq.purge_queue('tour');
	SELECT 'drop ' || pgmq.drop_queue('tour') || ' ' || pgmq.drop_queue('tour_dlq');
	SELECT 'left ' || count(*) FROM pgmq.list_queues();
});
is($tour, join("\n",
	'', '', 'send 1', 'batch 2,3,4', 'read 1/1', 'pop 2', 'archive true',
	'delete true', 'metrics 1/4', '', 'dlq read 1', 'dlq read 0',
	'metrics_all tour:0:1,tour_dlq:1:0', 'redrive 1', '', 'send_topic 1', '',
	'notify send 7', 'stamped true', '', 'grouped 3', 'purge 3',
	'drop true true', 'left 0'),
	'the whole tour works for the installing role');

# 3. What the installing role cannot do.
like(installer_error(q{CREATE FUNCTION pgmq.evil() RETURNS void AS 'pgmq', 'pgmq_send' LANGUAGE c}),
	qr/permission denied for language c/, 'cannot create C functions');
like(installer_error(q{CREATE OR REPLACE FUNCTION pgmq.validate_queue_name(queue_name text) RETURNS void
		LANGUAGE sql AS 'SELECT NULL'}),
	qr/must be owner of function/, 'cannot replace a pgmq function');
like(installer_error(q{ALTER TABLE pgmq.meta DISABLE TRIGGER USER}),
	qr/must be owner of table meta/, 'cannot disable the triggers on pgmq.meta');
like(installer_error(q{DROP TABLE pgmq.dead_letter_counts}),
	qr/extension pgmq requires it/, 'cannot drop the tables of the extension');
like(installer_error(q{ALTER EXTENSION pgmq DROP TABLE pgmq.dead_letter_counts}),
	qr/must be owner of table dead_letter_counts/,
	'cannot take a table out of the extension (to drop it as the schema owner)');
like(installer_error(q{ALTER TABLE pgmq.meta OWNER TO installer}),
	qr/must be owner of table meta/, 'cannot take over a table of the extension');
like(installer_error(q{SET session_replication_role = replica}),
	qr/permission denied to set parameter/, 'cannot bypass the triggers');

# A superuser's queue, used by the superuser.
as_super(q{
	SELECT pgmq.create('admin_q');
	SELECT pgmq.create('admin_dlq');
	SELECT pgmq.enable_notify_insert('admin_q', 0);
	SELECT pgmq.send('admin_q', '{"secret": 1}');
	CREATE TABLE public.planted_calls (who text);
	GRANT INSERT ON public.planted_calls TO PUBLIC;
});

# The installing role plants: a function that would make it a superuser if
# a superuser ran it; a hostile name in pgmq.meta (with a table to match);
# a view posing as a queue table; a varchar overload of the function the
# pgmq.meta trigger calls.
as_installer(q{
	CREATE FUNCTION pgmq.planted() RETURNS text LANGUAGE plpgsql AS $$
	BEGIN
		INSERT INTO public.planted_calls VALUES (current_user);
		ALTER ROLE installer SUPERUSER;
		RETURN 'x';
	END $$;
	CREATE FUNCTION pgmq.validate_queue_name(queue_name character varying) RETURNS void
		LANGUAGE plpgsql AS $$ BEGIN PERFORM pgmq.planted(); END $$;
	SELECT pgmq.create('inst_q');
	CREATE VIEW pgmq.q_inst_view AS
		SELECT 1::bigint AS msg_id, 0 AS read_ct, now() AS enqueued_at, now() AS last_read_at,
		       now() AS vt, to_jsonb(pgmq.planted()) AS message, NULL::jsonb AS headers;
	INSERT INTO pgmq.meta (queue_name, is_partitioned, is_unlogged) VALUES ('inst_view', false, false);
	CREATE TABLE pgmq."q_x'||pgmq.planted()||'" (
		msg_id bigint GENERATED ALWAYS AS IDENTITY, read_ct int, enqueued_at timestamptz,
		last_read_at timestamptz, vt timestamptz, message jsonb, headers jsonb);
});
like(installer_error(q{UPDATE pgmq.meta SET queue_name = 'x''||pgmq.planted()||''' WHERE queue_name = 'inst_q'}),
	qr/42602|invalid queue name/, 'cannot rename a queue in pgmq.meta to a hostile name');

# The superuser goes about its business.
my ($rc, $out, $err) = $node->psql('app', q{
	SELECT count(*) FROM pgmq.metrics_all();
	SELECT pgmq.create_fifo_indexes_all();
	SELECT pgmq.create('admin_new');
	SELECT count(*) FROM pgmq.read('admin_q', 30, 1);
	SELECT pgmq.send('admin_q', '{"secret": 2}');
});
is($rc, 0, 'the superuser\'s calls work') or diag($err);
like($err, qr/skipped queue "inst_view": pgmq.q_inst_view is not a table/,
	'metrics_all skips a view posing as a queue table, with a WARNING');
is(as_super('SELECT count(*) FROM public.planted_calls'), '0',
	'no planted function ever ran');
is(as_super(q{SELECT rolsuper FROM pg_roles WHERE rolname = 'installer'}), 'f',
	'the installing role is still not a superuser');

# The superuser's queue: its counts, stamps and dead letters stay its own.
like(installer_error(q{INSERT INTO pgmq.dead_letter_counts VALUES ('admin_q', 1, 100)}),
	qr/permission denied to count dead letters of queue "admin_q"/,
	'cannot write the dead-letter count of a queue it may not consume');
like(installer_error(q{UPDATE pgmq.notify_insert_throttle SET last_notified_at = now() WHERE queue_name = 'admin_q'}),
	qr/permission denied to stamp the notify throttle of queue "admin_q"/,
	'cannot stamp the notify throttle of a queue it may not send to');
like(installer_error(q{INSERT INTO pgmq.dead_letter_policy VALUES ('admin_q', 'inst_q', 1)}),
	qr/permission denied to set the dead-letter queue of queue "admin_q"/,
	'cannot send another role\'s dead letters to its own queue');
like(installer_error(q{SELECT * FROM pgmq.read('admin_q', 0, 1)}),
	qr/permission denied for table q_admin_q/, 'cannot read the superuser\'s queue');

# The installing role may still drop its extension.
as_super(q{DELETE FROM pgmq.meta WHERE queue_name = 'inst_view'});
as_installer(q{DROP EXTENSION pgmq CASCADE});
is(as_super(q{SELECT count(*) FROM pg_extension WHERE extname = 'pgmq'}), '0',
	'the installing role can drop the extension');

$node->stop;
done_testing();
