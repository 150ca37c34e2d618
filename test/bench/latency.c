/*
 * latency.c
 *	  Commit-to-return latency of pgmq.read_with_poll, for test/bench/latency.sh.
 *
 * Connects with the usual libpq environment (PGHOST, PGPORT, PGUSER,
 * PGDATABASE).  Two modes:
 *
 *   latency [-n trials] [-i poll_interval_ms] [-d max_delay_ms] [-r] [-l label]
 *	  Trials of one consumer blocked in read_with_poll and one producer.  Per
 *	  trial: the consumer thread starts read_with_poll on an empty queue; the
 *	  producer waits until the consumer's backend sleeps (wait_event
 *	  'Extension' in pg_stat_activity), then a random 0..max_delay_ms more
 *	  (so the commit falls anywhere in a polling interval), sends one message
 *	  in a transaction and takes the time just before it sends COMMIT.  The
 *	  latency is from there to read_with_poll returning in the consumer
 *	  (an upper bound of commit-to-return: it includes the COMMIT round
 *	  trip).  Prints one line: label, trials, p50/p90/p99/max in ms.
 *	  With -r the producer does not wait for the consumer to sleep: it
 *	  commits 0..max_delay_ms after starting the consumer's statement, so
 *	  some commits land between the consumer's registration, its read and
 *	  its sleep.  A lost wakeup would show as a trial lasting until some
 *	  unrelated event or max_poll_seconds: with -r, any trial over 1 s
 *	  makes the exit status 2.
 *
 *   latency -W waiters -Q queues [-l label]
 *	  Fan-out: waiters connections wait in read_with_poll, spread over queues
 *	  queues; then one message is sent (and committed) to each queue in turn,
 *	  and the time from before its COMMIT until one waiter of that queue
 *	  returns it is recorded.  Checks that exactly one waiter per queue got a
 *	  message and that the others are still waiting.  Prints one line as
 *	  above.
 *
 * Exit status 0 on success, 1 on any error, 2 for a lost wakeup (-r).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libpq-fe.h"

#define QUEUE "latency_bench"
#define MAX_POLL_SECONDS 120

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void
die(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	fprintf(stderr, "latency: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static PGconn *
connect_db(void)
{
	PGconn	   *conn = PQconnectdb("");

	if (PQstatus(conn) != CONNECTION_OK)
		die("connection failed: %s", PQerrorMessage(conn));
	return conn;
}

/* Run sql; die unless it succeeds.  Returns the result (caller clears). */
static PGresult *
run(PGconn *conn, const char *sql)
{
	PGresult   *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
		die("\"%s\" failed: %s", sql, PQerrorMessage(conn));
	return res;
}

static void
run_clear(PGconn *conn, const char *sql)
{
	PQclear(run(conn, sql));
}

/* First column of the first row as a long (0 when none or NULL). */
static long
run_long(PGconn *conn, const char *sql)
{
	PGresult   *res = run(conn, sql);
	long		v = 0;

	if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
		v = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/* The q-quantile (nearest rank) of sorted v[0..n-1]. */
static double
quantile(const double *v, int n, double q)
{
	int			k = (int) (q * n + 0.999999);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static void
report(const char *label, double *v, int n)
{
	qsort(v, n, sizeof(double), cmp_double);
	printf("%-34s %6d  p50 %8.2f  p90 %8.2f  p99 %8.2f  max %8.2f ms\n",
		   label, n, quantile(v, n, 0.50), quantile(v, n, 0.90),
		   quantile(v, n, 0.99), v[n - 1]);
}

/* ---- trial mode ------------------------------------------------------ */

typedef struct Consumer
{
	PGconn	   *conn;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int			go;				/* trials started */
	int			done;			/* trials finished */
	double		returned_at;	/* when the last read_with_poll returned */
	long		msg_id;			/* what it returned, 0 if nothing */
	int			poll_interval_ms;
	int			quit;
} Consumer;

static void *
consumer_main(void *arg)
{
	Consumer   *c = arg;
	char		sql[256];

	snprintf(sql, sizeof(sql),
			 "SELECT msg_id FROM pgmq.read_with_poll('" QUEUE "', 30, 1, %d, %d)",
			 MAX_POLL_SECONDS, c->poll_interval_ms);
	for (;;)
	{
		PGresult   *res;
		double		t;
		long		id = 0;

		pthread_mutex_lock(&c->mu);
		while (c->go == c->done && !c->quit)
			pthread_cond_wait(&c->cv, &c->mu);
		pthread_mutex_unlock(&c->mu);
		if (c->quit)
			return NULL;

		res = PQexec(c->conn, sql);
		t = now_ms();
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			die("read_with_poll failed: %s", PQerrorMessage(c->conn));
		if (PQntuples(res) == 1)
			id = atol(PQgetvalue(res, 0, 0));
		PQclear(res);

		pthread_mutex_lock(&c->mu);
		c->returned_at = t;
		c->msg_id = id;
		c->done++;
		pthread_cond_broadcast(&c->cv);
		pthread_mutex_unlock(&c->mu);
	}
}

/* Sleep ms milliseconds. */
static void
sleep_ms(double ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t) (ms / 1000);
	ts.tv_nsec = (long) ((ms - ts.tv_sec * 1000.0) * 1e6);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Wait until backend pid sleeps in read_with_poll (or die after 30 s). */
static void
wait_until_sleeping(PGconn *mon, long pid)
{
	char		sql[256];
	double		start = now_ms();

	snprintf(sql, sizeof(sql),
			 "SELECT count(*) FROM pg_stat_activity WHERE pid = %ld"
			 " AND wait_event_type = 'Extension' AND state = 'active'", pid);
	while (run_long(mon, sql) == 0)
	{
		if (now_ms() - start > 30000)
			die("consumer %ld never started waiting", pid);
		sleep_ms(0.2);
	}
}

static int
trial_mode(int trials, int poll_interval_ms, int max_delay_ms, int race,
		   const char *label)
{
	PGconn	   *prod = connect_db();
	Consumer	c;
	pthread_t	th;
	double	   *lat = calloc(trials, sizeof(double));
	long		pid;
	int			i;
	char		sql[128];

	run_clear(prod, "SET client_min_messages = warning");
	run_clear(prod, "CREATE EXTENSION IF NOT EXISTS pgmq");
	run_clear(prod, "SELECT pgmq.create('" QUEUE "')");
	run_clear(prod, "SELECT pgmq.purge_queue('" QUEUE "')");

	memset(&c, 0, sizeof(c));
	c.conn = connect_db();
	c.poll_interval_ms = poll_interval_ms;
	pthread_mutex_init(&c.mu, NULL);
	pthread_cond_init(&c.cv, NULL);
	pid = run_long(c.conn, "SELECT pg_backend_pid()");
	if (pthread_create(&th, NULL, consumer_main, &c) != 0)
		die("pthread_create failed");
	srandom(42);

	for (i = 0; i < trials; i++)
	{
		double		t0;

		pthread_mutex_lock(&c.mu);
		c.go++;
		pthread_cond_broadcast(&c.cv);
		pthread_mutex_unlock(&c.mu);

		if (!race)
			wait_until_sleeping(prod, pid);
		if (max_delay_ms > 0)
			sleep_ms((random() % (max_delay_ms * 1000)) / 1000.0);
		run_clear(prod, "BEGIN");
		run_clear(prod, "SELECT pgmq.send('" QUEUE "', '{}')");
		t0 = now_ms();
		run_clear(prod, "COMMIT");

		pthread_mutex_lock(&c.mu);
		while (c.done < c.go)
			pthread_cond_wait(&c.cv, &c.mu);
		pthread_mutex_unlock(&c.mu);
		if (c.msg_id == 0)
			die("trial %d: read_with_poll returned no message", i);
		lat[i] = c.returned_at - t0;
		snprintf(sql, sizeof(sql), "SELECT pgmq.delete('" QUEUE "', %ld::bigint)", c.msg_id);
		run_clear(prod, sql);
	}

	pthread_mutex_lock(&c.mu);
	c.quit = 1;
	pthread_cond_broadcast(&c.cv);
	pthread_mutex_unlock(&c.mu);
	pthread_join(th, NULL);
	report(label, lat, trials);
	run_clear(prod, "SELECT pgmq.drop_queue('" QUEUE "')");
	PQfinish(c.conn);
	PQfinish(prod);
	if (race && lat[trials - 1] > 1000.0)
	{
		fprintf(stderr, "latency: a trial took %.0f ms: a wakeup was lost\n",
				lat[trials - 1]);
		return 2;
	}
	free(lat);
	return 0;
}

/* ---- fan-out mode ---------------------------------------------------- */

static int
fanout_mode(int nwaiters, int nqueues, const char *label)
{
	PGconn	   *prod = connect_db();
	PGconn	  **w = calloc(nwaiters, sizeof(PGconn *));
	int		   *done = calloc(nwaiters, sizeof(int));
	double	   *lat = calloc(nqueues, sizeof(double));
	struct pollfd *pfd = calloc(nwaiters, sizeof(struct pollfd));
	char		sql[256];
	int			i,
				q,
				returned = 0;
	long		sleeping;
	double		start;

	run_clear(prod, "SET client_min_messages = warning");
	run_clear(prod, "CREATE EXTENSION IF NOT EXISTS pgmq");
	for (q = 0; q < nqueues; q++)
	{
		snprintf(sql, sizeof(sql), "SELECT pgmq.create('fan_%d'), pgmq.purge_queue('fan_%d')", q, q);
		run_clear(prod, sql);
	}
	for (i = 0; i < nwaiters; i++)
	{
		w[i] = connect_db();
		snprintf(sql, sizeof(sql),
				 "SELECT msg_id FROM pgmq.read_with_poll('fan_%d', 300, 1, %d, 100000)",
				 i % nqueues, MAX_POLL_SECONDS);
		if (!PQsendQuery(w[i], sql))
			die("PQsendQuery failed: %s", PQerrorMessage(w[i]));
		pfd[i].fd = PQsocket(w[i]);
		pfd[i].events = POLLIN;
	}

	/* all asleep? */
	start = now_ms();
	for (;;)
	{
		sleeping = run_long(prod,
							"SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Extension'"
							" AND state = 'active' AND query LIKE '%read_with_poll(''fan_%'");
		if (sleeping == nwaiters)
			break;
		if (now_ms() - start > 60000)
			die("only %ld of %d waiters are waiting after 60 s", sleeping, nwaiters);
		sleep_ms(50);
	}

	for (q = 0; q < nqueues; q++)
	{
		double		t0;
		int			got = -1;

		snprintf(sql, sizeof(sql), "SELECT pgmq.send('fan_%d', '{}')", q);
		run_clear(prod, "BEGIN");
		run_clear(prod, sql);
		t0 = now_ms();
		run_clear(prod, "COMMIT");

		/* wait for one waiter of queue q to return */
		while (got < 0)
		{
			if (poll(pfd, nwaiters, 10000) <= 0)
				die("no waiter of queue fan_%d returned within 10 s", q);
			for (i = 0; i < nwaiters; i++)
			{
				PGresult   *res;

				if (done[i] || !(pfd[i].revents & POLLIN))
					continue;
				if (!PQconsumeInput(w[i]))
					die("PQconsumeInput: %s", PQerrorMessage(w[i]));
				if (PQisBusy(w[i]))
					continue;
				res = PQgetResult(w[i]);
				if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
					die("waiter %d (queue fan_%d) returned without a message: %s",
						i, i % nqueues, PQerrorMessage(w[i]));
				PQclear(res);
				while ((res = PQgetResult(w[i])) != NULL)
					PQclear(res);
				if (i % nqueues != q)
					die("waiter %d of queue fan_%d returned after a send to fan_%d",
						i, i % nqueues, q);
				done[i] = 1;
				pfd[i].fd = -1;
				returned++;
				got = i;
			}
		}
		lat[q] = now_ms() - t0;
	}

	/*
	 * Exactly one waiter per queue returned; the others go back to sleep
	 * (those woken by the last sends may still be reading again: give them
	 * a moment) and none of them has returned anything.
	 */
	start = now_ms();
	for (;;)
	{
		sleeping = run_long(prod,
							"SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Extension'"
							" AND state = 'active' AND query LIKE '%read_with_poll(''fan_%'");
		if (sleeping == nwaiters - nqueues || now_ms() - start > 10000)
			break;
		sleep_ms(10);
	}
	if (poll(pfd, nwaiters, 0) != 0)
		die("a waiter returned although its queue got no second message");
	if (returned != nqueues || sleeping != nwaiters - nqueues)
		die("%d waiters returned and %ld still wait; expected %d and %d",
			returned, sleeping, nqueues, nwaiters - nqueues);
	report(label, lat, nqueues);

	for (i = 0; i < nwaiters; i++)
		PQfinish(w[i]);
	for (q = 0; q < nqueues; q++)
	{
		snprintf(sql, sizeof(sql), "SELECT pgmq.drop_queue('fan_%d')", q);
		run_clear(prod, sql);
	}
	PQfinish(prod);
	return 0;
}

int
main(int argc, char **argv)
{
	int			trials = 1000;
	int			poll_interval_ms = 100;
	int			max_delay_ms = 100;
	int			nwaiters = 0;
	int			nqueues = 0;
	const char *label = "read_with_poll";
	int			race = 0;
	int			opt;

	while ((opt = getopt(argc, argv, "n:i:d:rW:Q:l:")) != -1)
	{
		switch (opt)
		{
			case 'n':
				trials = atoi(optarg);
				break;
			case 'i':
				poll_interval_ms = atoi(optarg);
				break;
			case 'd':
				max_delay_ms = atoi(optarg);
				break;
			case 'r':
				race = 1;
				break;
			case 'W':
				nwaiters = atoi(optarg);
				break;
			case 'Q':
				nqueues = atoi(optarg);
				break;
			case 'l':
				label = optarg;
				break;
			default:
				die("usage: latency [-n trials] [-i poll_interval_ms] [-d max_delay_ms] [-r] [-l label]"
					" | -W waiters -Q queues [-l label]");
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (nwaiters > 0)
	{
		if (nqueues < 1 || nqueues > nwaiters)
			die("-Q must be between 1 and -W");
		return fanout_mode(nwaiters, nqueues, label);
	}
	if (trials < 1 || poll_interval_ms < 1 || max_delay_ms < 0)
		die("bad arguments");
	return trial_mode(trials, poll_interval_ms, max_delay_ms, race, label);
}
