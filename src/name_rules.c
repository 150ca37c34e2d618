/*
 * name_rules.c
 *	  The queue name rule: 1 to PGMQ_MAX_NAME_LEN characters of ASCII
 *	  letters, digits, '_' and '-', folded to lower case.
 *
 * Pure C with no PostgreSQL includes and no allocation, so that the same
 * code the server runs is what test/fuzz/ fuzzes.  queue_name.c turns the
 * reason codes into errors.
 */
#include "name_rules.h"

int
pgmq_name_check(const char *s, size_t len, char *lower_out)
{
	size_t		i;

	if (len == 0)
		return PGMQ_NAME_EMPTY;
	if (len > PGMQ_MAX_NAME_LEN)
		return PGMQ_NAME_TOO_LONG;
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')
			lower_out[i] = (char) c;
		else if (c >= 'A' && c <= 'Z')
			lower_out[i] = (char) (c - 'A' + 'a');
		else
			return PGMQ_NAME_BAD_CHAR;
	}
	lower_out[len] = '\0';
	return PGMQ_NAME_OK;
}
