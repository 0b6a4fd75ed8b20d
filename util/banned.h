/*
 * banned: functions ferry's code must not call (git's banned.h).  Each
 * has a bounded or checked replacement: buf_* or snprintf for strcpy,
 * strcat and sprintf; value_int() for atoi and friends (bounded, with an
 * error); strtok_r or strsep for strtok; gmtime_r and localtime_r.
 *
 * The build includes this file before every source file (-include), so
 * the headers that declare them come first; a call then fails to compile
 * with "sorry_X_is_a_banned_function".
 */
#ifndef FERRY_UTIL_BANNED_H
#define FERRY_UTIL_BANNED_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef gets
#define gets(x) BANNED(gets)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef atol
#define atol(x) BANNED(atol)
#undef atoll
#define atoll(x) BANNED(atoll)
#undef gmtime
#define gmtime(x) BANNED(gmtime)
#undef localtime
#define localtime(x) BANNED(localtime)
#undef ctime
#define ctime(x) BANNED(ctime)
#undef asctime
#define asctime(x) BANNED(asctime)

#endif
