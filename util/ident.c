#include "util/ident.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void ident_user(struct buf *out)
{
	struct passwd *pw = getpwuid(getuid());
	const char *u = getenv("USER");

	if (pw && pw->pw_name && *pw->pw_name)
		buf_addstr(out, pw->pw_name);
	else if (u && *u)
		buf_addstr(out, u);
	else
		buf_printf(out, "uid%ld", (long)getuid());
}

void ident_host(struct buf *out)
{
	char h[256];

	/* gethostname() need not terminate a name it cut */
	if (gethostname(h, sizeof(h) - 1) < 0)
		h[0] = '\0';
	h[sizeof(h) - 1] = '\0';
	buf_addstr(out, *h ? h : "localhost");
}

void ident_machine(struct buf *out)
{
	char id[64] = "";
	FILE *f = fopen("/etc/machine-id", "re");

	if (!f)
		return;
	if (fgets(id, sizeof(id), f))
		id[strcspn(id, "\r\n")] = '\0';
	fclose(f);
	buf_addstr(out, id);
}

void ident_utc(time_t t, struct buf *out)
{
	struct tm tm;
	char s[32];

	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_addstr(out, s);
}

void ident_age(long long s, struct buf *out)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		buf_printf(out, "%llds", s);
	else if (s < 3600)
		buf_printf(out, s % 60 ? "%lldm%llds" : "%lldm", s / 60, s % 60);
	else if (s < 86400)
		buf_printf(out, s % 3600 / 60 ? "%lldh%lldm" : "%lldh", s / 3600,
			   s % 3600 / 60);
	else
		buf_printf(out, s % 86400 / 3600 ? "%lldd%lldh" : "%lldd",
			   s / 86400, s % 86400 / 3600);
}

int ident_parse_utc(const char *s, time_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return -1;
	if (*end == '.')
		for (end++; *end >= '0' && *end <= '9'; end++)
			;
	if (strcmp(end, "Z"))
		return -1;
	*out = timegm(&tm);
	return 0;
}
