#include "util/log.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "util/buf.h"
#include "util/escape.h"
#include "util/jtext.h"
#include "util/logsys.h"
#include "util/progress.h"

static enum log_level level = LOG_NORMAL;
static enum log_format format = LOG_TEXT;
static char component[64] = "ferry";
static int to_syslog;
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

static const char *const level_name[] = { "error", "warning", "info",
	"debug" };

void log_set_format(enum log_format f)
{
	format = f;
}

enum log_format log_get_format(void)
{
	return format;
}

int log_parse_format(const char *s, enum log_format *f)
{
	if (!strcmp(s, "text"))
		*f = LOG_TEXT;
	else if (!strcmp(s, "json"))
		*f = LOG_JSON;
	else
		return -1;
	return 0;
}

void log_set_component(const char *name)
{
	pthread_mutex_lock(&lock);
	snprintf(component, sizeof(component), "%s", name ? name : "ferry");
	pthread_mutex_unlock(&lock);
}

void log_set_syslog(int on)
{
	if (on && !to_syslog)
		logsys_open();
	else if (!on && to_syslog)
		logsys_close();
	to_syslog = on;
}

/* One line out: sev indexes level_name; who, when set, is the command a
 * usage error is about: the text prefix's "ferry WHO:" and JSON's
 * component. */
static void emit(int sev, const char *who, const char *prefix,
		 const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT;
	char *masked;
	char comp[sizeof(component)];

	buf_vprintf(&b, fmt, ap);
	/* A server's words quoted last end with its newline: not ours. */
	while (b.len && isspace((unsigned char)b.p[b.len - 1]))
		b.p[--b.len] = '\0';
	masked = log_mask(buf_str(&b));
	pthread_mutex_lock(&lock);
	snprintf(comp, sizeof(comp), "%s", who ? who : component);
	pthread_mutex_unlock(&lock);
	/* One message, one line: a name with a newline or an escape
	 * sequence in it cannot forge another or move the cursor (JSON
	 * escapes them itself).  The prefix ("warning: ") is text's way of
	 * saying the level; JSON has a field for it. */
	buf_reset(&b);
	buf_addstr(&b, prefix);
	esc_add_text(&b, masked);
	progress_interrupt();
	if (format == LOG_JSON) {
		struct timespec ts;
		struct tm tm;
		char when[40];
		json_t *j;
		char *line;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(when + strlen(when), sizeof(when) - strlen(when),
			 ".%03ldZ", ts.tv_nsec / 1000000);
		j = json_pack("{s:s, s:s, s:o, s:o}", "time", when, "level",
			      level_name[sev], "component", jtext_new(comp),
			      "message", jtext_new(masked));
		line = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		fprintf(stderr, "%s\n", line ? line : buf_str(&b));
		free(line);
		json_decref(j);
	} else if (who) {
		fprintf(stderr, "ferry %s: %s\n", who, buf_str(&b));
	} else {
		fprintf(stderr, "ferry: %s\n", buf_str(&b));
	}
	if (to_syslog) {
		char *sl = xstrfmt("%s: %s", comp, buf_str(&b));

		logsys_line((enum logsys_sev)sev, sl);
		free(sl);
	}
	free(masked);
	buf_release(&b);
}

#define LOG_FN(name, min, sev, prefix)				\
	void name(const char *fmt, ...)				\
	{							\
		va_list ap;					\
		if (level < (min))				\
			return;					\
		va_start(ap, fmt);				\
		emit(sev, NULL, prefix, fmt, ap);		\
		va_end(ap);					\
	}

LOG_FN(log_error, LOG_QUIET, 0, "")
LOG_FN(log_warn, LOG_NORMAL, 1, "warning: ")
LOG_FN(log_info, LOG_NORMAL, 2, "")
LOG_FN(log_verbose, LOG_VERBOSE, 2, "")
LOG_FN(log_debug, LOG_DEBUG, 3, "debug: ")

void log_error_in(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(0, cmd, "", fmt, ap);
	va_end(ap);
}

void log_block(const char *text)
{
	size_t n = strlen(text);

	if (format == LOG_TEXT) {
		fputs(text, stderr);
		return;
	}
	while (n && text[n - 1] == '\n')
		n--;
	log_error("%.*s", (int)n, text);
}
