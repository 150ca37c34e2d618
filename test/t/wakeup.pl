# test/t/wakeup.pl: with pgmq in shared_preload_libraries, read_with_poll is
# woken by the commit of a send to its queue and by nothing else, picks up
# messages when their vt passes, honours cancel and statement_timeout, and
# falls back to polling when the waiter registry (pgmq.max_waiting_queues)
# is full, without leaking registrations of waiters that were cancelled,
# timed out or terminated.
#
# Every waiter would otherwise sleep up to a minute (poll_interval_ms 60000,
# max_poll_seconds 60): "woken" is checked as "returned well before that".
# Waiters run with client_min_messages = debug1, where each wait reports
# "woken by N commit(s)": the sum of N says how many commits woke it.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $SOON_MS = 30000;

sub new_node
{
	my ($name, $conf) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf',
		"shared_preload_libraries = 'pgmq'\nmax_prepared_transactions = 5\n$conf");
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION pgmq');
	return $node;
}

sub create_queues
{
	my ($node, @names) = @_;
	$node->safe_psql('postgres', "SELECT pgmq.create('$_')") for @names;
}

# Run read_with_poll on $queue in a session of its own; return once its
# backend sleeps.  Options: max_poll (60), interval (60000 ms), setup (SQL),
# fn (another *_with_poll function with the same leading arguments).
sub start_waiter
{
	my ($node, $queue, %o) = @_;
	my $max_poll = $o{max_poll} // 60;
	my $interval = $o{interval} // 60000;
	my $fn = $o{fn} // 'read_with_poll';
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	my $pid = $s->query_safe('SELECT pg_backend_pid()');
	$s->query_safe($o{setup}) if $o{setup};
	$s->query_until(
		qr/started/,
		"SET client_min_messages = debug1;\n\\echo started\n"
		  . "SELECT 'result: ' || coalesce(string_agg(msg_id || '/' || read_ct, ','), 'none')"
		  . " || ' after ' || (extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint || ' ms'"
		  . " FROM pgmq.$fn('$queue', 30, 1, $max_poll, $interval);\n"
		  . "\\echo finished\n");
	ok( $node->poll_query_until(
			'postgres',
			"SELECT wait_event_type = 'Extension' FROM pg_stat_activity WHERE pid = $pid"),
		"$fn on $queue is asleep");
	return { node => $node, s => $s, pid => $pid, t0 => time() };
}

# Is the waiter's backend still asleep in read_with_poll?
sub asleep
{
	my ($w) = @_;
	return $w->{node}->safe_psql('postgres',
		"SELECT state = 'active' AND wait_event_type = 'Extension' FROM pg_stat_activity"
		  . " WHERE pid = $w->{pid}");
}

# Wait for the waiter's statement to end, then end its session unless
# $keep.  Returns result ("id/read_ct", "none" or undef on error), ms
# (server-side duration), wall_ms, err (its stderr) and wakes (commits that
# woke it).
sub finish_waiter
{
	my ($w, $keep) = @_;
	my $out = $w->{s}->query_until(qr/finished/, '');
	my %r = (err => $w->{s}->{stderr}, wall_ms => (time() - $w->{t0}) * 1000, wakes => 0);
	$w->{s}->quit unless $keep;
	($r{result}, $r{ms}) = ($1, $2) if $out =~ /result: (\S+) after (\d+) ms/;
	$r{wakes} += $1 while $r{err} =~ /woken by (\d+) commit/g;
	note(sprintf('waiter %d: %s after %s ms (wall %.0f ms), woken by %d commit(s)',
			$w->{pid}, $r{result} // 'error', $r{ms} // '-', $r{wall_ms}, $r{wakes}));
	return \%r;
}

sub send_msg
{
	my ($node, $queue, $extra) = @_;
	$extra = defined $extra ? ", $extra" : '';
	return $node->safe_psql('postgres', "SELECT * FROM pgmq.send('$queue', '{}'$extra)");
}

my $node = new_node('preloaded', '');
create_queues($node,
	qw(commit rollback right_a right_b delayed inflight setvt prepared deadline cancel timeout
	  grouped grouped_rr));

# --- wake on commit
my $w = start_waiter($node, 'commit');
my $id = send_msg($node, 'commit');
my $r = finish_waiter($w);
is($r->{result}, "$id/1", 'commit: the waiter returns the message');
cmp_ok($r->{ms}, '<', $SOON_MS, 'commit: long before its poll interval would have let it');
is($r->{wakes}, 1, 'commit: woken by that one commit');

# --- the FIFO polling forms wait the same way
for my $fn (qw(read_grouped_with_poll read_grouped_rr_with_poll))
{
	my $queue = $fn eq 'read_grouped_with_poll' ? 'grouped' : 'grouped_rr';
	$w = start_waiter($node, $queue, fn => $fn);
	$id = send_msg($node, $queue, q('{"x-pgmq-group": "g1"}'::jsonb));
	$r = finish_waiter($w);
	is($r->{result}, "$id/1", "$fn: returns the message");
	cmp_ok($r->{ms}, '<', $SOON_MS, "$fn: woken by its commit");
	is($r->{wakes}, 1, "$fn: by that one commit");
}

# --- a rolled-back send wakes nobody
$w = start_waiter($node, 'rollback');
$node->safe_psql('postgres', "BEGIN; SELECT pgmq.send('rollback', '{}'); ROLLBACK;");
is(asleep($w), 't', 'rollback: the waiter sleeps on');
$id = send_msg($node, 'rollback');
$r = finish_waiter($w);
is($r->{result}, "$id/1", 'rollback: the next committed message is returned');
cmp_ok($r->{ms}, '<', $SOON_MS, 'rollback: woken by the commit that followed');
is($r->{wakes}, 1, 'rollback: the rolled-back send did not wake it');

# --- only the waiters of the queue sent to are woken
my $wa = start_waiter($node, 'right_a');
my $wb = start_waiter($node, 'right_b');
my $idb = send_msg($node, 'right_b');
$r = finish_waiter($wb);
is($r->{result}, "$idb/1", 'right queue: the waiter on right_b gets its message');
cmp_ok($r->{ms}, '<', $SOON_MS, 'right queue: at once');
is(asleep($wa), 't', 'right queue: the waiter on right_a sleeps on');
my $ida = send_msg($node, 'right_a');
$r = finish_waiter($wa);
is($r->{result}, "$ida/1", 'right queue: right_a gets its own message later');
is($r->{wakes}, 1, 'right queue: the send to right_b did not wake the right_a waiter');

# --- a delayed send: woken at commit, returns when the delay has passed
$w = start_waiter($node, 'delayed');
$id = send_msg($node, 'delayed', 2);
$r = finish_waiter($w);
is($r->{result}, "$id/1", 'delayed: the waiter returns the delayed message');
cmp_ok($r->{ms}, '>=', 1900, 'delayed: not before its delay');
cmp_ok($r->{ms}, '<', $SOON_MS, 'delayed: as soon as it is visible');

# --- an in-flight message whose vt expires while we wait, with no send at all
$id = send_msg($node, 'inflight');
$node->safe_psql('postgres', "SELECT * FROM pgmq.read('inflight', 2, 1)");
$w = start_waiter($node, 'inflight');
$r = finish_waiter($w);
is($r->{result}, "$id/2", 'vt expiry: the message comes back when its vt passes');
cmp_ok($r->{ms}, '<', $SOON_MS, 'vt expiry: at that moment, not at the deadline');
is($r->{wakes}, 0, 'vt expiry: without any commit waking it');

# --- set_vt making a message visible wakes waiters
$id = send_msg($node, 'setvt');
$node->safe_psql('postgres', "SELECT * FROM pgmq.read('setvt', 300, 1)");
$w = start_waiter($node, 'setvt');
$node->safe_psql('postgres', "SELECT * FROM pgmq.set_vt('setvt', $id, 0)");
$r = finish_waiter($w);
is($r->{result}, "$id/2", 'set_vt: the message made visible is returned');
cmp_ok($r->{ms}, '<', $SOON_MS, 'set_vt: at once');

# --- a prepared send wakes at COMMIT PREPARED, not at PREPARE
$w = start_waiter($node, 'prepared');
$id = $node->safe_psql('postgres',
	"BEGIN; SELECT * FROM pgmq.send('prepared', '{}'); PREPARE TRANSACTION 'pgmq_wakeup';");
is(asleep($w), 't', 'prepared: PREPARE TRANSACTION does not end the wait');
$node->safe_psql('postgres', "COMMIT PREPARED 'pgmq_wakeup'");
$r = finish_waiter($w);
is($r->{result}, "$id/1", 'prepared: COMMIT PREPARED wakes the waiter');
cmp_ok($r->{ms}, '<', $SOON_MS, 'prepared: at once');

# --- max_poll_seconds ends the wait although the poll interval is longer
$w = start_waiter($node, 'deadline', max_poll => 1);
$r = finish_waiter($w);
is($r->{result}, 'none', 'deadline: nothing returned');
cmp_ok($r->{ms}, '>=', 990, 'deadline: waited max_poll_seconds');
cmp_ok($r->{ms}, '<', 10000, 'deadline: and not the poll interval');

# --- query cancel and statement_timeout end the wait
$w = start_waiter($node, 'cancel');
$node->safe_psql('postgres', "SELECT pg_cancel_backend($w->{pid})");
$r = finish_waiter($w);
like($r->{err}, qr/canceling statement due to user request/, 'cancel: the wait is cancelled');
cmp_ok($r->{wall_ms}, '<', $SOON_MS, 'cancel: promptly');

$w = start_waiter($node, 'timeout', setup => "SET statement_timeout = '2s'");
$r = finish_waiter($w);
like($r->{err}, qr/canceling statement due to statement timeout/,
	'statement_timeout: the wait is cancelled');
cmp_ok($r->{wall_ms}, '<', $SOON_MS, 'statement_timeout: promptly');

$node->stop;

# --- a registry with room for one queue
my $full = new_node('full', 'pgmq.max_waiting_queues = 1');
create_queues($full, qw(f1 f2));

my $w1 = start_waiter($full, 'f1');
my $w2 = start_waiter($full, 'f1');
my $w3 = start_waiter($full, 'f2', interval => 200);
my $id3 = send_msg($full, 'f2');
$r = finish_waiter($w3);
is($r->{result}, "$id3/1", 'full: a waiter on a second queue still gets its message');
like($r->{err}, qr/no room to wait on queue "f2", polling/, 'full: by polling');
ok($full->log_contains(qr/no room to register waiters on more than 1 queues/),
	'full: the server log says so');
my @ids = (send_msg($full, 'f1'), send_msg($full, 'f1'));
my ($r1, $r2) = (finish_waiter($w1), finish_waiter($w2));
is(join(',', sort($r1->{result}, $r2->{result})),
	join(',', sort("$ids[0]/1", "$ids[1]/1")),
	'full: two waiters on the registered queue get one message each');
cmp_ok($r1->{ms}, '<', $SOON_MS, 'full: the first was woken');
cmp_ok($r2->{ms}, '<', $SOON_MS, 'full: the second was woken');

# A waiter that ends by cancel, timeout or termination must free its entry
# (its session stays connected after a cancel or timeout): the next waiter,
# on the other queue, then finds room and is woken.
my %end = (
	cancel => sub { $full->safe_psql('postgres', "SELECT pg_cancel_backend($_[0]{pid})") },
	statement_timeout => sub { },
	terminate => sub { $full->safe_psql('postgres', "SELECT pg_terminate_backend($_[0]{pid})") },
);
for my $how (qw(cancel statement_timeout terminate))
{
	$w = start_waiter($full, 'f1',
		setup => $how eq 'statement_timeout' ? "SET statement_timeout = '2s'" : undef);
	$end{$how}->($w);
	ok( $full->poll_query_until(
			'postgres',
			"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $w->{pid} AND state = 'active'"),
		"$how: the waiter's statement has ended");
	if ($how eq 'terminate')
	{
		# psql has exited with its connection: just reap it
		eval { $w->{s}->{run}->finish };
	}
	else
	{
		finish_waiter($w, 1);
	}
	my $next = start_waiter($full, 'f2');
	$id = send_msg($full, 'f2');
	$r = finish_waiter($next);
	is($r->{result}, "$id/1", "$how: the next waiter gets its message");
	unlike($r->{err}, qr/no room/, "$how: the ended waiter left no registration behind");
	cmp_ok($r->{ms}, '<', $SOON_MS, "$how: and is woken at once");
	$w->{s}->quit unless $how eq 'terminate';
}

$full->stop;
done_testing();
