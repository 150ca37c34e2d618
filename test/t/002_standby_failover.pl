# test/t/002_standby_failover.pl: a synchronous streaming standby.
#
#  - messages sent on the primary are readable in the standby's tables;
#  - the read-only functions (metrics, metrics_all, list_queues,
#    validate_queue_name, format_table_name) work on the hot standby;
#  - every function that writes fails there with a clear error;
#  - the primary is killed (SIGKILL) while a client sends one message per
#    transaction; the standby is promoted and has every message whose send
#    was acknowledged, and the queue works as before (send, read, archive,
#    pop) with new ids above the old ones.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq(
shared_preload_libraries = 'pgmq'
log_min_messages = warning
));
$primary->start;
$primary->safe_psql(
	'postgres', q(
CREATE EXTENSION pgmq;
SELECT pgmq.create('rep');
SELECT pgmq.create_unlogged('rep_ul');
SELECT pgmq.send_batch('rep', ARRAY(SELECT jsonb_build_object('n', i) FROM generate_series(1, 100) i));
SELECT pgmq.archive('rep', ARRAY[1, 2, 3]::bigint[]);
SELECT pgmq.send('rep_ul', '{"unlogged": true}');
));
$primary->backup('base');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;
# Synchronous: a commit on the primary returns once the standby has it.
$primary->append_conf('postgresql.conf', "synchronous_standby_names = 'standby'");
$primary->reload;
$primary->poll_query_until('postgres',
	"SELECT sync_state = 'sync' FROM pg_stat_replication WHERE application_name = 'standby'")
  or die "standby did not become synchronous";

$primary->safe_psql('postgres',
	q(SELECT pgmq.send_batch('rep', ARRAY(SELECT jsonb_build_object('n', i) FROM generate_series(101, 150) i))));
$primary->wait_for_catchup($standby, 'replay');

# Reads of the tables on the standby.
my $q = q(SELECT count(*) || '|' || min(msg_id) || '|' || max(msg_id) || '|' || sum((message->>'n')::int)
            FROM pgmq.q_rep);
is($standby->safe_psql('postgres', $q), $primary->safe_psql('postgres', $q),
	'standby: q_ table has what the primary has');
is($standby->safe_psql('postgres', $q), '147|4|150|11319', 'standby: q_ contents');
is($standby->safe_psql('postgres', 'SELECT string_agg(msg_id::text, \',\' ORDER BY msg_id) FROM pgmq.a_rep'),
	'1,2,3', 'standby: a_ table has the archived messages');

# Read-only functions on the hot standby.
is( $standby->safe_psql(
		'postgres',
		q(SELECT queue_name || '|' || queue_length || '|' || queue_visible_length || '|' || (total_messages >= 150)
            FROM pgmq.metrics('rep'))),
	'rep|147|147|true',
	'standby: metrics works');
is( $standby->safe_psql('postgres',
		q(SELECT string_agg(queue_name || ':' || queue_length, ',' ORDER BY queue_name) FROM pgmq.metrics_all())),
	'rep:147',
	'standby: metrics_all works (the unlogged queue, unreadable during recovery, is left out)');
is( $standby->safe_psql('postgres',
		q(SELECT string_agg(queue_name || ':' || is_unlogged, ',' ORDER BY queue_name) FROM pgmq.list_queues())),
	'rep:false,rep_ul:true',
	'standby: list_queues works and lists every queue');
is( $standby->safe_psql('postgres',
		q(SELECT pgmq.validate_queue_name('rep'); SELECT pgmq.format_table_name('rep', 'q'))),
	"\nq_rep", 'standby: name helpers work');

# Writes on the standby: a clear error, nothing else.
my @writes = (
	[ 'send',           q(SELECT pgmq.send('rep', '{}')) ],
	[ 'send_batch',     q(SELECT pgmq.send_batch('rep', ARRAY['{}']::jsonb[])) ],
	[ 'read',           q(SELECT pgmq.read('rep', 30, 1)) ],
	[ 'read_with_poll', q(SELECT pgmq.read_with_poll('rep', 30, 1, 1)) ],
	[ 'pop',            q(SELECT pgmq.pop('rep')) ],
	[ 'set_vt',         q(SELECT pgmq.set_vt('rep', 10, 30)) ],
	[ 'delete',         q(SELECT pgmq.delete('rep', 10::bigint)) ],
	[ 'archive',        q(SELECT pgmq.archive('rep', 10::bigint)) ],
	[ 'purge_queue',    q(SELECT pgmq.purge_queue('rep')) ],
	[ 'create',         q(SELECT pgmq.create('rep_new')) ],
	[ 'create_unlogged', q(SELECT pgmq.create_unlogged('rep_new')) ],
	[ 'drop_queue',     q(SELECT pgmq.drop_queue('rep')) ],);
for my $w (@writes)
{
	my ($name, $sql) = @$w;
	my ($ret, $out, $err) = $standby->psql('postgres', $sql);
	isnt($ret, 0, "standby: $name fails");
	like($err, qr/ERROR:  cannot (change|create|drop) queue "rep(_new)?" in a read-only transaction/,
		"standby: $name gives a clear error");
	note("$name on the standby: $err");
}
is($standby->safe_psql('postgres', $q), '147|4|150|11319', 'standby: nothing changed');

# Failover: a client sends one message per transaction; the primary is
# killed while it runs; every acknowledged send must be on the standby.
my $script = join('', map { "SELECT 'S|' || s FROM pgmq.send('rep', jsonb_build_object('f', $_)) s;\n" } 1 .. 20000);
my $file = $primary->basedir . '/failover.sql';
open(my $fh, '>', $file) or die;
print $fh $script;
close $fh;
my $out = $primary->basedir . '/failover.out';
my $client = IPC::Run::start(
	[ 'stdbuf', '-oL', 'psql', '-X', '-q', '-A', '-t', '-h', $primary->host, '-p', $primary->port,
	  '-d', 'postgres', '-f', $file ],
	'>', $out, '2>', $primary->basedir . '/failover.err');
usleep(1_500_000);
$primary->kill9;
usleep(300_000);
$client->kill_kill(grace => 0);
$client->finish;

my @acked;
open($fh, '<', $out) or die;
while (<$fh>) { push @acked, $1 if /^S\|(\d+)$/ }
close $fh;
cmp_ok(scalar(@acked), '>', 0, 'failover: the client got acknowledgements before the kill');

$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()') or die 'promotion failed';

my %on_new = map { $_ => 1 } split /\n/,
  $standby->safe_psql('postgres', q(SELECT msg_id FROM pgmq.q_rep WHERE message ? 'f'));
my @missing = grep { !$on_new{$_} } @acked;
is(scalar(@missing), 0, 'failover: every acknowledged send is on the promoted standby')
  or diag("missing: @missing[0 .. ($#missing < 9 ? $#missing : 9)]");
my $found = scalar(keys %on_new);
cmp_ok($found, '>=', scalar(@acked), 'failover: found at least what was acknowledged');
diag(sprintf('failover: %d sends acknowledged by the primary before SIGKILL, %d found on the promoted standby '
	  . '(more found than acknowledged = sends committed whose answer the client never got)',
	scalar(@acked), $found));

# The queue works as before on the new primary.
my $max_before = $standby->safe_psql('postgres',
	'SELECT greatest((SELECT max(msg_id) FROM pgmq.q_rep), (SELECT max(msg_id) FROM pgmq.a_rep))');
my $new_id = $standby->safe_psql('postgres', q(SELECT * FROM pgmq.send('rep', '{"after": "promotion"}')));
cmp_ok($new_id, '>', $max_before, "new primary: send gets a new id ($new_id > $max_before)");
is( $standby->safe_psql(
		'postgres', q(
SELECT count(*) FROM pgmq.read('rep', 30, 5);
SELECT count(*) FROM pgmq.archive('rep', ARRAY(SELECT msg_id FROM pgmq.q_rep WHERE read_ct = 1));
SELECT count(*) FROM pgmq.pop('rep', 2);
SELECT message FROM pgmq.read('rep', 30, 1, '{"after": "promotion"}');
SELECT count(*) FROM pgmq.a_rep;
SELECT pgmq.create('rep_after');
SELECT pgmq.send('rep_after', '{}');
SELECT queue_length FROM pgmq.metrics('rep_after');
)),
	"5\n5\n2\n{\"after\": \"promotion\"}\n8\n\n1\n1",
	'new primary: read, archive, pop, conditional read, create and metrics work');
is( $standby->safe_psql('postgres', q(SELECT count(*) FROM pgmq.q_rep_ul)),
	'0', 'new primary: the unlogged queue is empty');
is( $standby->safe_psql('postgres',
		q(SELECT count(*) FROM pgmq.send('rep_ul', '{}'); SELECT count(*) FROM pgmq.pop('rep_ul'))),
	"1\n1", 'new primary: the unlogged queue is usable');

$standby->stop;
done_testing();
