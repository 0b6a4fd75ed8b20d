/* Object keys as archive member paths (backup/minio_name.c). */
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "backup/minio.h"
#include "backup/verify.h"
#include "tests/unit/t.h"

#define NAME(key, want) do {						\
	char *n_ = minio_member_name(key);				\
	T_STREQ(n_, want, "key '" key "'");				\
	free(n_);							\
} while (0)

/* Undoes the %XX escapes (what a name with no "%~" cut stands for). */
static char *unescape(const char *s)
{
	struct buf b = BUF_INIT;

	for (; *s; s++) {
		if (*s == '%' && s[1] && s[2]) {
			char hex[3] = { s[1], s[2], 0 };

			buf_addch(&b, (int)strtol(hex, NULL, 16));
			s += 2;
		} else {
			buf_addch(&b, *s);
		}
	}
	return buf_detach(&b, NULL);
}

static int longest_segment(const char *s)
{
	size_t best = 0;

	while (*s) {
		size_t n = strcspn(s, "/");

		if (n > best)
			best = n;
		s += n;
		if (*s)
			s++;
	}
	return (int)best;
}

static const char *const awkward[] = {
	"plain.txt", "a b", "p+q", "100%", "%2F", "a&b=c?d#e", "ünïcödé/日本.txt",
	"a//b", "a///b", "/lead", "//lead", "trail/", "dir/", "/", "//", ".",
	"..", "./x", "../x", "x/./y", "x/../y", "x/..", ".bucket/policy.json",
	".hidden", "x.part-0000", "x.part-", "a.b.part-1", "tab\there",
	"nl\nhere", "del\x7f", "~tilde", "%~", "a%~b", "back\\slash",
};

int main(void)
{
	char key[1100], key2[1100];
	size_t n = sizeof(awkward) / sizeof(awkward[0]);
	char **names = calloc(n, sizeof(*names));

	NAME("photos/2024/cat.jpg", "photos/2024/cat.jpg");
	NAME("a b", "a b");
	NAME("100%", "100%25");
	NAME("a//b", "a%2F/b");
	NAME("/lead", "%2Flead");
	NAME("dir/", "dir%2F");
	NAME("x/../y", "x/%2E./y");
	NAME(".", "%2E");
	NAME(".bucket/policy.json", "%2Ebucket/policy.json");
	NAME("x.part-0000", "x%2Epart-0000");
	NAME("tab\there", "tab%09here");
	NAME("ünï", "ünï");

	/* Every awkward key: a safe member path, distinct from the others,
	 * and its key again once the escapes are undone. */
	for (size_t i = 0; i < n; i++) {
		char *back, label[128];

		names[i] = minio_member_name(awkward[i]);
		back = unescape(names[i]);
		snprintf(label, sizeof(label), "safe member path for key #%zu",
			 i);
		T_OK(verify_safe_name(names[i]), label);
		snprintf(label, sizeof(label), "key #%zu comes back", i);
		T_STREQ(back, awkward[i], label);
		T_OK(!strstr(names[i], ".part-"), "no '.part-' in a name");
		T_OK(names[i][0] != '.', "no name starts with '.'");
		free(back);
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (!strcmp(names[i], names[j]))
				T_OK(0, "distinct keys, distinct names");
	T_OK(1, "distinct keys, distinct names (all pairs)");

	/* 1,024-byte keys: one segment, and segments of 250 bytes. */
	memset(key, 'k', 1024);
	key[1024] = '\0';
	memcpy(key2, key, sizeof(key));
	key2[1023] = 'x';
	{
		char *a = minio_member_name(key), *b = minio_member_name(key2);

		T_OK(verify_safe_name(a), "1024-byte key: safe path");
		T_OK(longest_segment(a) <= MINIO_SEGMENT_MAX,
		     "1024-byte key: no segment above MINIO_SEGMENT_MAX");
		T_OK(strstr(a, "%~") != NULL, "1024-byte key: cut, marked %~");
		T_OK(strcmp(a, b) != 0, "two long keys differing at the end "
		     "get different names");
		free(a);
		free(b);
	}
	for (int i = 250; i < 1024; i += 251)
		key[i] = '/';
	{
		char *a = minio_member_name(key);

		T_OK(verify_safe_name(a) && longest_segment(a) <= MINIO_SEGMENT_MAX,
		     "1024-byte key in 250-byte segments: safe, short segments");
		free(a);
	}
	/* A cut never splits a UTF-8 character or an escape. */
	{
		struct buf b = BUF_INIT;
		char *a;

		for (int i = 0; i < 300; i++)
			buf_addstr(&b, i % 3 ? "é" : "%");
		a = minio_member_name(buf_str(&b));
		T_OK(longest_segment(a) <= MINIO_SEGMENT_MAX, "multibyte key cut "
		     "short enough");
		T_OK(strstr(a, "%~") &&
		     (((unsigned char)strstr(a, "%~")[-1] & 0xc0) != 0xc0),
		     "multibyte key cut at a character boundary");
		T_OK(strstr(a, "%~")[-1] != '%' && strstr(a, "%~")[-2] != '%',
		     "multibyte key cut outside an escape");
		free(a);
		buf_release(&b);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return T_DONE();
}
