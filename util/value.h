/*
 * value: parsers for the typed scalars of the config file and the command
 * line.  Each returns 0 and stores the value, or -1 leaving *out untouched;
 * callers word the error, since only they know which key was at fault.
 */
#ifndef FERRY_UTIL_VALUE_H
#define FERRY_UTIL_VALUE_H

int value_int(const char *s, long long min, long long max, long long *out);
int value_port(const char *s, long long *out);
/* yes/no, true/false, on/off, 1/0 (any case) -> 1/0. */
int value_bool(const char *s, long long *out);
/* "90", "30s", "5m", "1h30m", "250ms", "2d", "1w" -> milliseconds.
 * A bare number is seconds. */
int value_duration_ms(const char *s, long long *out);

#endif
