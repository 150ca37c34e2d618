/*
 * dead_letter.h
 *	  What the dead-letter files share among themselves: the statement that
 *	  appends messages to a queue (the move and redrive both use it) and the
 *	  check that the 1.1 tables are installed.  The entry points the read
 *	  paths call are declared in pgmq.h.
 */
#ifndef PGMQ_DEAD_LETTER_H
#define PGMQ_DEAD_LETTER_H

#include "pgmq.h"

/* Append messages $1 (jsonb[]) with headers $2 (jsonb[]), visible at $3. */
extern const PgmqPlanSpec pgmq_dl_insert_spec;

/* Does pgmq.<relname> exist?  (The 1.1 tables are absent at version 1.0.) */
extern bool pgmq_dl_relation_exists(const char *relname);

#endif							/* PGMQ_DEAD_LETTER_H */
