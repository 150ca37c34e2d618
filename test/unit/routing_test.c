/*
 * routing_test.c
 *	  Unit test of src/routing.c, built and run outside the server by
 *	  test/extra/routing_unit.sh.
 *
 * 1. A table of routing keys and patterns with the verdict and, for bad
 *    ones, the reason the checker must give.
 * 2. A table of (pattern, key, match?) cases, checked against the matcher
 *    and against the compiled regular expression run by the C library's
 *    POSIX regex engine.
 * 3. A deterministic pseudo-random sweep: every generated pattern and key
 *    that the checkers accept must get the same answer from the matcher and
 *    from the regular expression.
 * Prints the number of checks passed and failed; exits non-zero on any failure.
 */
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "routing.h"

static int	passed = 0;
static int	failed = 0;

static void
check(int ok, const char *what, const char *a, const char *b)
{
	if (ok)
		passed++;
	else
	{
		failed++;
		printf("FAIL: %s [%s] [%s]\n", what, a, b ? b : "");
	}
}

/* Does key match pattern according to the compiled regex? (-1: bad regex) */
static int
regex_match(const char *pattern, const char *key)
{
	char		re[PGMQ_ROUTING_REGEX_SIZE];
	regex_t		rx;
	int			rc;
	size_t		n = pgmq_topic_pattern_regex(pattern, strlen(pattern), re, sizeof(re));

	if (n >= sizeof(re))
		return -1;
	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0)
		return -1;
	rc = regexec(&rx, key, 0, NULL, 0);
	regfree(&rx);
	return rc == 0;
}

struct verdict
{
	const char *s;
	int			ok;
	const char *why;
};

static const struct verdict keys[] = {
	{"a", 1, NULL},
	{"orders.eu.created", 1, NULL},
	{"A-b_9.x", 1, NULL},
	{"", 0, "is empty"},
	{".a", 0, "starts with a dot"},
	{"a.", 0, "ends with a dot"},
	{".", 0, "starts with a dot"},
	{"a..b", 0, "contains two dots in a row"},
	{"a b", 0, "contains a character other than ASCII letters, digits, \".\", \"_\" and \"-\""},
	{"a.*", 0, "contains a character other than ASCII letters, digits, \".\", \"_\" and \"-\""},
	{"a.#", 0, "contains a character other than ASCII letters, digits, \".\", \"_\" and \"-\""},
	{"caf\xc3\xa9", 0, "contains a character other than ASCII letters, digits, \".\", \"_\" and \"-\""},
};

static const struct verdict patterns[] = {
	{"a", 1, NULL},
	{"*", 1, NULL},
	{"#", 1, NULL},
	{"#.#", 1, NULL},
	{"*.*", 1, NULL},
	{"a.*.#", 1, NULL},
	{"#.b.*", 1, NULL},
	{"", 0, "is empty"},
	{"**", 0, "contains \"**\""},
	{"a.##", 0, "contains \"##\""},
	{"*#", 0, "contains \"*#\""},
	{"#*.a", 0, "contains \"#*\""},
	{"a*", 0, "has a wildcard inside a word (\"*\" and \"#\" must stand alone between dots)"},
	{"#a.b", 0, "has a wildcard inside a word (\"*\" and \"#\" must stand alone between dots)"},
	{"a.b*c", 0, "has a wildcard inside a word (\"*\" and \"#\" must stand alone between dots)"},
	{"a..*", 0, "contains two dots in a row"},
	{".#", 0, "starts with a dot"},
	{"#.", 0, "ends with a dot"},
	{"a?", 0, "contains a character other than ASCII letters, digits, \".\", \"_\", \"-\", \"*\" and \"#\""},
};

struct match
{
	const char *pattern;
	const char *key;
	int			match;
};

static const struct match matches[] = {
	{"a.b", "a.b", 1},
	{"a.b", "a.B", 0},
	{"a.b", "a.b.c", 0},
	{"a.b", "a", 0},
	{"a.*", "a.b", 1},
	{"a.*", "a", 0},
	{"a.*", "a.b.c", 0},
	{"*", "a", 1},
	{"*", "a.b", 0},
	{"*.*", "a.b", 1},
	{"#", "a", 1},
	{"#", "a.b.c", 1},
	{"#.#", "a", 1},
	{"a.#", "a", 1},
	{"a.#", "a.b", 1},
	{"a.#", "a.b.c", 1},
	{"a.#", "b.a", 0},
	{"a.#", "ab", 0},
	{"#.a", "a", 1},
	{"#.a", "x.y.a", 1},
	{"#.a", "x.a.y", 0},
	{"#.a", "xa", 0},
	{"a.#.b", "a.b", 1},
	{"a.#.b", "a.x.b", 1},
	{"a.#.b", "a.x.y.b", 1},
	{"a.#.b", "a.x.y", 0},
	{"a.#.b", "ab", 0},
	{"#.*", "a", 1},
	{"*.#", "a.b.c", 1},
	{"#.a.#", "a", 1},
	{"#.a.#", "x.a.y", 1},
	{"#.a.#", "x.b.y", 0},
	{"a.*.#.c", "a.b.c", 1},
	{"a.*.#.c", "a.c", 0},
	{"a.*.#.c", "a.b.x.y.c", 1},
	{"*.b.*", "a.b.c", 1},
	{"*.b.*", "b.c", 0},
	{"a-b_c.*", "a-b_c.x", 1},
	{"a-b_c.*", "a-b.c.x", 0},
};

/* Tiny deterministic generator (xorshift). */
static uint32_t rng = 2463534242u;

static uint32_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* A dot-separated string of 1..6 words from a small alphabet (wild: wildcards). */
static void
gen(char *out, int wild)
{
	static const char *words[] = {"a", "b", "ab", "x-y", "*", "#"};
	int			n = 1 + next_rand() % 6;
	int			i;

	out[0] = '\0';
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			strcat(out, ".");
		strcat(out, words[next_rand() % (wild ? 6 : 4)]);
	}
}

int
main(void)
{
	size_t		i;
	int			j;
	char		longkey[PGMQ_ROUTING_MAX_LEN + 2];

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
	{
		const char *why = NULL;
		int			ok = pgmq_routing_key_check(keys[i].s, strlen(keys[i].s), &why);

		check(ok == keys[i].ok, "key verdict", keys[i].s, why);
		check(keys[i].ok || (why && strcmp(why, keys[i].why) == 0), "key reason", keys[i].s, why);
	}
	for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++)
	{
		const char *why = NULL;
		int			ok = pgmq_topic_pattern_check(patterns[i].s, strlen(patterns[i].s), &why);

		check(ok == patterns[i].ok, "pattern verdict", patterns[i].s, why);
		check(patterns[i].ok || (why && strcmp(why, patterns[i].why) == 0), "pattern reason", patterns[i].s, why);
	}

	/* 255 characters pass, 256 do not */
	memset(longkey, 'k', sizeof(longkey));
	check(pgmq_routing_key_check(longkey, 255, NULL), "255 chars pass", "", NULL);
	check(!pgmq_routing_key_check(longkey, 256, NULL), "256 chars fail", "", NULL);
	check(pgmq_topic_pattern_check(longkey, 255, NULL), "255-char pattern passes", "", NULL);
	check(!pgmq_topic_pattern_check(longkey, 256, NULL), "256-char pattern fails", "", NULL);
	/* the longest key has 128 words; "#.k" still matches it */
	for (j = 1; j < 255; j += 2)
		longkey[j] = '.';
	check(pgmq_routing_key_check(longkey, 255, NULL), "128-word key passes", "", NULL);
	check(pgmq_topic_match("#.k", 3, longkey, 255), "128-word key matches #.k", "", NULL);
	check(!pgmq_topic_match("#.x", 3, longkey, 255), "128-word key does not match #.x", "", NULL);

	for (i = 0; i < sizeof(matches) / sizeof(matches[0]); i++)
	{
		const struct match *m = &matches[i];

		check(pgmq_topic_pattern_check(m->pattern, strlen(m->pattern), NULL), "case pattern valid", m->pattern, NULL);
		check(pgmq_routing_key_check(m->key, strlen(m->key), NULL), "case key valid", m->key, NULL);
		check(pgmq_topic_match(m->pattern, strlen(m->pattern), m->key, strlen(m->key)) == m->match,
			  "matcher", m->pattern, m->key);
		check(regex_match(m->pattern, m->key) == m->match, "regex", m->pattern, m->key);
	}

	for (j = 0; j < 20000; j++)
	{
		char		pattern[64];
		char		key[64];

		gen(pattern, 1);
		gen(key, 0);
		if (!pgmq_topic_pattern_check(pattern, strlen(pattern), NULL))
			continue;
		check(pgmq_topic_match(pattern, strlen(pattern), key, strlen(key)) ==
			  regex_match(pattern, key), "matcher == regex", pattern, key);
	}

	printf("routing unit test: %d checks passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
