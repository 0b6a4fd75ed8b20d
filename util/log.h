/*
 * log: every line ferry writes to stderr goes through here, so verbosity and
 * secret masking are decided in one place.  Registered secrets are replaced
 * by "****" in anything logged, a last line of defence behind the rule that
 * secrets are never formatted into messages at all.
 */
#ifndef FERRY_UTIL_LOG_H
#define FERRY_UTIL_LOG_H

enum log_level { LOG_QUIET = 0, LOG_NORMAL = 1, LOG_VERBOSE = 2, LOG_DEBUG = 3 };

void log_set_level(enum log_level l);
enum log_level log_get_level(void);
/* Copies s; it is masked in all later output.  Short strings are ignored. */
void log_add_secret(const char *s);
void log_forget_secrets(void);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Masks registered secrets in s in place (same length not kept); caller
 * owns the result: returns a new string, free() it. */
char *log_mask(const char *s);

#endif
