# test/t/003_pgbench_consumers.pl: 8 consumers on one queue under pgbench,
# with producers sending at the same time.  Over thousands of reads no
# message is delivered twice within its visibility timeout: every delivery
# is logged (in the reading transaction), no msg_id is in the log twice, and
# max(read_ct) stays 1 because the vt (one hour) outlasts the test.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $node = PostgreSQL::Test::Cluster->new('stress');
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
SELECT pgmq.create('stress');
SELECT pgmq.send_batch('stress', ARRAY(SELECT jsonb_build_object('n', i) FROM generate_series(1, 16000) i));
CREATE TABLE deliveries (msg_id bigint NOT NULL, read_ct int NOT NULL, how text NOT NULL);
));

my $reads = 400;    # transactions per consumer
my $start = time;

# 8 consumers; each transaction reads and logs what it got (3 kinds of read).
my $bg_producers = IPC::Run::start(
	[
		'pgbench', '-n', '-c', '2', '-j', '1', '-t', '500',
		'-h', $node->host, '-p', $node->port,
		'-f', write_script('producer.sql',
			"SELECT pgmq.send_batch('stress', ARRAY[jsonb_build_object('p', 1), jsonb_build_object('p', 2)]);\n"),
		'postgres'
	],
	'>', \my $prod_out, '2>', \my $prod_err);

$node->command_checks_all(
	[
		'pgbench', '-n', '-c', '8', '-j', '2', '-t', $reads,
		'-f', write_script('read.sql',
			"INSERT INTO deliveries SELECT msg_id, read_ct, 'read' FROM pgmq.read('stress', 3600, 5);\n") . '@6',
		'-f', write_script('poll.sql',
			"INSERT INTO deliveries SELECT msg_id, read_ct, 'poll' FROM pgmq.read_with_poll('stress', 3600, 3, 1, 10);\n") . '@2',
		'-f', write_script('cond.sql',
			"INSERT INTO deliveries SELECT msg_id, read_ct, 'cond' FROM pgmq.read('stress', 3600, 2, '{\"p\": 2}');\n") . '@1',
		'postgres'
	],
	0,
	[qr/number of transactions actually processed: ${\ (8 * $reads)}\/${\ (8 * $reads)}/],
	[qr/^$/],
	'8 consumers ran without errors');
$bg_producers->finish;
is($?, 0, 'producers ran without errors') or diag($prod_err);
my $secs = time - $start;

my $res = $node->safe_psql(
	'postgres', q(
SELECT count(*) || '|' || count(DISTINCT msg_id) || '|' || max(read_ct) || '|' ||
       (SELECT max(read_ct) FROM pgmq.q_stress) || '|' ||
       (SELECT count(*) FROM pgmq.q_stress WHERE read_ct = 1) || '|' ||
       (SELECT count(*) FROM pgmq.q_stress WHERE read_ct = 1 AND vt > clock_timestamp() + interval '50 minutes')
  FROM deliveries));
my ($deliveries, $distinct, $max_logged, $max_read_ct, $read_once, $hidden) = split /\|/, $res;
cmp_ok($deliveries, '>=', 8 * $reads, "thousands of deliveries ($deliveries)");
is($distinct, $deliveries, 'no message delivered twice');
is($max_logged, 1, 'every delivery was a first delivery (read_ct 1)');
is($max_read_ct, 1, 'max(read_ct) in the queue is 1');
is($read_once, $deliveries, 'every delivered message has read_ct 1, no other has');
is($hidden, $deliveries, 'every delivered message is hidden for its vt');
my $cond_ok = $node->safe_psql('postgres',
	q(SELECT bool_and(q.message @> '{"p": 2}') FROM deliveries d JOIN pgmq.q_stress q USING (msg_id) WHERE d.how = 'cond'));
is($cond_ok, 't', 'conditional reads returned only matching messages');
diag("pgbench: 8 consumers x $reads transactions, 2 producers x 500 batches of 2, in ${secs}s: "
	  . "$deliveries deliveries, $distinct distinct, max read_ct $max_read_ct");

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
