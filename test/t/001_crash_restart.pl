# test/t/001_crash_restart.pl: crash the server under load and check every
# acknowledged operation against what survives.
#
# Each round starts producers (send, send_batch) and consumers (read+archive,
# read+delete, pop) as psql clients running long scripts, lets them work,
# then kills the postmaster with SIGKILL (odd rounds: the postmaster alone,
# its backends finish what they are doing; even rounds: every server process
# at once).  Each client prints one line per operation after it committed
# (its acknowledgement ledger).  Deletes and pops also log what they removed
# in a table, in the same transaction, so a committed but unacknowledged
# consume is accounted for.  After the restart:
#   - every acknowledged send is in exactly one of q_, a_ and the consume log;
#   - no acknowledged delete or pop is in q_ or a_, every acknowledged
#     archive is in a_ and not in q_;
#   - no msg_id and no message appears twice anywhere, and a new send gets
#     an id above every id seen so far;
#   - amcheck (bt_index_check with heapallindexed, verify_heapam) is clean.
# Then an unlogged queue: empty after the crash, meta row intact, ids go on
# (no reuse of ids still in its logged archive), fully usable.
#
# PGMQ_CRASH_ROUNDS (default 3) sets the number of rounds; PGMQ_CRASH_LOAD_MS
# (default 2500) how long the load runs before each kill.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);

my $rounds  = $ENV{PGMQ_CRASH_ROUNDS}  // 3;
my $load_ms = $ENV{PGMQ_CRASH_LOAD_MS} // 2000;
my $ops_per_client = 20000;    # more than a client can do before the kill

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf(
	'postgresql.conf', qq(
shared_preload_libraries = 'pgmq'
max_connections = 30
log_min_messages = warning
));
$node->start;
$node->safe_psql(
	'postgres', q(
CREATE EXTENSION pgmq;
CREATE EXTENSION amcheck;
SELECT pgmq.create('crash');
CREATE TABLE consumed_log (op text NOT NULL, msg_id bigint NOT NULL, k text);
));

my $work = PostgreSQL::Test::Utils::tempdir;

# One psql script per client kind; $r is the round, so keys are unique.
sub client_script
{
	my ($kind, $r, $n) = @_;
	my $s = '';
	for my $i (1 .. $n)
	{
		if ($kind eq 'send')
		{
			$s .= "SELECT 'S|' || s || '|s$r-$i' FROM pgmq.send('crash', "
			  . "jsonb_build_object('k', 's$r-$i')) s;\n";
		}
		elsif ($kind eq 'batch')
		{
			my $msgs = join(', ',
				map { "jsonb_build_object('k', 'b$r-$i-$_')" } (1 .. 5));
			$s .= "SELECT 'S|' || s.id || '|b$r-$i-' || s.n FROM pgmq.send_batch('crash', "
			  . "ARRAY[$msgs]) WITH ORDINALITY AS s(id, n);\n";
		}
		elsif ($kind eq 'archive')
		{
			$s .= "SELECT coalesce((SELECT msg_id FROM pgmq.read('crash', 30, 1)), 0) AS rid \\gset\n"
			  . "SELECT 'A|' || a FROM pgmq.archive('crash', ARRAY[:rid]::bigint[]) a;\n";
		}
		elsif ($kind eq 'delete')
		{
			$s .= "SELECT coalesce((SELECT msg_id FROM pgmq.read('crash', 30, 1)), 0) AS rid \\gset\n"
			  . "WITH del AS (SELECT x AS id FROM pgmq.delete('crash', ARRAY[:rid]::bigint[]) x) "
			  . "INSERT INTO consumed_log SELECT 'D', id, NULL FROM del RETURNING 'D|' || msg_id;\n";
		}
		elsif ($kind eq 'pop')
		{
			$s .= "WITH p AS (SELECT msg_id, message->>'k' AS k FROM pgmq.pop('crash', 3)) "
			  . "INSERT INTO consumed_log SELECT 'P', msg_id, k FROM p "
			  . "RETURNING 'P|' || msg_id || '|' || k;\n";
		}
	}
	return $s;
}

my @kinds = qw(send send batch archive delete pop);

# Ledger over all rounds.
my %sent;        # msg_id => key, acknowledged sends
my %consumed;    # msg_id => 'A' | 'D' | 'P', acknowledged consumes
my $max_id_seen = 0;
my @summary;

sub note_line
{
	my ($line) = @_;
	my @f = split /\|/, $line;
	return if @f < 2;
	my $id = $f[1];
	$max_id_seen = $id if $id > $max_id_seen;
	if ($f[0] eq 'S')
	{
		die "msg_id $id acknowledged for two sends" if exists $sent{$id};
		$sent{$id} = $f[2];
	}
	elsif ($f[0] =~ /^[ADP]$/)
	{
		die "msg_id $id acknowledged consumed twice ($consumed{$id} and $f[0])"
		  if exists $consumed{$id};
		$consumed{$id} = $f[0];
	}
}

# Processes the postmaster has now (its children), by pid.
sub server_children
{
	my ($pm) = @_;
	my @kids;
	opendir(my $dh, '/proc') or die;
	for my $p (grep { /^\d+$/ } readdir($dh))
	{
		open(my $fh, '<', "/proc/$p/stat") or next;
		my $stat = <$fh>;
		close $fh;
		next unless defined $stat && $stat =~ /\)\s+\S+\s+(\d+)/;
		push @kids, $p if $1 == $pm;
	}
	closedir $dh;
	return @kids;
}

# Kill the postmaster with SIGKILL (and every other server process too when
# $everyone), stop the given client harnesses, and wait until no process of
# the old server is left, so that the next start does crash recovery.
sub crash
{
	my ($everyone, @clients) = @_;
	my $pm = $node->{_pid};
	my @kids = server_children($pm);
	$node->kill9;
	kill 'KILL', @kids if $everyone;
	usleep(300_000);
	# Backends of a dead postmaster keep serving busy clients: stop the
	# clients (the processes this test started) so the backends exit.
	$_->kill_kill(grace => 0) for @clients;
	$_->finish for @clients;
	for (1 .. 600)
	{
		last unless grep { kill 0, $_ } @kids;
		usleep(100_000);
	}
	ok(!(grep { kill 0, $_ } @kids), 'old server processes gone');
}

for my $round (1 .. $rounds)
{
	my $everyone = ($round % 2 == 0);
	my (@clients, @outs);
	for my $c (0 .. $#kinds)
	{
		my $file = "$work/r$round-c$c.sql";
		open(my $fh, '>', $file) or die;
		print $fh client_script($kinds[$c], "$round.$c", $ops_per_client);
		close $fh;
		my $out = "$work/r$round-c$c.out";
		push @outs, $out;
		# stdbuf: psql's output is line-buffered, so a line printed (= a
		# committed, acknowledged operation) is in the file even if psql is
		# killed later.
		push @clients,
		  IPC::Run::start(
			[
				'stdbuf', '-oL', 'psql', '-X', '-q', '-A', '-t',
				'-h', $node->host, '-p', $node->port, '-d', 'postgres',
				'-f', $file
			],
			'>', $out, '2>', "$work/r$round-c$c.err");
	}
	usleep($load_ms * 1000);

	crash($everyone, @clients);

	my ($acks_send, $acks_consume) = (0, 0);
	for my $out (@outs)
	{
		open(my $fh, '<', $out) or die;
		while (my $line = <$fh>)
		{
			chomp $line;
			next if $line eq '';
			note_line($line);
			if   ($line =~ /^S\|/) { $acks_send++ }
			else                   { $acks_consume++ }
		}
		close $fh;
	}

	$node->start;

	# What survived.
	my %where;    # msg_id => [places]
	my %key_seen; # key => count
	my $rows = $node->safe_psql(
		'postgres', q(
SELECT 'q', msg_id, message->>'k' FROM pgmq.q_crash
UNION ALL SELECT 'a', msg_id, message->>'k' FROM pgmq.a_crash
UNION ALL SELECT 'l', msg_id, k FROM consumed_log));
	my ($in_q, $in_a, $in_log) = (0, 0, 0);
	for my $row (split /\n/, $rows)
	{
		my ($t, $id, $k) = split /\|/, $row, 3;
		push @{ $where{$id} }, $t;
		$key_seen{$k}++ if defined $k && $k ne '';
		$in_q++   if $t eq 'q';
		$in_a++   if $t eq 'a';
		$in_log++ if $t eq 'l';
		$max_id_seen = $id if $id > $max_id_seen;
	}

	my @problems;
	for my $id (sort { $a <=> $b } keys %sent)
	{
		my @w = @{ $where{$id} // [] };
		my $c = $consumed{$id} // '';
		if (@w != 1)
		{
			push @problems, "acked send $id ($sent{$id}) found " . scalar(@w) . " times (@w)";
		}
		elsif ($c eq 'A' && $w[0] ne 'a')
		{
			push @problems, "acked archive $id is in $w[0], not a_";
		}
		elsif (($c eq 'D' || $c eq 'P') && $w[0] ne 'l')
		{
			push @problems, "acked delete/pop $id reappeared in $w[0]";
		}
	}
	for my $id (keys %consumed)
	{
		my @w = @{ $where{$id} // [] };
		push @problems, "acked consume $id ($consumed{$id}) reappeared in q_"
		  if grep { $_ eq 'q' } @w;
	}
	for my $id (keys %where)
	{
		push @problems, "msg_id $id appears " . scalar(@{ $where{$id} }) . " times"
		  if @{ $where{$id} } > 1;
	}
	for my $k (keys %key_seen)
	{
		push @problems, "message $k appears $key_seen{$k} times" if $key_seen{$k} > 1;
	}
	is(join("\n", @problems[0 .. ($#problems < 9 ? $#problems : 9)]), '',
		"round $round: ledger matches the tables");

	my $corrupt = $node->safe_psql(
		'postgres', q(
SELECT (SELECT count(*) FROM (SELECT bt_index_check(c.oid, true)
          FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          JOIN pg_am am ON am.oid = c.relam AND am.amname = 'btree'
         WHERE c.relnamespace = 'pgmq'::regnamespace) x)::text || '|' ||
       (SELECT count(*) FROM verify_heapam('pgmq.q_crash')) + (SELECT count(*) FROM verify_heapam('pgmq.a_crash'))
         + (SELECT count(*) FROM verify_heapam('pgmq.meta'))));
	my ($checked, $heap_errors) = split /\|/, $corrupt;
	ok($checked >= 4, "round $round: amcheck ran on $checked btree indexes");
	is($heap_errors, '0', "round $round: verify_heapam finds no corruption");

	my $next = $node->safe_psql('postgres', q(SELECT * FROM pgmq.send('crash', '{"k": "probe"}')));
	ok($next > $max_id_seen, "round $round: new msg_id $next is above every id seen ($max_id_seen)");
	$node->safe_psql('postgres', "SELECT pgmq.delete('crash', ${next}::bigint)");

	my $line = sprintf(
		"round %d (%s): acknowledged %d sends, %d consumes; "
		  . "total acked sends %d, found %d (q_ %d, a_ %d, consumed %d)",
		$round, $everyone ? 'SIGKILL to every server process' : 'SIGKILL to the postmaster',
		$acks_send, $acks_consume, scalar(keys %sent),
		scalar(grep { @{ $where{$_} // [] } == 1 } keys %sent), $in_q, $in_a, $in_log);
	push @summary, $line;
	cmp_ok($acks_send, '>', 0, "round $round: producers got acknowledgements");
	cmp_ok($acks_consume, '>', 0, "round $round: consumers got acknowledgements");
}

# Unlogged queue: empty after a crash, meta row intact, ids not reused.
$node->safe_psql(
	'postgres', q(
SELECT pgmq.create_unlogged('crash_ul');
SELECT pgmq.send_batch('crash_ul', ARRAY(SELECT jsonb_build_object('n', i) FROM generate_series(1, 100) i));
SELECT pgmq.archive('crash_ul', ARRAY(SELECT generate_series(1, 10))::bigint[]);
CHECKPOINT;
SELECT pgmq.send_batch('crash_ul', ARRAY(SELECT jsonb_build_object('n', i) FROM generate_series(101, 150) i));
));
crash(0);
$node->start;
is( $node->safe_psql(
		'postgres', q(
SELECT (SELECT count(*) FROM pgmq.q_crash_ul) || '|' || (SELECT count(*) FROM pgmq.a_crash_ul) || '|' ||
       (SELECT is_unlogged FROM pgmq.meta WHERE queue_name = 'crash_ul') || '|' ||
       (SELECT queue_length FROM pgmq.metrics('crash_ul')))),
	'0|10|true|0',
	'unlogged queue: empty after the crash, archive kept, meta row intact');
my $ul = $node->safe_psql(
	'postgres', q(
SELECT min(s) FROM pgmq.send_batch('crash_ul', ARRAY(SELECT jsonb_build_object('n', i) FROM generate_series(1, 20) i)) s;
));
cmp_ok($ul, '>', 150, "unlogged queue: msg_ids go on after the crash (next id $ul)");
is( $node->safe_psql(
		'postgres', q(
SELECT count(*) FROM pgmq.archive('crash_ul', ARRAY(SELECT msg_id FROM pgmq.read('crash_ul', 30, 5)));
SELECT count(*) FROM pgmq.pop('crash_ul', 5);
SELECT count(*) FROM pgmq.a_crash_ul;
SELECT queue_length FROM pgmq.metrics('crash_ul');
)),
	"5\n5\n15\n10",
	'unlogged queue: read, archive, pop work after the crash');

diag("crash summary:\n" . join("\n", @summary));
$node->stop;
done_testing();
