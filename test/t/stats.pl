# test/t/stats.pl: what pgmq.stats promises that needs its own servers.
#  - Without pgmq in shared_preload_libraries every statistics function
#    fails with 55000 and says what to set, and the message path still works.
#  - Preloaded with pgmq.max_tracked_queues = 10: queues past the limit are
#    not tracked and pgmq.stats_info() counts their events.
#  - 4 pgbench clients committing at once lose no count.
#  - A consumer waiting in read_with_poll that a committed send wakes counts
#    a poll wakeup.
#  - stats_reset() frees the entries of dropped databases and of queue
#    tables dropped without drop_queue.
#  - Statistics live in shared memory: a restart starts them afresh, and
#    the length estimate of a queue that already held messages then starts
#    from the planner's row count (here set by VACUUM), not from zero.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# --- not preloaded ---------------------------------------------------------
my $plain = PostgreSQL::Test::Cluster->new('stats_plain');
$plain->init;
$plain->start;
$plain->safe_psql('postgres', "CREATE EXTENSION pgmq; SELECT pgmq.create('q')");
for my $sql ('SELECT * FROM pgmq.stats', 'SELECT pgmq.stats_reset()',
	"SELECT pgmq.stats_reset('q')", 'SELECT * FROM pgmq.stats_info()')
{
	my ($ret, $out, $err) = $plain->psql('postgres', $sql,
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	isnt($ret, 0, "not preloaded: $sql fails");
	like($err, qr/55000: pgmq statistics need pgmq in shared_preload_libraries/,
		"not preloaded: $sql says 55000 and what is missing");
	like($err, qr/HINT:  Add pgmq to shared_preload_libraries/, "not preloaded: $sql hints the fix");
}
is($plain->safe_psql('postgres',
		"SELECT count(*) FROM pgmq.send('q', '{}'); SELECT count(*) FROM pgmq.read('q', 30, 1)"),
	"1\n1", 'not preloaded: sending and reading still work');
my ($ret, $out, $err) = $plain->psql('postgres', 'SHOW pgmq.max_tracked_queues');
like($err, qr/unrecognized configuration parameter/,
	'not preloaded: there is no pgmq.max_tracked_queues');
$plain->stop;

# --- preloaded, 10 entries --------------------------------------------------
my $node = PostgreSQL::Test::Cluster->new('stats_preloaded');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'pgmq'\npgmq.max_tracked_queues = 10\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pgmq');
$node->safe_psql('postgres', "SELECT pgmq.create('q' || i) FROM generate_series(1, 12) i");
# one transaction per queue, in order: q1..q10 get the entries
$node->safe_psql('postgres', "SELECT pgmq.send('q$_', '{}')") for 1 .. 12;
is($node->safe_psql('postgres', 'SELECT count(*) FROM pgmq.stats'),
	'10', 'full: 10 queues tracked');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pgmq.stats WHERE queue_name IN ('q11', 'q12')"),
	'0', 'full: the queues past the limit are the ones left out');
is($node->safe_psql('postgres', 'SELECT max_tracked_queues, tracked_queues, untracked_events FROM pgmq.stats_info()'),
	'10|10|2', 'full: stats_info counts the untracked events');
$node->safe_psql('postgres', "SELECT pgmq.send('q1', '{}')");
is($node->safe_psql('postgres', "SELECT sends FROM pgmq.stats WHERE queue_name = 'q1'"),
	'2', 'full: tracked queues go on counting');
# dropping a tracked queue frees its entry for the next new queue
$node->safe_psql('postgres', "SELECT pgmq.drop_queue('q1')");
$node->safe_psql('postgres', "SELECT pgmq.send('q11', '{}')");
# q11 holds 2 messages, but its first send was not counted and its table
# has no planner row count yet (never vacuumed or analyzed)
is($node->safe_psql('postgres', "SELECT sends, queue_length_estimate FROM pgmq.stats WHERE queue_name = 'q11'"),
	'1|1', 'full: a dropped queue frees its entry for the next queue');

# --- poll wakeups -----------------------------------------------------------
$node->safe_psql('postgres', "SELECT pgmq.purge_queue('q2')");
my $s = $node->background_psql('postgres');
my $pid = $s->query_safe('SELECT pg_backend_pid()');
$s->query_until(qr/started/,
	"\\echo started\nSELECT count(*) FROM pgmq.read_with_poll('q2', 30, 5, 60, 60000);\n\\echo finished\n");
ok($node->poll_query_until('postgres',
		"SELECT wait_event_type = 'Extension' FROM pg_stat_activity WHERE pid = $pid"),
	'waiter asleep');
$node->safe_psql('postgres', "SELECT pgmq.send('q2', '{}')");
my $got = $s->query_until(qr/finished/, '');
$s->quit;
like($got, qr/^1$/m, 'waiter got the new message');
is($node->safe_psql('postgres',
		"SELECT poll_wakeups, reads, messages_delivered FROM pgmq.stats WHERE queue_name = 'q2'"),
	'1|1|1', 'a commit that woke the waiter is a poll wakeup');

# --- concurrent commits lose no count ---------------------------------------
$node->safe_psql('postgres', "SELECT pgmq.stats_reset('q4')");
$node->pgbench(
	'--no-vacuum --client=4 --jobs=2 --transactions=500',
	0, [qr{processed: 2000/2000}], [qr{^$}],
	'4 clients send 500 messages each',
	{ 'stats_send' => "SELECT pgmq.send('q4', '{}');\nSELECT * FROM pgmq.read('q4', 0, 1);\n" });
is($node->safe_psql('postgres',
		"SELECT sends, messages_sent, reads, messages_delivered + empty_reads >= reads FROM pgmq.stats WHERE queue_name = 'q4'"),
	'2000|2000|2000|t', 'concurrent commits: every send and read counted');

# --- restart -----------------------------------------------------------------
$node->safe_psql('postgres',
	"SELECT pgmq.send_batch('q3', array_fill('{}'::jsonb, ARRAY[98]))");
$node->safe_psql('postgres', 'VACUUM pgmq.q_q3');    # reltuples = 99
# a partitioned queue (pg_partman, 100 messages per partition), created
# while the table above is full: counted from its first event after restart
$node->safe_psql('postgres',
	"CREATE SCHEMA partman; CREATE EXTENSION pg_partman SCHEMA partman;"
	  . " SELECT pgmq.create_partitioned('pq', '100', '100000');"
	  . " SELECT pgmq.send_batch('pq', array_fill('{}'::jsonb, ARRAY[250]));");
$node->safe_psql('postgres', 'VACUUM ANALYZE');    # reltuples of each partition
$node->restart;
is($node->safe_psql('postgres', 'SELECT count(*) FROM pgmq.stats'),
	'0', 'restart: statistics start afresh');
$node->safe_psql('postgres', "SELECT pgmq.send('q3', '{}')");
is($node->safe_psql('postgres', "SELECT sends, queue_length_estimate FROM pgmq.stats WHERE queue_name = 'q3'"),
	'1|100', 'restart: the estimate starts from the planner row count plus what was counted');
is($node->safe_psql('postgres', "SELECT queue_length_estimate FROM pgmq.stats WHERE queue_name = 'q3'"),
	'100', 'restart: the planner row count is added once');
$node->safe_psql('postgres', "SELECT pgmq.send('pq', '{}')");
is($node->safe_psql('postgres', "SELECT sends, queue_length_estimate FROM pgmq.stats WHERE queue_name = 'pq'"),
	'1|251', 'restart: a partitioned queue starts from the sum over its partitions');
$node->safe_psql('postgres', 'VACUUM ANALYZE');
is($node->safe_psql('postgres', "SELECT queue_length_estimate FROM pgmq.stats WHERE queue_name = 'pq'"),
	'251', 'restart: a later vacuum does not count the partitions again');
# a partitioned queue created while tracked starts from 0: exact
$node->safe_psql('postgres',
	"SELECT pgmq.create_partitioned('pq2', '100', '100000');"
	  . " SELECT pgmq.send_batch('pq2', array_fill('{}'::jsonb, ARRAY[150]));"
	  . " SELECT pgmq.delete('pq2', 1::bigint);");
$node->safe_psql('postgres', 'VACUUM ANALYZE');
is($node->safe_psql('postgres', "SELECT queue_length_estimate FROM pgmq.stats WHERE queue_name = 'pq2'"),
	'149', 'a new partitioned queue: the estimate is exact');

# --- orphaned entries --------------------------------------------------------
# A dropped database, or a queue table dropped without drop_queue, leaves
# entries nobody frees at commit; stats_reset() without a name frees them.
$node->safe_psql('postgres', 'CREATE DATABASE stats_gone');
$node->safe_psql('stats_gone',
	"CREATE EXTENSION pgmq; SELECT pgmq.create('g'); SELECT pgmq.send('g', '{}')");
my $tracked = $node->safe_psql('postgres', 'SELECT tracked_queues FROM pgmq.stats_info()');
$node->safe_psql('postgres', 'DROP DATABASE stats_gone');
$node->safe_psql('postgres', 'DROP TABLE pgmq.q_q3, pgmq.a_q3');
is($node->safe_psql('postgres', 'SELECT tracked_queues FROM pgmq.stats_info()'),
	$tracked, 'orphans: entries stay after DROP DATABASE / DROP TABLE');
$node->safe_psql('postgres', "SELECT pgmq.stats_reset('q2')");
is($node->safe_psql('postgres', 'SELECT tracked_queues FROM pgmq.stats_info()'),
	$tracked, 'orphans: a reset of one queue frees nothing');
$node->safe_psql('postgres', 'SELECT pgmq.stats_reset()');
is($node->safe_psql('postgres', 'SELECT tracked_queues FROM pgmq.stats_info()'),
	$tracked - 2, 'orphans: stats_reset() frees the dropped database\'s and the dropped table\'s entries');

$node->stop;
done_testing();
