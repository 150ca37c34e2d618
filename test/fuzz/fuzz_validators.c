/*
 * fuzz_validators.c
 *	  libFuzzer target for pgmq's pure-C validators (no server needed).
 *
 * The first input byte selects the validator (byte % number of targets), the
 * rest is the string handed to it.  Every target checks properties of the
 * answer against an independent statement of the rule, not only that the
 * validator does not crash: a finding is an abort() with a message.
 *
 * Targets: queue names (src/name_rules.c), routing keys and topic patterns
 * (src/routing.c).  Adding a validator: write a fuzz_<what>(const uint8_t *, size_t) below that
 * checks its properties and add one line to the targets[] table.  Existing
 * corpus files keep pointing at the same targets as long as new lines are
 * appended at the end.
 *
 * Build and run: make fuzz (FUZZ_SECONDS=60 by default).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "name_rules.h"
#include "routing.h"

#define CHECK(cond, what) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "property violated: %s (%s:%d)\n", (what), __FILE__, __LINE__); \
			abort(); \
		} \
	} while (0)

/* The queue name alphabet, stated independently of name_rules.c. */
static const char name_lower[] = "abcdefghijklmnopqrstuvwxyz0123456789_-";
static const char name_upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/* Index of c in name_lower, or of its lower-case form; -1 if not allowed. */
static int
name_char_index(unsigned char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	if ((p = strchr(name_lower, c)) != NULL)
		return (int) (p - name_lower);
	if ((p = strchr(name_upper, c)) != NULL)
		return (int) (p - name_upper);
	return -1;
}

/*
 * Queue names: accepted exactly when 1..47 bytes of [A-Za-z0-9_-]; the
 * output is the input lower-cased, lies in [a-z0-9_-], and checking it again
 * gives it back unchanged (lower-casing is idempotent); an upper-cased input
 * gives the same answer.  The reason for a refusal is the right one.
 */
static void
fuzz_name(const uint8_t *data, size_t size)
{
	char	   *in = malloc(size ? size : 1);	/* exact size: ASan sees overreads */
	char	   *out = malloc(PGMQ_MAX_NAME_LEN + 1);	/* exact size: and overwrites */
	char	   *again = malloc(PGMQ_MAX_NAME_LEN + 1);
	char	   *upper = malloc(size ? size : 1);
	int			expect = PGMQ_NAME_OK;
	int			rc;
	size_t		i;

	memcpy(in, data, size);
	if (size == 0)
		expect = PGMQ_NAME_EMPTY;
	else if (size > PGMQ_MAX_NAME_LEN)
		expect = PGMQ_NAME_TOO_LONG;
	else
		for (i = 0; i < size; i++)
			if (name_char_index((unsigned char) in[i]) < 0)
				expect = PGMQ_NAME_BAD_CHAR;

	rc = pgmq_name_check(in, size, out);
	CHECK(rc == expect, "name: accepted/refused with the wrong reason");

	if (rc == PGMQ_NAME_OK)
	{
		CHECK(strlen(out) == size, "name: output length differs from input length");
		for (i = 0; i < size; i++)
		{
			int			k = name_char_index((unsigned char) in[i]);

			CHECK(out[i] == name_lower[k], "name: output is not the lower-cased input");
		}
		CHECK(pgmq_name_check(out, size, again) == PGMQ_NAME_OK,
			  "name: lower-cased name is refused");
		CHECK(memcmp(out, again, size + 1) == 0, "name: lower-casing is not idempotent");
	}

	/* Case-insensitivity: the upper-cased input gets the same answer. */
	for (i = 0; i < size; i++)
	{
		unsigned char c = (unsigned char) in[i];

		upper[i] = (c >= 'a' && c <= 'z') ? (char) (c - 'a' + 'A') : (char) c;
	}
	rc = pgmq_name_check(upper, size, again);
	CHECK(rc == expect, "name: upper-cased input gets another answer");
	if (rc == PGMQ_NAME_OK)
		CHECK(memcmp(out, again, size + 1) == 0, "name: case changes the queue");

	free(in);
	free(out);
	free(again);
	free(upper);
}

/* A routing-key byte, stated independently of routing.c. */
static int
key_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '_' || c == '-';
}

/*
 * The word structure shared by keys and patterns: 1..255 bytes, dot-separated
 * words, none empty (so no dot at either end and no two dots in a row), each
 * word either plain key characters or, when wildcards is set, exactly "*" or
 * exactly "#".
 */
static int
words_ok(const char *s, size_t len, int wildcards)
{
	size_t		start = 0;
	size_t		i;

	if (len == 0 || len > PGMQ_ROUTING_MAX_LEN)
		return 0;
	for (i = 0; i <= len; i++)
	{
		if (i < len && s[i] != '.')
			continue;
		if (i == start)
			return 0;			/* empty word */
		if (wildcards && i - start == 1 && (s[start] == '*' || s[start] == '#'))
		{
			/* a lone wildcard word */
		}
		else
		{
			size_t		j;

			for (j = start; j < i; j++)
				if (!key_char((unsigned char) s[j]))
					return 0;
		}
		start = i + 1;
	}
	return 1;
}

/*
 * Routing keys: accepted exactly per the stated rule; an accepted key is also
 * a valid pattern that matches itself, and "#" matches it.
 */
static void
fuzz_routing_key(const uint8_t *data, size_t size)
{
	char	   *in = malloc(size ? size : 1);
	const char *why = NULL;
	bool		ok;

	memcpy(in, data, size);
	ok = pgmq_routing_key_check(in, size, &why);
	CHECK(ok == (bool) words_ok(in, size, 0), "routing key: accepted/refused against the rule");
	CHECK(ok || why != NULL, "routing key: refused without a reason");
	if (ok)
	{
		CHECK(pgmq_topic_pattern_check(in, size, NULL), "routing key: valid key is not a valid pattern");
		CHECK(pgmq_topic_match(in, size, in, size), "routing key: key does not match itself");
		CHECK(pgmq_topic_match("#", 1, in, size), "routing key: \"#\" does not match it");
	}
	free(in);
}

/*
 * Topic patterns: accepted exactly per the stated rule; the regular
 * expression of an accepted pattern fits PGMQ_ROUTING_REGEX_SIZE and is
 * anchored; a pattern of plain words matches itself; "*" never matches a
 * two-word key.
 */
static void
fuzz_topic_pattern(const uint8_t *data, size_t size)
{
	char	   *in = malloc(size ? size : 1);
	char	   *buf = malloc(PGMQ_ROUTING_REGEX_SIZE);
	const char *why = NULL;
	bool		ok;

	memcpy(in, data, size);
	ok = pgmq_topic_pattern_check(in, size, &why);
	CHECK(ok == (bool) words_ok(in, size, 1), "pattern: accepted/refused against the rule");
	CHECK(ok || why != NULL, "pattern: refused without a reason");
	if (ok)
	{
		size_t		n = pgmq_topic_pattern_regex(in, size, buf, PGMQ_ROUTING_REGEX_SIZE);

		CHECK(n < PGMQ_ROUTING_REGEX_SIZE, "pattern: regex does not fit PGMQ_ROUTING_REGEX_SIZE");
		CHECK(n >= 2 && buf[0] == '^' && buf[n - 1] == '$' && buf[n] == '\0',
			  "pattern: regex is not anchored and terminated");
		if (words_ok(in, size, 0))
			CHECK(pgmq_topic_match(in, size, in, size), "pattern: plain pattern does not match itself");
		CHECK(!pgmq_topic_match("*", 1, "a.b", 3), "pattern: \"*\" matches two words");
	}
	free(in);
	free(buf);
}

typedef struct FuzzTarget
{
	const char *name;
	void		(*fn) (const uint8_t *data, size_t size);
} FuzzTarget;

/* Append new validators at the end (see the comment at the top). */
static const FuzzTarget targets[] = {
	{"queue_name", fuzz_name},
	{"routing_key", fuzz_routing_key},
	{"topic_pattern", fuzz_topic_pattern},
};

#define NTARGETS (sizeof(targets) / sizeof(targets[0]))

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	targets[data[0] % NTARGETS].fn(data + 1, size - 1);
	return 0;
}
