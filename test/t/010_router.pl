# test/t/010_router.pl: pgmq over two shards behind a PL/Proxy router
# (extension pgmq_router).
#
#  - the router's pgmq API has the shards' functions, argument names,
#    defaults, result types and overloads (plus the 1.13.1 additions);
#  - the core tour (router/test/tour.sql) gives the same output through the
#    router as directly on one server, errors included, with its queues on
#    both shards;
#  - dead-letter queues: a dead-letter queue on another shard is refused
#    naming both shards; a spread dead-letter queue works;
#  - the Python walkthrough (examples/python/demo.py, unmodified) through the
#    router consumes every message exactly once, for a placed and for a
#    spread queue;
#  - spread queues: sends reach every shard, msg_ids name their shard,
#    delete/archive/set_vt go to it, metrics add up;
#  - pgmq 1.13.1 additions: read_multi over queues on both shards and a
#    spread queue checks everything before reading, takes exactly qty,
#    returns oldest visible first, and its _with_poll wakes on a send;
#    statistics add up the shards and reset reaches them; dedup window,
#    retention and priorities of a spread queue reach every shard, and a
#    repeated dedup id is one message;
#  - a shard is killed (SIGKILL, every process) under load: sends to the
#    spread queue continue on the other shard, spread reads skip it, a placed
#    queue on it fails with an error naming it; after its restart every
#    acknowledged message is there exactly once and nothing is duplicated.
#
# Needs PL/Proxy for the running server version; without it the test says so
# and skips (that is the only reason it skips).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use File::Basename qw(dirname);
use File::Spec;
use Time::HiRes qw(usleep);

my $repo = File::Spec->rel2abs(dirname(__FILE__) . '/../..');

my $router = PostgreSQL::Test::Cluster->new('router');
$router->init;
$router->append_conf('postgresql.conf', "log_min_messages = warning\n");
$router->start;
my $major = int($router->safe_psql('postgres', 'SHOW server_version_num') / 10000);
if ($router->safe_psql('postgres', q(SELECT count(*) FROM pg_available_extensions WHERE name = 'plproxy')) == 0)
{
	plan skip_all => "PL/Proxy is not installed for PostgreSQL $major (Debian: postgresql-$major-plproxy)";
}
is($router->safe_psql('postgres', q(SELECT count(*) FROM pg_available_extensions WHERE name = 'pgmq_router')),
	'1', 'pgmq_router is installed');

my @shards;
for my $i (0, 1)
{
	my $s = PostgreSQL::Test::Cluster->new("shard$i");
	$s->init;
	$s->append_conf('postgresql.conf', qq(
shared_preload_libraries = 'pgmq'
log_min_messages = warning
max_connections = 60
));
	$s->start;
	$s->safe_psql('postgres', 'CREATE EXTENSION pgmq');
	push @shards, $s;
}

sub shard_connstr
{
	my ($s) = @_;
	return 'host=' . $s->host . ' port=' . $s->port . ' dbname=postgres connect_timeout=5';
}
$router->safe_psql(
	'postgres', qq(
CREATE EXTENSION plproxy;
CREATE SERVER pgmq_cluster FOREIGN DATA WRAPPER plproxy
    OPTIONS (p0 '@{[shard_connstr($shards[0])]}', p1 '@{[shard_connstr($shards[1])]}');
CREATE USER MAPPING FOR PUBLIC SERVER pgmq_cluster;
CREATE EXTENSION pgmq_router;
ALTER DATABASE postgres SET session_preload_libraries = 'pgmq_router';
));

# ---------------------------------------------------------------------------
# The API surface: the router has every public function of the shards'
# pgmq with the same arguments (names, types, defaults) and result.
my $sig_sql = q(
SELECT p.proname || '(' || pg_get_function_arguments(p.oid) || ') -> ' || pg_get_function_result(p.oid)
  FROM pg_proc p
 WHERE p.pronamespace = 'pgmq'::regnamespace AND p.prorettype <> 'trigger'::regtype AND p.proname !~ '^_'
 ORDER BY 1);
my %on_router = map { $_ => 1 } split /\n/, $router->safe_psql('postgres', $sig_sql);
my @on_shard = split /\n/, $shards[0]->safe_psql('postgres', $sig_sql);
my @missing = grep { !$on_router{$_} && !/^create_partitioned\(/ } @on_shard;
is(join("\n", @missing), '', 'router: every function of the shard API, same signature');
my %on_shard = map { $_ => 1 } @on_shard;
my @extra = grep { !$on_shard{$_} } sort keys %on_router;
my @extra_allowed = (
	q{create_partitioned(queue_name text, partition_interval text DEFAULT '10000'::text, retention_interval text DEFAULT '100000'::text, premake integer DEFAULT 4) -> void},
	q{read_grouped_head(queue_name text, vt integer, qty integer) -> SETOF pgmq.message_record},
	q{read_grouped_head_with_poll(queue_name text, vt integer, qty integer, max_poll_seconds integer DEFAULT 5, poll_interval_ms integer DEFAULT 100) -> SETOF pgmq.message_record},
);
my %allowed = map { $_ => 1 } @extra_allowed;
is(join("\n", grep { !$allowed{$_} } @extra), '', 'router: nothing beyond the pgmq 1.13.1 API');
ok($on_router{$_}, "router has 1.13.1 $_") for @extra_allowed;
is( $router->safe_psql(
		'postgres',
		q(SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
            FROM pg_attribute WHERE attrelid = 'pgmq.metrics_result'::regclass AND attnum > 0)),
	'queue_name text, queue_length bigint, newest_msg_age_sec integer, oldest_msg_age_sec integer, '
	  . 'total_messages bigint, scrape_time timestamp with time zone, queue_visible_length bigint, '
	  . 'default_partition_length bigint, dead_lettered bigint, retention_expired bigint',
	'router: metrics_result has the 1.13.1 columns');
for my $t (qw(message_record queue_record metrics_result multi_message_record))
{
	my $cols = qq(SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
                    FROM pg_attribute WHERE attrelid = 'pgmq.$t'::regclass AND attnum > 0 AND NOT attisdropped);
	is($router->safe_psql('postgres', $cols), $shards[0]->safe_psql('postgres', $cols), "router: $t as on the shard");
}

# Clients begin with CREATE EXTENSION IF NOT EXISTS pgmq.
my ($rc, $out, $err) = $router->psql('postgres', 'CREATE EXTENSION IF NOT EXISTS pgmq CASCADE');
is($rc, 0, 'router: CREATE EXTENSION IF NOT EXISTS pgmq succeeds');
like($err, qr/provided by extension "pgmq_router"/, 'router: ... and says why nothing was created');
($rc, $out, $err) = $router->psql('postgres', 'CREATE EXTENSION pgmq');
like($err, qr/ERROR:  extension "pgmq" is provided by extension "pgmq_router"/,
	'router: CREATE EXTENSION pgmq without IF NOT EXISTS is refused');

# ---------------------------------------------------------------------------
# The core tour: same output directly and through the router.
my @tour_queues = qw(tour_core tour_d tour_unlogged tour_fifo tour_b tour_eu tour_m1 tour_m2 tour_m3 tour_p);
is( $router->safe_psql(
		'postgres',
		'SELECT count(DISTINCT pgmq_router.placement(n)) FROM unnest(ARRAY['
		  . join(',', map { "'$_'" } @tour_queues) . ']) n'),
	'2', 'tour: its queues are placed on both shards');

sub run_tour
{
	my ($node) = @_;
	my $o = '';
	IPC::Run::run(
		[
			'psql', '-X', '-a', '-h', $node->host, '-p', $node->port, '-d', 'postgres',
			'-f', "$repo/router/test/tour.sql"
		],
		'>&', \$o);
	# PL/Proxy passes a shard's NOTICE/WARNING on with its own prefix, and
	# says when it drops a connection after an error.
	$o =~ s/^psql:\S+ (?:NOTICE|WARNING):  PL\/Proxy: (?:dropping stale conn|detected unstable connection)\n//mg;
	$o =~ s/^(psql:\S+ )(?:NOTICE|WARNING):  pgmq_router\.\w+\(\d+\): \[[^\]]*\] REMOTE (\w+): /$1$2:  /mg;
	return $o;
}
my $direct = run_tour($shards[0]);
my $routed = run_tour($router);
like($direct, qr/SELECT pgmq.drop_queue\('tour_eu'\);/, 'tour: ran to the end directly');
my ($tour_main) = split /^-- errors: same SQLSTATE/m, $direct;
is(join("\n", grep { /ERROR/ && !/invalid routing key|invalid topic pattern/ } split /\n/, $tour_main), '',
	'tour: direct run has no error before its errors section but the two invalid topic strings')
  or diag($direct);
is($routed, $direct, 'tour: same output through the router as on one server');
is( join(',', map { $_->safe_psql('postgres', q(SELECT count(*) FROM pgmq.list_queues() WHERE queue_name LIKE 'tour%')) } @shards),
	'0,0', 'tour: dropped everything it created on the shards');

# read_grouped_head (1.13.1) goes to the shard.
$router->safe_psql('postgres', q(SELECT pgmq.create('head_q');
  SELECT pgmq.send('head_q', '{"i": 1}', '{"x-pgmq-group": "a"}'::jsonb);
  SELECT pgmq.send('head_q', '{"i": 2}', '{"x-pgmq-group": "a"}'::jsonb);
  SELECT pgmq.send('head_q', '{"i": 3}', '{"x-pgmq-group": "b"}'::jsonb);));
my $head_shard = $router->safe_psql('postgres', q(SELECT pgmq_router.placement('head_q')));
if ($shards[$head_shard]->safe_psql('postgres', q(SELECT to_regprocedure('pgmq.read_grouped_head(text,integer,integer)') IS NOT NULL)) eq 't')
{
	is($router->safe_psql('postgres', q(SELECT string_agg(message->>'i', ',' ORDER BY msg_id) FROM pgmq.read_grouped_head('head_q', 30, 10))),
		'1,3', 'read_grouped_head through the router: the head of each group');
}
else
{
	($rc, $out, $err) = $router->psql('postgres', q(SELECT * FROM pgmq.read_grouped_head('head_q', 30, 10)));
	like($err, qr/function pgmq\.read_grouped_head\(.*\) does not exist/,
		'read_grouped_head through the router reaches the shard (whose pgmq predates 1.13.1)');
}
$router->safe_psql('postgres', q(SELECT pgmq.drop_queue('head_q')));

# create_partitioned in its 1.13.1 form (premake) goes to the shard.
my $part_shard = $router->safe_psql('postgres', q(SELECT pgmq_router.placement('part_q')));
my $ps = $shards[$part_shard];
if ($ps->safe_psql('postgres', q(SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_partman')) eq '1')
{
	$ps->safe_psql('postgres', 'CREATE SCHEMA partman; CREATE EXTENSION pg_partman SCHEMA partman');
}
if ($ps->safe_psql('postgres', q(SELECT to_regprocedure('pgmq.create_partitioned(text,text,text,integer)') IS NOT NULL)) eq 't')
{
	$router->safe_psql('postgres', q(SELECT pgmq.create_partitioned('part_q', '10000', '100000', 4)));
	$router->safe_psql('postgres', q(SELECT pgmq.send('part_q', '{"p": 1}')));
	is( $router->safe_psql('postgres',
			q(SELECT l.is_partitioned::text || ',' || (SELECT message::text FROM pgmq.read('part_q', 30, 1))
                FROM pgmq.list_queues() l WHERE l.queue_name = 'part_q')),
		'true,{"p": 1}', 'create_partitioned(queue_name, partition_interval, retention_interval, premake) through the router');
	$router->safe_psql('postgres', q(SELECT pgmq.drop_queue('part_q')));
}
else
{
	($rc, $out, $err) = $router->psql('postgres', q(SELECT pgmq.create_partitioned('part_q', '10000', '100000', 4)));
	like($err, qr/function pgmq\.create_partitioned\(text, text, text, integer\) does not exist/,
		'create_partitioned through the router reaches the shard (whose pgmq predates 1.13.1)');
}

# ---------------------------------------------------------------------------
# Dead-letter queues across shards.
my ($q1, $q0) = ('payments', 'payments_dlq');
is($router->safe_psql('postgres', qq(SELECT pgmq_router.placement('$q1') || ',' || pgmq_router.placement('$q0'))),
	'1,0', 'dead letters: the two queues hash to different shards');
$router->safe_psql('postgres', qq(SELECT pgmq.create('$q1'); SELECT pgmq.create('$q0');));
($rc, $out, $err) = $router->psql('postgres', qq(SELECT pgmq.set_dead_letter_queue('$q1', '$q0', 1)));
like($err, qr/ERROR:  dead-letter queue "payments_dlq" is on shard p0 \(host=.*\) but queue "payments" is on shard p1 \(host=/,
	'dead letters: a dead-letter queue on another shard is refused naming both shards');
like($err, qr/pgmq_router\.create_spread/, 'dead letters: ... and the error says what works');
$router->safe_psql('postgres', q(SELECT pgmq_router.create_spread('dlq_all')));
$router->safe_psql('postgres', qq(SELECT pgmq.set_dead_letter_queue('$q1', 'dlq_all', 1)));
$router->safe_psql('postgres', qq(SELECT pgmq.send('$q1', '{"poison": true}')));
is($router->safe_psql('postgres', qq(SELECT count(*) FROM pgmq.read('$q1', 0, 1))), '1', 'dead letters: first delivery');
is($router->safe_psql('postgres', qq(SELECT count(*) FROM pgmq.read('$q1', 0, 1))), '0',
	'dead letters: second read moves it instead of delivering it');
is( $router->safe_psql('postgres',
		q(SELECT message::text || ' ' || (headers->'x-pgmq-dead-letter'->>'queue') || ' ' || (msg_id % 1024) FROM pgmq.read('dlq_all', 30, 10))),
	'{"poison": true} payments 1',
	'dead letters: the spread dead-letter queue has it, on the source queue\'s shard');
is($router->safe_psql('postgres', q(SELECT pgmq.redrive('dlq_all'))), '1', 'dead letters: redrive through the router');
is($router->safe_psql('postgres', qq(SELECT message::text FROM pgmq.read('$q1', 30, 10))), '{"poison": true}',
	'dead letters: redriven message is back');
is($router->safe_psql('postgres', qq(SELECT string_agg(queue_name || '>' || dead_letter_queue, ',') FROM pgmq.list_dead_letter_policies())),
	'payments>dlq_all', 'dead letters: list_dead_letter_policies gathers from the shards');
$router->safe_psql('postgres', qq(SELECT pgmq.drop_queue('$q1'); SELECT pgmq.drop_queue('$q0'); SELECT pgmq.drop_queue('dlq_all');));

# ---------------------------------------------------------------------------
# Spread queues.
$router->safe_psql('postgres', q(SELECT pgmq_router.create_spread('hot')));
($rc, $out, $err) = $router->psql('postgres', q(SELECT pgmq.create('placed_x'); SELECT pgmq_router.create_spread('placed_x')));
like($err, qr/ERROR:  queue "placed_x" already exists as a placed queue on shard p/, 'spread: a placed queue is not turned into a spread one');
$router->safe_psql('postgres', q(SELECT pgmq.drop_queue('placed_x')));
is( $router->safe_psql('postgres',
		q(SELECT count(*) FROM (SELECT pgmq.send('hot', jsonb_build_object('i', i)) FROM generate_series(1, 40) i) s)),
	'40', 'spread: 40 sends');
my @parts = map { $_->safe_psql('postgres', q(SELECT queue_length FROM pgmq.metrics('hot'))) } @shards;
ok($parts[0] >= 10 && $parts[1] >= 10 && $parts[0] + $parts[1] == 40, "spread: sends reach both shards (@parts)");
is($router->safe_psql('postgres', q(SELECT queue_length || ',' || total_messages FROM pgmq.metrics('hot'))),
	'40,40', 'spread: metrics add up the shards');
is($router->safe_psql('postgres', q(SELECT count(*) FROM pgmq.list_queues() WHERE queue_name = 'hot')), '1',
	'spread: list_queues shows it once');
my @read25 = split /\n/, $router->safe_psql('postgres', q(SELECT msg_id || '|' || (message->>'i') FROM pgmq.read('hot', 30, 25)));
my %read_shards = map { ((split /\|/)[0] % 1024) => 1 } @read25;
my %read_n = map { (split /\|/)[1] => 1 } @read25;
is(scalar(@read25) . ',' . scalar(keys %read_shards) . ',' . scalar(keys %read_n), '25,2,25',
	'spread: one read takes from both shards until qty is filled');
# the group header decides the shard
$router->safe_psql('postgres',
	q(SELECT pgmq.send('hot', jsonb_build_object('g', i), '{"x-pgmq-group": "one"}'::jsonb) FROM generate_series(1, 6) i));
is( $router->safe_psql('postgres',
		q(SELECT count(DISTINCT msg_id % 1024) || ',' || count(*) FROM pgmq.read_grouped('hot', 30, 50) WHERE headers ? 'x-pgmq-group')),
	'1,6', 'spread: a group\'s messages are on one shard, read in one grouped read');
# ids say their shard: set_vt / delete / archive go straight to it
my @ids = sort { $a <=> $b } map { (split /\|/)[0] } @read25;
my $ids = $router->safe_psql('postgres',
	'SELECT string_agg(msg_id::text, \',\' ORDER BY msg_id) FROM pgmq.set_vt(\'hot\', ARRAY[' . join(',', @ids) . ']::bigint[], 0)');
is($ids, join(',', @ids), 'spread: set_vt with ids from both shards');
my @two = ((grep { $_ % 1024 == 0 } @ids)[0], (grep { $_ % 1024 == 1 } @ids)[0]);
is($router->safe_psql('postgres', "SELECT pgmq.delete('hot', $two[0]::bigint)::text || pgmq.delete('hot', $two[0]::bigint)::text"),
	'truefalse', 'spread: delete by id');
is($router->safe_psql('postgres', "SELECT pgmq.archive('hot', $two[1]::bigint)"), 't', 'spread: archive by id');
is($shards[1]->safe_psql('postgres', 'SELECT count(*) FROM pgmq.a_hot WHERE msg_id = ' . int($two[1] / 1024)),
	'1', 'spread: the archived message is in its shard\'s archive');
is($router->safe_psql('postgres', q(SELECT pgmq.purge_queue('hot'))), 44, 'spread: purge_queue adds up');
# bad input to a spread queue: the error a placed queue gives
$router->safe_psql('postgres', q(SELECT pgmq.create('plain_x')));
for my $call (
	"pgmq.read(%s, 30, 0)", "pgmq.read(%s, -1, 1)", "pgmq.send(%s, NULL)", "pgmq.send(%s, '{}', -5)",
	"pgmq.send_batch(%s, ARRAY[]::jsonb[])", "pgmq.send_batch(%s, ARRAY['{}']::jsonb[], ARRAY['{}', '{}']::jsonb[])",
	"pgmq.read_with_poll(%s, 30, 1, -1, 100)", "pgmq.read_with_poll(%s, 30, 1, 1, 0)", "pgmq.pop(%s, -1)",
	"pgmq.read_grouped(%s, 30, 0)", "pgmq.delete(%s, ARRAY[1, NULL]::bigint[])", "pgmq.archive(%s, NULL::bigint[])",
	"pgmq.set_vt(%s, NULL::bigint, 0)", "pgmq.delete(%s, NULL::bigint)")
{
	my @errs;
	for my $q ('hot', 'plain_x')
	{
		my (undef, undef, $e) = $router->psql('postgres', 'SELECT * FROM ' . sprintf($call, "'$q'"));
		$e = join("\n", grep { /ERROR/ } split /\n/, $e);
		$e =~ s/\b$q\b/Q/g;
		push @errs, $e;
	}
	like($errs[0], qr/ERROR:  \S/, "spread: $call is refused");
	is($errs[0], $errs[1], "spread: $call gives the error a placed queue gives");
}
$router->safe_psql('postgres', q(SELECT pgmq.drop_queue('plain_x')));
$router->safe_psql('postgres', q(SELECT pgmq.drop_queue('hot')));
is($router->safe_psql('postgres', q(SELECT count(*) FROM pgmq_router.spread_queue)), '0', 'spread: drop_queue forgets it');

# ---------------------------------------------------------------------------
# pgmq 1.13.1 additions across shards: read_multi, statistics, per-queue
# settings of spread queues.
is($router->safe_psql('postgres', q(SELECT pgmq_router.placement('tour_m1') || ',' || pgmq_router.placement('tour_m2'))),
	'0,1', 'tour: its read_multi queues are on different shards');
my $stats_cols = q(SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
                     FROM pg_attribute WHERE attrelid = 'pgmq.stats'::regclass AND attnum > 0 AND NOT attisdropped);
is($router->safe_psql('postgres', $stats_cols), $shards[0]->safe_psql('postgres', $stats_cols),
	'router: the view pgmq.stats has the shard\'s columns');
my $privs = q(SELECT has_function_privilege('public', 'pgmq.stats()', 'EXECUTE')::text || ','
                || has_function_privilege('pg_monitor', 'pgmq.stats_info()', 'EXECUTE')::text || ','
                || has_function_privilege('pg_monitor', 'pgmq.stats_reset(text)', 'EXECUTE')::text || ','
                || has_table_privilege('pg_monitor', 'pgmq.stats', 'SELECT')::text);
is($router->safe_psql('postgres', $privs), $shards[0]->safe_psql('postgres', $privs),
	'router: statistics privileges as on the shard');

# two placed queues, one per shard, and a spread queue
my %on;
for my $cand (map { "mq_$_" } 'a' .. 'z')
{
	my $p = $router->safe_psql('postgres', "SELECT pgmq_router.placement('$cand')");
	$on{$p} //= $cand;
	last if defined $on{0} && defined $on{1};
}
my ($m0, $m1) = ($on{0}, $on{1});
$router->safe_psql('postgres', qq(SELECT pgmq.create('$m0'); SELECT pgmq.create('$m1'); SELECT pgmq_router.create_spread('mq_s');
  SELECT pgmq.send_batch('$m0', array_agg(jsonb_build_object('q', '$m0', 'i', i))) FROM generate_series(1, 10) i;
  SELECT pgmq.send_batch('$m1', array_agg(jsonb_build_object('q', '$m1', 'i', i))) FROM generate_series(1, 10) i;
  SELECT pgmq.send('mq_s', jsonb_build_object('q', 'mq_s', 'i', i)) FROM generate_series(1, 10) i;));
my $visible = qq(SELECT string_agg(queue_visible_length::text, ',' ORDER BY queue_name)
                   FROM (SELECT (pgmq.metrics(n)).* FROM unnest(ARRAY['$m0', '$m1', 'mq_s']) n) m);
is($router->safe_psql('postgres', $visible), '10,10,10', 'read_multi: 10 visible messages in each queue');
($rc, $out, $err) = $router->psql('postgres', qq(SELECT * FROM pgmq.read_multi(ARRAY['$m0', 'mq_s', '$m1', 'mq_nope'], 30, 30)));
like($err, qr/ERROR:  queue "mq_nope" does not exist/, 'read_multi: an unknown queue on one shard fails the call ...');
is($router->safe_psql('postgres', $visible), '10,10,10', 'read_multi: ... before any shard read anything');
is( $router->safe_psql('postgres', qq(SELECT count(*) FROM pgmq.read_multi(ARRAY['$m0', 'mq_s', '$m1'], 30, 7))),
	'7', 'read_multi: qty 7 over three queues on two shards');
is( $router->safe_psql('postgres',
		qq(SELECT sum(queue_visible_length) FROM (SELECT (pgmq.metrics(n)).* FROM unnest(ARRAY['$m0', '$m1', 'mq_s']) n) m)),
	'23', 'read_multi: the shards took exactly qty messages (nothing read that was not returned)');
my @multi = split /\n/, $router->safe_psql('postgres',
	qq(SELECT queue_name || '|' || msg_id || '|' || (message->>'q') || '|' || (message->>'i') || '|' || read_ct || '|' || extract(epoch FROM vt)
         FROM pgmq.read_multi(ARRAY['$m0', 'mq_s', '$m1'], 30, 100)));
is(scalar(@multi), 23, 'read_multi: a big qty takes every visible message left');
is(scalar(grep { my @f = split /\|/; $f[0] ne $f[2] || $f[4] != 1 } @multi), 0,
	'read_multi: each row names its queue, read once');
my @vts = map { (split /\|/)[5] } @multi;
is(join(',', @vts), join(',', sort { $a <=> $b } @vts), 'read_multi: oldest visible first across the shards');
my %spread_shards = map { ((split /\|/)[1] % 1024) => 1 } grep { /^mq_s\|/ } @multi;
is(join(',', sort keys %spread_shards), '0,1', 'read_multi: spread msg_ids name their shard');
my $sid = (map { (split /\|/)[1] } grep { /^mq_s\|/ } @multi)[0];
is($router->safe_psql('postgres', "SELECT pgmq.delete('mq_s', ${sid}::bigint)"), 't',
	'read_multi: a spread msg_id from read_multi deletes its message');
# with poll: a send to the second shard wakes the waiting call
my ($pout, $perr) = ('', '');
my $poller = IPC::Run::start(
	[
		'psql', '-X', '-A', '-t', '-h', $router->host, '-p', $router->port, '-d', 'postgres', '-c',
		qq(SELECT message->>'late' FROM pgmq.read_multi_with_poll(ARRAY['$m0', '$m1'], 30, 5, 10, 50))
	],
	'>', \$pout, '2>', \$perr);
usleep(1_000_000);
my $t0 = time;
$router->safe_psql('postgres', qq(SELECT pgmq.send('$m1', '{"late": "yes"}')));
$poller->finish;
is($pout, "yes\n", 'read_multi_with_poll: returns a message sent while it waits');
ok(time - $t0 <= 5, 'read_multi_with_poll: ... well before max_poll_seconds');

# settings of a spread queue reach every shard
$router->safe_psql('postgres', q(SELECT pgmq.set_dedup_window('mq_s', 60); SELECT pgmq.set_retention('mq_s', '1 hour', '2 days');
  SELECT pgmq.enable_priorities('mq_s');));
for my $i (0, 1)
{
	is( $shards[$i]->safe_psql('postgres',
			q{SELECT (SELECT window_seconds FROM pgmq.dedup_settings WHERE queue_name = 'mq_s') || ','
			      || (SELECT message_retention || '/' || archive_retention FROM pgmq.retention_settings WHERE queue_name = 'mq_s') || ','
			      || (to_regclass('pgmq.q_mq_s_prio_idx') IS NOT NULL)}),
		'60,01:00:00/2 days,true', "spread settings: dedup window, retention and priorities on shard p$i");
}
is( $router->safe_psql('postgres',
		q(SELECT count(DISTINCT s) FROM (SELECT pgmq.send('mq_s', jsonb_build_object('n', i), '{"x-pgmq-dedup-id": "once"}'::jsonb) s
                                            FROM generate_series(1, 6) i) x)),
	'1', 'spread dedup: one id sent six times is one message (its sends go to one shard)');
is($router->safe_psql('postgres', q(SELECT pgmq.disable_priorities('mq_s')::text || pgmq.disable_priorities('mq_s')::text)),
	'truefalse', 'spread settings: disable_priorities on every part');
is($router->safe_psql('postgres', q(SELECT pgmq.apply_retention('mq_s'))), '0', 'spread settings: apply_retention adds up the parts');

# statistics: a spread queue is the sum of its parts; reset reaches them all
my @ssum = map { $_->safe_psql('postgres', q(SELECT coalesce(sum(sends), 0) FROM pgmq.stats WHERE queue_name = 'mq_s')) } @shards;
ok($ssum[0] > 0 && $ssum[1] > 0, "statistics: the spread queue's sends are counted on both shards (@ssum)");
is($router->safe_psql('postgres', q(SELECT sends FROM pgmq.stats WHERE queue_name = 'mq_s')), $ssum[0] + $ssum[1],
	'statistics: the router adds them up');
is($router->safe_psql('postgres', q(SELECT count(*) FROM pgmq.stats WHERE queue_name = 'mq_s')), '1',
	'statistics: one row for the spread queue');
my $info = q(SELECT max_tracked_queues || ',' || tracked_queues || ',' || untracked_events FROM pgmq.stats_info());
my @infos = map { [ split /,/, $_->safe_psql('postgres', $info) ] } @shards;
is($router->safe_psql('postgres', $info), join(',', map { $infos[0][$_] + $infos[1][$_] } 0 .. 2),
	'statistics: stats_info adds up the shards');
$router->safe_psql('postgres', q(SELECT pgmq.stats_reset('mq_s')));
is(join(',', map { $_->safe_psql('postgres', q(SELECT coalesce(sum(sends), 0) FROM pgmq.stats WHERE queue_name = 'mq_s')) } @shards),
	'0,0', 'statistics: stats_reset(spread queue) resets it on every shard');
is($router->safe_psql('postgres', qq(SELECT sends > 0 FROM pgmq.stats WHERE queue_name = '$m1')), 't',
	'statistics: ... and nothing else');
$router->safe_psql('postgres', q(SELECT pgmq.stats_reset()));
is(join(',', map { $_->safe_psql('postgres', q(SELECT coalesce(sum(sends), 0) FROM pgmq.stats)) } @shards),
	'0,0', 'statistics: stats_reset() resets every shard');
$router->safe_psql('postgres', qq(SELECT pgmq.drop_queue('$m0'); SELECT pgmq.drop_queue('$m1'); SELECT pgmq.drop_queue('mq_s');));

# ---------------------------------------------------------------------------
# The Python walkthrough through the router, placed and spread.
my $python = $ENV{PYTHON} // '/usr/bin/python3';
$router->safe_psql('postgres', q(SELECT pgmq_router.create_spread('demo_spread')));
for my $q ('demo_placed', 'demo_spread')
{
	my ($dout, $derr) = ('', '');
	local $ENV{PGHOST}     = $router->host;
	local $ENV{PGPORT}     = $router->port;
	local $ENV{PGDATABASE} = 'postgres';
	my $ok = IPC::Run::run([ $python, "$repo/examples/python/demo.py", '--messages', '1000', '--consumers', '3', '--queue', $q ],
		'>', \$dout, '2>', \$derr);
	ok($ok, "walkthrough $q: exit status 0") or diag("$dout\n$derr");
	like($dout, qr/^duplicates:\s+0$/m, "walkthrough $q: no duplicates");
	like($dout, qr/^lost:\s+0$/m,       "walkthrough $q: nothing lost");
	like($dout, qr/^OK: every message was consumed exactly once/m, "walkthrough $q: exactly once");
}

# ---------------------------------------------------------------------------
# A shard dies under load.
$router->safe_psql('postgres', q(SELECT pgmq_router.create_spread('load_q'); SELECT pgmq.create('payments')));
my $work = PostgreSQL::Test::Utils::tempdir();
my $n_sends = 200000;
open(my $fh, '>', "$work/producer.sql") or die;
print $fh "\\set VERBOSITY terse\n";
print $fh "SELECT 'S|$_|' || s FROM pgmq.send('load_q', '{\"n\": $_}') s;\n" for 1 .. $n_sends;
close $fh;
my $producer = IPC::Run::start(
	[
		'stdbuf', '-oL', 'psql', '-X', '-q', '-A', '-t', '-h', $router->host, '-p', $router->port,
		'-d', 'postgres', '-f', "$work/producer.sql"
	],
	'>', "$work/producer.out", '2>', "$work/producer.err");

sub acked
{
	my %a;
	open(my $f, '<', "$work/producer.out") or return %a;
	while (my $l = <$f>)
	{
		$a{$1} = $2 if $l =~ /^S\|(\d+)\|(\d+)$/;
	}
	close $f;
	return %a;
}

sub wait_for_acks
{
	my ($n) = @_;
	for (1 .. 600)
	{
		my %a = acked();
		return scalar(keys %a) if keys %a >= $n;
		usleep(100_000);
	}
	return scalar(keys %{ { acked() } });
}

my $before_kill = wait_for_acks(300);
ok($before_kill >= 300, "load: $before_kill sends acknowledged before the kill");
my $victim = $shards[1];
my $pm = $victim->{_pid};
my @kids;
{
	opendir(my $dh, '/proc') or die;
	for my $p (grep { /^\d+$/ } readdir($dh))
	{
		open(my $st, '<', "/proc/$p/stat") or next;
		my $line = <$st>;
		push @kids, $p if defined $line && $line =~ /\)\s+\S+\s+(\d+)/ && $1 == $pm;
	}
}
$victim->kill9;
kill 'KILL', @kids;
for (1 .. 100) { last unless grep { kill 0, $_ } @kids; usleep(100_000) }
my $at_kill = scalar(keys %{ { acked() } });

my $after = wait_for_acks($at_kill + 300);
ok($after >= $at_kill + 300, "load: spread sends continue with shard p1 down ($at_kill -> $after)");
my %a_down = acked();
my @late = grep { $_ > $at_kill + 20 } keys %a_down;
ok(@late > 100 && !(grep { $a_down{$_} % 1024 != 0 } @late), 'load: ... all on shard p0 while p1 is down');

($rc, $out, $err) = $router->psql('postgres', q(SELECT pgmq.send('payments', '{}')));
like($err, qr/ERROR:  shard p1 \(host=\S+ port=\d+ dbname=postgres connect_timeout=5\) of cluster pgmq_cluster is unavailable/,
	'placed queue on the dead shard: the error names the shard');
($rc, $out, $err) = $router->psql('postgres', q(\set VERBOSITY verbose
SELECT pgmq.send('payments', '{}')));
like($err, qr/ERROR:  08006:/, 'placed queue on the dead shard: SQLSTATE 08006');
is( $router->safe_psql('postgres',
		q(SELECT count(*) || ',' || bool_and(msg_id % 1024 = 0) FROM pgmq.read('load_q', 0, 50))),
	'50,true', 'spread read skips the dead shard');
($rc, $out, $err) = $router->psql('postgres', q(SELECT * FROM pgmq.list_queues()));
like($err, qr/ERROR:  shard p1 \(host=.*\) of cluster pgmq_cluster is unavailable/,
	'list_queues with a shard down: an error naming the shard (not a partial list)');
($rc, $out, $err) = $router->psql('postgres', q(SELECT * FROM pgmq.metrics('load_q')));
like($err, qr/WARNING:  metrics of spread queue "load_q" leave out shard p1/, 'spread metrics say which shard they leave out');
is( $router->safe_psql('postgres',
		q(SELECT count(*) || ',' || bool_and(msg_id % 1024 = 0) FROM pgmq.read_multi(ARRAY['load_q'], 0, 20))),
	'20,true', 'read_multi of a spread queue skips the dead shard');
($rc, $out, $err) = $router->psql('postgres', q(SELECT * FROM pgmq.read_multi(ARRAY['load_q', 'payments'], 0, 20)));
like($err, qr/ERROR:  shard p1 \(host=.*\) of cluster pgmq_cluster is unavailable/,
	'read_multi with a placed queue on the dead shard: an error naming the shard');
($rc, $out, $err) = $router->psql('postgres', q(SELECT * FROM pgmq.stats));
like($err, qr/ERROR:  shard p1 \(host=.*\) of cluster pgmq_cluster is unavailable/,
	'statistics with a shard down: an error naming the shard');

$victim->start;
# statements numbered above every one acknowledged so far start after the restart
my %a_up = acked();
my $up_n = (sort { $b <=> $a } keys %a_up)[0];
wait_for_acks(scalar(keys %a_up) + 300);
my %a_now = acked();
my @back = grep { $_ > $up_n && $a_now{$_} % 1024 == 1 } keys %a_now;
ok(@back > 0, 'load: sends reach shard p1 again after its restart');
$producer->kill_kill(grace => 0);
$producer->finish;
my %acked = acked();
my $errors = do { local $/; open(my $e, '<', "$work/producer.err") or die; <$e> };
unlike($errors, qr/ERROR:  (?!shard p1 .* became unavailable during the call)/, 'load: the producer saw no other error')
  or diag($errors);

# Drain through the router, then compare with the acknowledgements.
my %seen_n;
my %seen_id;
my %id_of_n;
my $dups = 0;
while (1)
{
	my $rows = $router->safe_psql('postgres', q(SELECT msg_id || '|' || (message->>'n') FROM pgmq.pop('load_q', 1000)));
	last if $rows eq '';
	for my $r (split /\n/, $rows)
	{
		my ($id, $n) = split /\|/, $r;
		$dups++ if $seen_n{$n}++ || $seen_id{$id}++;
		$id_of_n{$n} = $id;
	}
}
my @lost = grep { !exists $seen_n{$_} } keys %acked;
my @found = grep { exists $seen_n{$_} } keys %acked;
my @moved = grep { $id_of_n{$_} != $acked{$_} } @found;
is(scalar(@moved), 0, 'load: each message has the msg_id its send returned');
is($dups, 0, 'load: no message delivered twice');
is(scalar(@lost), 0, 'load: every acknowledged send is there after the restart (' . scalar(keys %acked) . ' acknowledged)');
my $unacked = scalar(keys %seen_n) - scalar(@found);
ok($unacked <= 2, "load: at most the in-doubt sends are extra ($unacked)");

done_testing();
