/*
 * name_rules.h
 *	  The queue name rule as a pure function: no PostgreSQL headers, so the
 *	  fuzz targets in test/fuzz/ link it on its own.
 */
#ifndef PGMQ_NAME_RULES_H
#define PGMQ_NAME_RULES_H

#include <stddef.h>

/* Longest queue name: "q_" / "a_" + name must fit the table names we build. */
#define PGMQ_MAX_NAME_LEN 47

/* Why a name was refused (0: accepted). */
typedef enum PgmqNameCheck
{
	PGMQ_NAME_OK = 0,
	PGMQ_NAME_EMPTY,			/* zero characters */
	PGMQ_NAME_TOO_LONG,			/* more than PGMQ_MAX_NAME_LEN bytes */
	PGMQ_NAME_BAD_CHAR			/* a byte outside [A-Za-z0-9_-] */
} PgmqNameCheck;

/*
 * Check the len bytes at s as a queue name.  When accepted, lower_out (at
 * least PGMQ_MAX_NAME_LEN + 1 bytes) holds the lower-cased name, NUL
 * terminated; otherwise lower_out is left in an unspecified state.
 */
extern int	pgmq_name_check(const char *s, size_t len, char *lower_out);

#endif							/* PGMQ_NAME_RULES_H */
