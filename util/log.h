/*
 * log: every line ferry writes to stderr goes through here, so verbosity,
 * format and secret masking are decided in one place.  Registered secrets
 * are replaced by "****" in anything logged, a last line of defence behind
 * the rule that secrets are never formatted into messages at all.
 *
 * Text lines read "ferry: MESSAGE" ("ferry CMD: MESSAGE" for a command's
 * usage errors); JSON lines are one object each:
 *   {"time":"2026-11-23T03:15:00.123Z","level":"error","component":"backup",
 *    "message":"..."}
 * with level error, warning, info or debug.  With syslog on, every line
 * also goes to syslog (ident "ferry", facility daemon).
 */
#ifndef FERRY_UTIL_LOG_H
#define FERRY_UTIL_LOG_H

enum log_level { LOG_QUIET = 0, LOG_NORMAL = 1, LOG_VERBOSE = 2, LOG_DEBUG = 3 };

enum log_format { LOG_TEXT = 0, LOG_JSON = 1 };

void log_set_level(enum log_level l);
void log_set_format(enum log_format f);
enum log_format log_get_format(void);
/* "text" or "json"; 0, or -1 for anything else. */
int log_parse_format(const char *s, enum log_format *f);
/* The part of ferry the next lines come from ("backup", "daemon"): JSON's
 * component; copied; NULL: "ferry". */
void log_set_component(const char *name);
/* Also send every line to syslog (1), or stop (0). */
void log_set_syslog(int on);
enum log_level log_get_level(void);
/* Copies s; it is masked in all later output.  Short strings are ignored. */
void log_add_secret(const char *s);
void log_forget_secrets(void);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A usage error of command cmd (NULL: of ferry itself): text "ferry CMD:
 * MESSAGE", JSON with component cmd. */
void log_error_in(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A block of text for stderr as it is (a usage summary); in JSON one error
 * line whose message is the text. */
void log_block(const char *text);

/* Masks registered secrets in s in place (same length not kept); caller
 * owns the result: returns a new string, free() it. */
char *log_mask(const char *s);

#endif
