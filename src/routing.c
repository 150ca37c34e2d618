/*
 * routing.c
 *	  Topic routing rules in pure C (see routing.h): which routing keys and
 *	  patterns are valid, whether a key matches a pattern, and the regular
 *	  expression a pattern stands for.
 *
 * A routing key is a dot-separated list of words; a pattern is the same with
 * two wildcard words, "*" (exactly one word) and "#" (zero or more words), as
 * in AMQP topic exchanges.  No PostgreSQL header is included and nothing is
 * allocated: the only state is a few arrays on the stack, bounded by
 * PGMQ_ROUTING_MAX_LEN.
 *
 * The matcher runs the pattern as an NFA over word positions of the key
 * ("which key words can have been consumed after the first i pattern
 * words"), so its cost is O(pattern words x key words) whatever the pattern:
 * no backtracking, no blow-up with many "#".
 */
#include <stdbool.h>
#include <stddef.h>

#include "routing.h"

/* A byte allowed in a word of a routing key. */
static bool
is_word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '_' || c == '-';
}

static bool
fail(const char **why, const char *reason)
{
	if (why != NULL)
		*why = reason;
	return false;
}

/* Shared rules of keys and patterns; wildcards only when pattern is true. */
static bool
check_words(const char *s, size_t len, bool pattern, const char **why)
{
	size_t		i;

	if (s == NULL || len == 0)
		return fail(why, "is empty");
	if (len > PGMQ_ROUTING_MAX_LEN)
		return fail(why, "is longer than 255 characters");
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '.')
			continue;
		if (pattern && (c == '*' || c == '#'))
			continue;
		if (!is_word_byte(c))
			return fail(why, pattern
						? "contains a character other than ASCII letters, digits, \".\", \"_\", \"-\", \"*\" and \"#\""
						: "contains a character other than ASCII letters, digits, \".\", \"_\" and \"-\"");
	}
	if (s[0] == '.')
		return fail(why, "starts with a dot");
	if (s[len - 1] == '.')
		return fail(why, "ends with a dot");
	for (i = 1; i < len; i++)
	{
		if (s[i] == '.' && s[i - 1] == '.')
			return fail(why, "contains two dots in a row");
	}
	if (why != NULL)
		*why = NULL;
	return true;
}

bool
pgmq_routing_key_check(const char *s, size_t len, const char **why)
{
	return check_words(s, len, false, why);
}

bool
pgmq_topic_pattern_check(const char *s, size_t len, const char **why)
{
	size_t		i;

	if (!check_words(s, len, true, why))
		return false;
	for (i = 1; i < len; i++)
	{
		char		a = s[i - 1];
		char		b = s[i];

		if (a == '*' && b == '*')
			return fail(why, "contains \"**\"");
		if (a == '#' && b == '#')
			return fail(why, "contains \"##\"");
		if (a == '*' && b == '#')
			return fail(why, "contains \"*#\"");
		if (a == '#' && b == '*')
			return fail(why, "contains \"#*\"");
	}
	for (i = 0; i < len; i++)
	{
		if (s[i] != '*' && s[i] != '#')
			continue;
		if ((i > 0 && s[i - 1] != '.') || (i + 1 < len && s[i + 1] != '.'))
			return fail(why, "has a wildcard inside a word (\"*\" and \"#\" must stand alone between dots)");
	}
	return true;
}

/* Length of the word starting at s[pos] (up to the next dot or len). */
static size_t
word_len(const char *s, size_t len, size_t pos)
{
	size_t		end = pos;

	while (end < len && s[end] != '.')
		end++;
	return end - pos;
}

static bool
is_wildcard(const char *w, size_t wlen, char which)
{
	return wlen == 1 && w[0] == which;
}

bool
pgmq_topic_match(const char *pattern, size_t plen, const char *key, size_t klen)
{
	/* key words: start offset and length; a string of n dots has n+1 words */
	size_t		kstart[PGMQ_ROUTING_MAX_LEN + 1];
	size_t		klens[PGMQ_ROUTING_MAX_LEN + 1];
	bool		cur[PGMQ_ROUTING_MAX_LEN + 2];
	bool		next[PGMQ_ROUTING_MAX_LEN + 2];
	size_t		nk = 0;
	size_t		pos;
	size_t		j;
	size_t		p;

	if (pattern == NULL || key == NULL ||
		plen > PGMQ_ROUTING_MAX_LEN || klen > PGMQ_ROUTING_MAX_LEN)
		return false;

	for (pos = 0;; pos += klens[nk - 1] + 1)
	{
		kstart[nk] = pos;
		klens[nk] = word_len(key, klen, pos);
		nk++;
		if (pos + klens[nk - 1] >= klen)
			break;
	}

	/* cur[j]: the pattern words so far can consume exactly key words 0..j-1 */
	for (j = 0; j <= nk; j++)
		cur[j] = (j == 0);

	for (p = 0;; p += word_len(pattern, plen, p) + 1)
	{
		const char *w = pattern + p;
		size_t		wlen = word_len(pattern, plen, p);
		bool		any = false;

		if (is_wildcard(w, wlen, '#'))
		{
			bool		seen = false;

			for (j = 0; j <= nk; j++)
			{
				seen = seen || cur[j];
				next[j] = seen;
			}
		}
		else
		{
			next[0] = false;
			for (j = 0; j < nk; j++)
			{
				bool		word_ok;

				if (!cur[j])
				{
					next[j + 1] = false;
					continue;
				}
				if (is_wildcard(w, wlen, '*'))
					word_ok = true;
				else
				{
					size_t		i;

					word_ok = (wlen == klens[j]);
					for (i = 0; word_ok && i < wlen; i++)
						word_ok = (w[i] == key[kstart[j] + i]);
				}
				next[j + 1] = word_ok;
			}
		}
		for (j = 0; j <= nk; j++)
		{
			cur[j] = next[j];
			any = any || cur[j];
		}
		if (!any)
			return false;
		if (p + wlen >= plen)
			break;
	}
	return cur[nk];
}

/* Append n bytes of src to buf, keeping *pos as the length written so far. */
static void
emit(char *buf, size_t bufsize, size_t *pos, const char *src, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++, (*pos)++)
	{
		if (buf != NULL && *pos + 1 < bufsize)
			buf[*pos] = src[i];
	}
}

static void
emit_str(char *buf, size_t bufsize, size_t *pos, const char *src)
{
	size_t		n = 0;

	while (src[n] != '\0')
		n++;
	emit(buf, bufsize, pos, src, n);
}

size_t
pgmq_topic_pattern_regex(const char *pattern, size_t plen, char *buf, size_t bufsize)
{
	size_t		pos = 0;
	size_t		p;
	bool		definite = false;
	bool		seen_word = false;

	if (pattern == NULL)
		plen = 0;

	/* A pattern of nothing but "#" words matches every key. */
	for (p = 0; p < plen; p += word_len(pattern, plen, p) + 1)
	{
		if (!is_wildcard(pattern + p, word_len(pattern, plen, p), '#'))
			definite = true;
	}
	if (!definite)
		emit_str(buf, bufsize, &pos, "^.*$");
	else
	{
		emit_str(buf, bufsize, &pos, "^");
		for (p = 0; p < plen; p += word_len(pattern, plen, p) + 1)
		{
			const char *w = pattern + p;
			size_t		wlen = word_len(pattern, plen, p);
			size_t		i;

			if (is_wildcard(w, wlen, '#'))
			{
				/* zero or more words, before or after the first real word */
				emit_str(buf, bufsize, &pos,
						 seen_word ? "(\\.[^.]+)*" : "([^.]+\\.)*");
				continue;
			}
			if (seen_word)
				emit_str(buf, bufsize, &pos, "\\.");
			seen_word = true;
			if (is_wildcard(w, wlen, '*'))
			{
				emit_str(buf, bufsize, &pos, "[^.]+");
				continue;
			}
			for (i = 0; i < wlen; i++)
			{
				/* a checked word has only [A-Za-z0-9_-]; escape anything else */
				if (!is_word_byte((unsigned char) w[i]))
					emit_str(buf, bufsize, &pos, "\\");
				emit(buf, bufsize, &pos, &w[i], 1);
			}
		}
		emit_str(buf, bufsize, &pos, "$");
	}
	if (buf != NULL && bufsize > 0)
		buf[pos < bufsize ? pos : bufsize - 1] = '\0';
	return pos;
}
