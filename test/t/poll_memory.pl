# test/t/poll_memory.pl: a polling read frees each attempt's memory before
# the next.  read_with_poll and the grouped _with_poll reads poll an empty
# queue every 1 ms (pgmq not preloaded: plain polling) for several seconds;
# the backend's memory, as pg_log_backend_memory_contexts reports it
# ("Grand total"), is dumped after 1, 3, 5 and 7 s (hundreds of attempts
# apart).  A leak per attempt grows it in every interval (by 0.4-1 MB before
# each attempt's memory was freed); a one-off allocation (a context taking a
# larger block once) grows it in one.  So at least two of the three intervals
# must grow by less than 32 kB.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);

my $node = PostgreSQL::Test::Cluster->new('poll_memory');
$node->init;
$node->start;
$node->safe_psql('postgres', "CREATE EXTENSION pgmq; SELECT pgmq.create('pm')");

# Memory of backend $pid in bytes, from a dump to the server log.
sub grand_total
{
	my ($pid) = @_;
	my $offset = -s $node->logfile;
	$node->safe_psql('postgres', "SELECT pg_log_backend_memory_contexts($pid)");
	for (1 .. 100)
	{
		my $log = slurp_file($node->logfile, $offset);
		return $1 if $log =~ /Grand total: (\d+) bytes/;
		sleep(0.1);
	}
	die "no memory context dump from backend $pid";
}

for my $call (
	"pgmq.read_with_poll('pm', 30, 1, 9, 1)",
	"pgmq.read_grouped_with_poll('pm', 30, 100000, 9, 1)",
	"pgmq.read_grouped_rr_with_poll('pm', 30, 100000, 9, 1)")
{
	my $bg = $node->background_psql('postgres');
	$bg->query_until(qr/polling/, "\\echo polling\nSELECT count(*) FROM $call;\n");
	my $pid = $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE query LIKE '%_with_poll(%' AND pid <> pg_backend_pid()");
	sleep(1);
	my @totals = (grand_total($pid));
	for (1 .. 3)
	{
		sleep(2);
		push @totals, grand_total($pid);
	}
	my $flat = grep { $totals[$_] - $totals[ $_ - 1 ] < 32768 } 1 .. 3;
	cmp_ok($flat, '>=', 2,
		"$call: memory does not grow with attempts (" . join(' -> ', @totals) . " bytes)");
	$bg->quit;
}

$node->stop;
done_testing();
