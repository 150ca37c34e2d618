# test/t/wakeup_grouped_head.pl: read_grouped_head_with_poll waits like the
# other *_with_poll forms (wait.c).  Preloaded: the commit of a send to its
# queue wakes it at once; a message behind an in-flight head wakes it but is
# not returned (the head of its group is), so it sleeps on until a head it
# may take arrives.  Not preloaded: it finds a message by polling.
#
# Waiters use poll_interval_ms 60000 and max_poll_seconds 60: "woken" is
# checked as "returned well before that".
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $SOON_MS = 30000;

# Run read_grouped_head_with_poll(queue, 30, 5, 60, $interval) in a session
# of its own; return once its backend sleeps.
sub start_waiter
{
	my ($node, $queue, $interval) = @_;
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	my $pid = $s->query_safe('SELECT pg_backend_pid()');
	$s->query_until(
		qr/started/,
		"SET client_min_messages = debug1;\n\\echo started\n"
		  . "SELECT 'result: ' || coalesce(string_agg(msg_id || '/' || read_ct, ','), 'none')"
		  . " || ' after ' || (extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint || ' ms'"
		  . " FROM pgmq.read_grouped_head_with_poll('$queue', 30, 5, 60, $interval);\n"
		  . "\\echo finished\n");
	ok( $node->poll_query_until(
			'postgres',
			"SELECT wait_event_type = 'Extension' FROM pg_stat_activity WHERE pid = $pid"),
		"waiter on $queue is asleep");
	return { node => $node, s => $s, pid => $pid, t0 => time() };
}

sub asleep
{
	my ($w) = @_;
	return $w->{node}->safe_psql('postgres',
		"SELECT state = 'active' AND wait_event_type = 'Extension' FROM pg_stat_activity"
		  . " WHERE pid = $w->{pid}");
}

sub finish_waiter
{
	my ($w) = @_;
	my $out = $w->{s}->query_until(qr/finished/, '');
	my %r = (err => $w->{s}->{stderr}, wall_ms => (time() - $w->{t0}) * 1000, wakes => 0);
	$w->{s}->quit;
	($r{result}, $r{ms}) = ($1, $2) if $out =~ /result: (\S+) after (\d+) ms/;
	$r{wakes} += $1 while $r{err} =~ /woken by (\d+) commit/g;
	note(sprintf('waiter %d: %s after %s ms (wall %.0f ms), woken by %d commit(s)',
			$w->{pid}, $r{result} // 'error', $r{ms} // '-', $r{wall_ms}, $r{wakes}));
	return \%r;
}

sub send_grp
{
	my ($node, $queue, $grp) = @_;
	return $node->safe_psql('postgres',
		"SELECT * FROM pgmq.send('$queue', '{}', '{\"x-pgmq-group\": \"$grp\"}'::jsonb)");
}

# --- preloaded
my $node = PostgreSQL::Test::Cluster->new('preloaded');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pgmq'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pgmq');
$node->safe_psql('postgres', "SELECT pgmq.create('$_')") for qw(head_commit head_behind);

my $w = start_waiter($node, 'head_commit', 60000);
my $id = send_grp($node, 'head_commit', 'g1');
my $r = finish_waiter($w);
is($r->{result}, "$id/1", 'preloaded: the waiter returns the head that was sent');
cmp_ok($r->{ms}, '<', $SOON_MS, 'preloaded: long before its poll interval');
is($r->{wakes}, 1, 'preloaded: woken by that one commit');

# group g1's head is in flight: a later g1 message wakes the waiter, which
# takes nothing and sleeps on; a g2 head then is returned
my $head = send_grp($node, 'head_behind', 'g1');
$node->safe_psql('postgres', "SELECT * FROM pgmq.read_grouped_head('head_behind', 3600, 1)");
$w = start_waiter($node, 'head_behind', 60000);
send_grp($node, 'head_behind', 'g1');
ok($node->poll_query_until('postgres',
		"SELECT $w->{pid} IN (SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Extension')"),
	'behind an in-flight head: the waiter is asleep again');
is(asleep($w), 't', 'behind an in-flight head: nothing returned');
$id = send_grp($node, 'head_behind', 'g2');
$r = finish_waiter($w);
is($r->{result}, "$id/1", 'the head of another group is returned');
cmp_ok($r->{ms}, '<', $SOON_MS, 'at once');
is($r->{wakes}, 2, 'woken by both commits');
$node->stop;

# --- not preloaded: polling
my $poll = PostgreSQL::Test::Cluster->new('polling');
$poll->init;
$poll->start;
$poll->safe_psql('postgres', 'CREATE EXTENSION pgmq');
$poll->safe_psql('postgres', "SELECT pgmq.create('head_poll')");
$w = start_waiter($poll, 'head_poll', 100);
$id = send_grp($poll, 'head_poll', 'g1');
$r = finish_waiter($w);
is($r->{result}, "$id/1", 'polling: the head sent while waiting is returned');
cmp_ok($r->{ms}, '<', $SOON_MS, 'polling: long before max_poll_seconds');
unlike($r->{err}, qr/woken by/, 'polling: found by a poll, not woken');
$poll->stop;

done_testing();
