#include "util/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/escape.h"
#include "util/progress.h"

static enum log_level level = LOG_NORMAL;
static struct strlist secrets = STRLIST_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void log_set_level(enum log_level l)
{
	level = l;
}

enum log_level log_get_level(void)
{
	return level;
}

void log_add_secret(const char *s)
{
	/* Masking "a" or "12" would garble every message. */
	if (!s || strlen(s) < 4)
		return;
	pthread_mutex_lock(&lock);
	strlist_add(&secrets, s);
	pthread_mutex_unlock(&lock);
}

void log_forget_secrets(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < secrets.n; i++)
		explicit_bzero(secrets.v[i], strlen(secrets.v[i]));
	strlist_release(&secrets);
	pthread_mutex_unlock(&lock);
}

char *log_mask(const char *s)
{
	struct buf out = BUF_INIT;

	pthread_mutex_lock(&lock);
	while (*s) {
		size_t hit = 0;

		for (size_t i = 0; i < secrets.n && !hit; i++) {
			size_t n = strlen(secrets.v[i]);

			if (strncmp(s, secrets.v[i], n) == 0)
				hit = n;
		}
		if (hit) {
			buf_addstr(&out, "****");
			s += hit;
		} else {
			buf_addch(&out, *s++);
		}
	}
	pthread_mutex_unlock(&lock);
	return buf_detach(&out, NULL);
}

static void emit(const char *prefix, const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT;
	char *masked;

	buf_addstr(&b, "ferry: ");
	buf_addstr(&b, prefix);
	buf_vprintf(&b, fmt, ap);
	masked = log_mask(buf_str(&b));
	/* One message, one line: a name with a newline or an escape
	 * sequence in it cannot forge another or move the cursor. */
	buf_reset(&b);
	esc_add_text(&b, masked);
	progress_interrupt();
	fprintf(stderr, "%s\n", buf_str(&b));
	free(masked);
	buf_release(&b);
}

#define LOG_FN(name, min, prefix)				\
	void name(const char *fmt, ...)				\
	{							\
		va_list ap;					\
		if (level < (min))				\
			return;					\
		va_start(ap, fmt);				\
		emit(prefix, fmt, ap);				\
		va_end(ap);					\
	}

LOG_FN(log_error, LOG_QUIET, "")
LOG_FN(log_warn, LOG_QUIET, "warning: ")
LOG_FN(log_info, LOG_NORMAL, "")
LOG_FN(log_verbose, LOG_VERBOSE, "")
LOG_FN(log_debug, LOG_DEBUG, "debug: ")
