# test/t/wakeup_polling.pl: without pgmq in shared_preload_libraries,
# read_with_poll still works, by polling every poll_interval_ms: it returns
# a message sent while it waits and a delayed message once visible, honours
# query cancel, and nothing ever wakes it early (there is no registry: the
# pgmq.max_waiting_queues setting does not even exist).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = PostgreSQL::Test::Cluster->new('polling');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pgmq');
$node->safe_psql('postgres', "SELECT pgmq.create('$_')") for qw(sent delayed cancel);

# Run read_with_poll(queue, 30, 1, 60, $interval) in its own session;
# return once its backend sleeps.
sub start_waiter
{
	my ($queue, $interval) = @_;
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	my $pid = $s->query_safe('SELECT pg_backend_pid()');
	$s->query_until(
		qr/started/,
		"SET client_min_messages = debug1;\n\\echo started\n"
		  . "SELECT 'result: ' || coalesce(string_agg(msg_id || '/' || read_ct, ','), 'none')"
		  . " || ' after ' || (extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint || ' ms'"
		  . " FROM pgmq.read_with_poll('$queue', 30, 1, 60, $interval);\n"
		  . "\\echo finished\n");
	ok( $node->poll_query_until(
			'postgres',
			"SELECT wait_event_type = 'Extension' FROM pg_stat_activity WHERE pid = $pid"),
		"waiter on $queue is asleep");
	return { s => $s, pid => $pid, t0 => time() };
}

sub finish_waiter
{
	my ($w) = @_;
	my $out = $w->{s}->query_until(qr/finished/, '');
	my %r = (err => $w->{s}->{stderr}, wall_ms => (time() - $w->{t0}) * 1000);
	$w->{s}->quit;
	($r{result}, $r{ms}) = ($1, $2) if $out =~ /result: (\S+) after (\d+) ms/;
	note(sprintf('waiter %d: %s after %s ms (wall %.0f ms)',
			$w->{pid}, $r{result} // 'error', $r{ms} // '-', $r{wall_ms}));
	return \%r;
}

my ($ret, $stdout, $stderr) =
  $node->psql('postgres', 'SHOW pgmq.max_waiting_queues');
like($stderr, qr/unrecognized configuration parameter/,
	'not preloaded: there is no waiter registry setting');

# A message sent while waiting is found by the next poll.
my $w = start_waiter('sent', 100);
my $id = $node->safe_psql('postgres', "SELECT * FROM pgmq.send('sent', '{}')");
my $r = finish_waiter($w);
is($r->{result}, "$id/1", 'polling: the message sent while waiting is returned');
cmp_ok($r->{ms}, '<', 30000, 'polling: long before max_poll_seconds');
unlike($r->{err}, qr/woken by/, 'polling: found by a poll, not woken');

# A delayed message is found once its delay has passed.
$id = $node->safe_psql('postgres', "SELECT * FROM pgmq.send('delayed', '{}', 1)");
$w = start_waiter('delayed', 100);
$r = finish_waiter($w);
is($r->{result}, "$id/1", 'polling: the delayed message is returned once visible');
cmp_ok($r->{ms}, '<', 30000, 'polling: long before max_poll_seconds');

# Query cancel ends a polling wait.
$w = start_waiter('cancel', 60000);
$node->safe_psql('postgres', "SELECT pg_cancel_backend($w->{pid})");
$r = finish_waiter($w);
like($r->{err}, qr/canceling statement due to user request/, 'polling: cancel ends the wait');
cmp_ok($r->{wall_ms}, '<', 30000, 'polling: promptly');

$node->stop;
done_testing();
