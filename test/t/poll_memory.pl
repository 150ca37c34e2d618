# test/t/poll_memory.pl: a polling read frees each attempt's memory before
# the next.  read_with_poll and the grouped _with_poll reads poll an empty
# queue every 1 ms (pgmq not preloaded: plain polling) for several seconds;
# the backend's memory, as pg_log_backend_memory_contexts reports it
# ("Grand total"), must not grow between a dump after 1 s and one 2 s later
# (hundreds of attempts apart).
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
	"pgmq.read_with_poll('pm', 30, 1, 5, 1)",
	"pgmq.read_grouped_with_poll('pm', 30, 100000, 5, 1)",
	"pgmq.read_grouped_rr_with_poll('pm', 30, 100000, 5, 1)")
{
	my $bg = $node->background_psql('postgres');
	$bg->query_until(qr/polling/, "\\echo polling\nSELECT count(*) FROM $call;\n");
	my $pid = $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE query LIKE '%_with_poll(%' AND pid <> pg_backend_pid()");
	sleep(1);
	my $first = grand_total($pid);
	sleep(2);
	my $second = grand_total($pid);
	cmp_ok($second - $first, '<', 32768,
		"$call: memory does not grow with attempts ($first -> $second bytes)");
	$bg->quit;
}

$node->stop;
done_testing();
