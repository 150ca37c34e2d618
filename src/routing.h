/*
 * routing.h
 *	  Topic routing rules in pure C: routing key and pattern checks, the
 *	  pattern matcher and the pattern -> regular expression compiler.
 *
 * Nothing here includes a PostgreSQL header or allocates memory, so these
 * functions can be built and fuzzed outside the server.  Every function takes
 * a (pointer, length) pair, needs no terminating NUL and is total: any bytes
 * of any length give an answer, never a crash.
 */
#ifndef PGMQ_ROUTING_H
#define PGMQ_ROUTING_H

#include <stdbool.h>
#include <stddef.h>

/* Longest routing key or pattern, in bytes. */
#define PGMQ_ROUTING_MAX_LEN 255

/*
 * Room for the regular expression of any valid pattern, NUL included (the
 * worst case is "#.#.#..." : 10 bytes per 2 pattern bytes, plus "^" and "$").
 */
#define PGMQ_ROUTING_REGEX_SIZE (5 * PGMQ_ROUTING_MAX_LEN + 16)

/*
 * Is s[0..len) a valid routing key: 1 to 255 characters of ASCII letters,
 * digits, '_', '-' and '.', no dot at either end, no two dots in a row?  On
 * false, *why (when why is not NULL) is a static English reason in lower
 * case, e.g. "starts with a dot".
 */
extern bool pgmq_routing_key_check(const char *s, size_t len, const char **why);

/*
 * Is s[0..len) a valid topic pattern: a routing key in which a word may also
 * be "*" (exactly one word) or "#" (zero or more words)?  "**", "##", "*#"
 * and "#*" are refused, and so is a wildcard inside a longer word ("a*").
 */
extern bool pgmq_topic_pattern_check(const char *s, size_t len, const char **why);

/*
 * Does routing key key[0..klen) match pattern[0..plen)?  Words compare
 * byte for byte (case-sensitive); "*" matches one word, "#" zero or more.
 * Meant for checked inputs; for anything else the answer is still defined
 * (inputs longer than PGMQ_ROUTING_MAX_LEN never match).
 */
extern bool pgmq_topic_match(const char *pattern, size_t plen,
							 const char *key, size_t klen);

/*
 * Write the POSIX regular expression equivalent to a checked pattern into
 * buf (bufsize bytes, NUL-terminated, truncated if too small) and return its
 * length without the NUL, as snprintf does.  For every valid routing key k,
 * k ~ regex exactly when pgmq_topic_match(pattern, k).
 */
extern size_t pgmq_topic_pattern_regex(const char *pattern, size_t plen,
									   char *buf, size_t bufsize);

#endif							/* PGMQ_ROUTING_H */
