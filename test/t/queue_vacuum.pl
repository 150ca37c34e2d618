# test/t/queue_vacuum.pl: the queue vacuum worker (src/queue_vacuum.c) with
# pgmq preloaded:
#  - DROP DATABASE (without FORCE) succeeds while the database's worker waits
#    out pgmq.vacuum_interval (1 h here) and while it is in a long VACUUM;
#  - at most pgmq.vacuum_max_workers workers run at once, with more busy
#    databases than that;
#  - busy databases beyond that take turns;
#  - a database never has two workers, however long its VACUUM runs and
#    however many sessions consume from it.
# A VACUUM is made long by vacuum_cost_delay/vacuum_cost_limit set on the
# database (the worker applies database settings when it connects).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);

my $node = PostgreSQL::Test::Cluster->new('queue_vacuum');
$node->init;
$node->append_conf('postgresql.conf', qq(
shared_preload_libraries = 'pgmq'
autovacuum = off
pgmq.vacuum_interval = '1h'
pgmq.vacuum_max_workers = 2
max_worker_processes = 16
));
$node->start;

my $WORKERS = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pgmq queue vacuum worker'";

sub workers_in
{
	my ($db) = @_;
	return $node->safe_psql('postgres', "$WORKERS AND datname = '$db'");
}

# A database with queue q; $slow makes every VACUUM in it crawl.
sub make_db
{
	my ($db, $slow) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql('postgres',
		"ALTER DATABASE $db SET vacuum_cost_delay = '100ms'; ALTER DATABASE $db SET vacuum_cost_limit = 1")
	  if $slow;
	$node->safe_psql($db, "CREATE EXTENSION pgmq; SELECT pgmq.create('q')");
}

# Send and consume $n messages in $db (one statement consumes them all, so
# this session asks for a worker).
sub consume
{
	my ($db, $n) = @_;
	$node->safe_psql($db,
		"SELECT count(*) FROM pgmq.send_batch('q', array_fill('{\"a\": 1}'::jsonb, ARRAY[$n]));"
		  . " SELECT count(*) FROM pgmq.pop('q', $n);");
}

# 1. DROP DATABASE while the worker waits between rounds (1 h).
make_db('qv_wait', 0);
consume('qv_wait', 600);
$node->poll_query_until('postgres', "$WORKERS AND datname = 'qv_wait'", '1')
  or die 'no worker started for qv_wait';
my ($rc, $out, $err) = $node->psql('postgres', 'DROP DATABASE qv_wait');
is($rc, 0, 'DROP DATABASE succeeds while the worker waits out pgmq.vacuum_interval')
  or diag($err);

# Rounds every 100 ms from now on.
$node->safe_psql('postgres', "ALTER SYSTEM SET pgmq.vacuum_interval = '100ms'; SELECT pg_reload_conf()");

# 2. DROP DATABASE while the worker is in a long VACUUM.
make_db('qv_vac', 1);
consume('qv_vac', 20000);
$node->poll_query_until('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pgmq queue vacuum worker'"
	  . " AND datname = 'qv_vac' AND query LIKE 'VACUUM%'", '1')
  or die 'the worker of qv_vac did not start vacuuming';
sleep(1);
is(workers_in('qv_vac'), '1', 'the worker of qv_vac is still vacuuming');
($rc, $out, $err) = $node->psql('postgres', 'DROP DATABASE qv_vac');
is($rc, 0, 'DROP DATABASE succeeds while the worker is in a long VACUUM') or diag($err);

# 3. Three busy databases, pgmq.vacuum_max_workers = 2.
make_db("qv_busy$_", 1) for 1 .. 3;
consume("qv_busy$_", 20000) for 1 .. 3;
$node->poll_query_until('postgres', $WORKERS, '2')
  or die 'two workers did not start';
my $max = 0;
for (1 .. 10)
{
	consume("qv_busy$_", 300) for 1 .. 3;
	my $n = $node->safe_psql('postgres', $WORKERS);
	$max = $n if $n > $max;
	sleep(0.3);
}
is($max, 2, 'never more than pgmq.vacuum_max_workers workers with three busy databases');

# 4. One database, one worker: sessions consume while its VACUUM runs long.
my ($busy) = grep { workers_in($_) eq '1' } map { "qv_busy$_" } 1 .. 3;
ok(defined $busy, 'one of the busy databases has a worker');
my $max_in_db = 0;
for (1 .. 10)
{
	my @s = map { $node->background_psql($busy) } 1 .. 3;
	$_->query_safe("SELECT count(*) FROM pgmq.send_batch('q', array_fill('{\"a\": 1}'::jsonb, ARRAY[300]));"
		  . " SELECT count(*) FROM pgmq.pop('q', 300)") for @s;
	$_->quit for @s;
	my $n = workers_in($busy);
	$max_in_db = $n if $n > $max_in_db;
}
is($max_in_db, '1', "never two workers for $busy while its VACUUM runs long");

# Busy databases (workers in the middle of a VACUUM) can all be dropped.
for (1 .. 3)
{
	($rc, $out, $err) = $node->psql('postgres', "DROP DATABASE qv_busy$_");
	is($rc, 0, "DROP DATABASE qv_busy$_") or diag($err);
}
$node->poll_query_until('postgres', $WORKERS, '0')
  or die 'workers are left after their databases were dropped';

# 5. Busy databases beyond the cap take turns: with pgmq.vacuum_threshold = 0
# every round has work, so two workers would never leave by themselves; a
# third database that keeps asking gets one once a worker has had its turn.
$node->safe_psql('postgres',
	"ALTER SYSTEM SET pgmq.vacuum_threshold = 0; SELECT pg_reload_conf()");
make_db("qv_turn$_", 0) for 1 .. 3;
consume("qv_turn$_", 600) for 1 .. 2;
$node->poll_query_until('postgres', $WORKERS, '2')
  or die 'qv_turn1 and qv_turn2 did not get workers';
my $served = 0;
for (1 .. 120)
{
	consume('qv_turn3', 300);
	if (workers_in('qv_turn3') eq '1') { $served = 1; last; }
	sleep(0.5);
}
ok($served, 'a third busy database gets a worker when one of the two has had its turn');
$node->safe_psql('postgres', "DROP DATABASE qv_turn$_") for 1 .. 3;

$node->stop;
done_testing();
