# test/t/horizon_pinned.pl: consumers and producers under pgbench while one
# session pins the MVCC horizon (idle in transaction with an xid), so every
# consumed message leaves dead versions that the read start position
# (docs/horizon.md) steps over.  Producers also send into the past, readers
# roll back and hand messages back with set_vt into the past: every way a
# version appears behind the start.  Nothing is lost (every committed send
# is archived by a consumer or still in the queue), nothing is delivered
# twice within its visibility timeout (one hour here), and the start
# position was in use.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $node = PostgreSQL::Test::Cluster->new('horizon');
$node->init;
$node->append_conf('postgresql.conf', qq(
shared_preload_libraries = 'pgmq'
max_connections = 40
log_min_messages = warning
));
$node->start;
$node->safe_psql(
	'postgres', q(
CREATE EXTENSION pgmq;
SELECT pgmq.create('hz');
CREATE TABLE sent (msg_id bigint NOT NULL);
CREATE TABLE deliveries (msg_id bigint NOT NULL, read_ct int NOT NULL,
                         xid xid8 NOT NULL DEFAULT pg_current_xact_id());
INSERT INTO sent SELECT * FROM pgmq.send_batch('hz',
       ARRAY(SELECT jsonb_build_object('n', i) FROM generate_series(1, 2000) i));
));

# the pin: an xid, idle in transaction for the whole load
my $pin = $node->background_psql('postgres');
$pin->query_safe('BEGIN');
my $pinned_xid = $pin->query_safe('SELECT pg_current_xact_id()');

my $secs = 15;
my $producers = IPC::Run::start(
	[
		'pgbench', '-n', '-c', '2', '-j', '1', '-T', $secs,
		'-h', $node->host, '-p', $node->port,
		'-f', write_script('send.sql',
			"INSERT INTO sent SELECT * FROM pgmq.send('hz', '{\"p\": 1}');\n") . '@6',
		'-f', write_script('send_batch.sql',
			"INSERT INTO sent SELECT * FROM pgmq.send_batch('hz', ARRAY['{\"p\": 2}', '{\"p\": 3}']::jsonb[]);\n") . '@2',
		'-f', write_script('send_past.sql',
			"INSERT INTO sent SELECT * FROM pgmq.send('hz', '{\"p\": 4}', now() - interval '1 hour');\n") . '@1',
		'-f', write_script('send_rollback.sql',
			"BEGIN;\nSELECT pgmq.send('hz', '{\"p\": 5}', now() - interval '1 minute');\nROLLBACK;\n") . '@1',
		'postgres'
	],
	'>', \my $prod_out, '2>', \my $prod_err);

# consumers: read + log + archive in one transaction; others roll back a
# read, or hand their messages back with a vt in the past
$node->command_checks_all(
	[
		'pgbench', '-n', '-c', '6', '-j', '2', '-T', $secs,
		'-f', write_script('consume.sql',
			"BEGIN;\n"
			  . "INSERT INTO deliveries (msg_id, read_ct) SELECT msg_id, read_ct FROM pgmq.read('hz', 3600, 3);\n"
			  . "SELECT pgmq.archive('hz', ARRAY(SELECT msg_id FROM deliveries WHERE xid = pg_current_xact_id()));\n"
			  . "COMMIT;\n") . '@8',
		'-f', write_script('pop.sql',
			"INSERT INTO deliveries (msg_id, read_ct) SELECT msg_id, read_ct FROM pgmq.pop('hz', 2);\n") . '@2',
		'-f', write_script('rollback.sql',
			"BEGIN;\nSELECT count(*) FROM pgmq.read('hz', 3600, 3);\nROLLBACK;\n") . '@1',
		'-f', write_script('savepoint.sql',
			"BEGIN;\nSAVEPOINT a;\nSELECT count(*) FROM pgmq.read('hz', 3600, 2);\n"
			  . "ROLLBACK TO SAVEPOINT a;\nCOMMIT;\n") . '@1',
		'-f', write_script('give_back.sql',
			"SELECT count(*) FROM pgmq.set_vt('hz', ARRAY(SELECT msg_id FROM pgmq.read('hz', 3600, 2)),"
			  . " now() - interval '1 hour');\n") . '@1',
		'postgres'
	],
	0,
	[qr/number of failed transactions: 0/],
	[qr/^$/],
	'consumers ran without errors while the horizon was pinned');
$producers->finish;
is($?, 0, 'producers ran without errors') or diag($prod_err);

# the pin held for the whole run, and reads used a start position
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_xid::text = '$pinned_xid'"),
	'1', 'the horizon was pinned during the load');
my $start = $node->safe_psql('postgres',
	"SELECT pgmq._horizon_start('pgmq.q_hz'::regclass) > '-infinity'");
is($start, 't', 'reads began at a start position');
my $dead = $node->safe_psql('postgres',
	"SELECT n_dead_tup > 1000 OR (SELECT count(*) FROM pgmq.a_hz) > 1000 FROM pg_stat_user_tables WHERE relname = 'q_hz'");
is($dead, 't', 'thousands of messages were consumed behind the pin');

$pin->query_safe('COMMIT');
$pin->quit;

# drain: everything still queued is readable now (nothing is in flight)
$node->safe_psql('postgres',
	"INSERT INTO deliveries (msg_id, read_ct) SELECT msg_id, read_ct FROM pgmq.pop('hz', 1000000)");
my $res = $node->safe_psql(
	'postgres', q(
SELECT (SELECT count(*) FROM sent) || '|' ||
       (SELECT count(*) FROM deliveries) || '|' ||
       (SELECT count(DISTINCT msg_id) FROM deliveries) || '|' ||
       (SELECT count(*) FROM sent s WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.msg_id = s.msg_id)) || '|' ||
       (SELECT count(*) FROM deliveries d WHERE NOT EXISTS (SELECT 1 FROM sent s WHERE s.msg_id = d.msg_id)) || '|' ||
       (SELECT count(*) FROM pgmq.q_hz)));
my ($nsent, $ndeliv, $ndistinct, $lost, $phantom, $left) = split /\|/, $res;
cmp_ok($nsent, '>', 2000, "producers sent under the pin ($nsent messages in all)");
is($lost, 0, 'no committed message was lost');
is($phantom, 0, 'no rolled-back send was delivered');
is($ndistinct, $ndeliv, 'no message was delivered twice to a consumer that kept it');
is($ndeliv, $nsent, 'every message was delivered exactly once');
is($left, 0, 'the queue is empty');
diag("horizon pinned ${secs}s: $nsent sent, $ndeliv delivered");

$node->stop;
done_testing();

sub write_script
{
	my ($name, $text) = @_;
	my $path = $node->basedir . "/$name";
	open(my $fh, '>', $path) or die;
	print $fh $text;
	close $fh;
	return $path;
}
