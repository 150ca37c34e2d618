/*
 * fuzz_validators.c
 *	  libFuzzer target for pgmq's pure-C validators (no server needed).
 *
 * The first input byte selects the validator (byte % number of targets), the
 * rest is the string handed to it.  Every target checks properties of the
 * answer against an independent statement of the rule, not only that the
 * validator does not crash: a finding is an abort() with a message.
 *
 * Adding a validator (e.g. the routing-key and topic-pattern checks of
 * src/routing.c): write a fuzz_<what>(const uint8_t *, size_t) below that
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

typedef struct FuzzTarget
{
	const char *name;
	void		(*fn) (const uint8_t *data, size_t size);
} FuzzTarget;

/* Append new validators at the end (see the comment at the top). */
static const FuzzTarget targets[] = {
	{"queue_name", fuzz_name},
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
