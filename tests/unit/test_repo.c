/* backup/repo.c: archive names, stamps and the sidecar path. */
#include "backup/repo.h"
#include "tests/unit/t.h"

#include <stdlib.h>

int main(void)
{
	time_t t = 0;
	unsigned seq = 0;
	char stamp[17];
	char *s;

	T_OK(repo_parse_name("app-20261123T031500Z.tar.zst", "app", ".tar.zst",
			     &t, &seq) == 0 && seq == 1, "plain name parses");
	repo_stamp(t, stamp);
	T_STREQ(stamp, "20261123T031500Z", "stamp round trip");
	T_OK(repo_parse_name("app-20261123T031500Z-2.tar.zst", "app", ".tar.zst",
			     &t, &seq) == 0 && seq == 2, "-N name parses");
	T_OK(repo_parse_name("app-20261123T031500Z-1.tar.zst", "app", ".tar.zst",
			     &t, &seq) < 0, "-1 is not a sequence");
	T_OK(repo_parse_name("app-20261123T031500Z-02.tar.zst", "app", ".tar.zst",
			     &t, &seq) < 0, "leading zero refused");
	T_OK(repo_parse_name("app-20261123T031500Z-x.tar.zst", "app", ".tar.zst",
			     &t, &seq) < 0, "non-digits refused");
	T_OK(repo_parse_name("app-20261123T031500Z.tar.zst.partial", "app",
			     ".tar.zst", &t, &seq) < 0, "partial files are not archives");
	T_OK(repo_parse_name("other-20261123T031500Z.tar.zst", "app", ".tar.zst",
			     &t, &seq) < 0, "another name is not ours");
	T_OK(repo_parse_name("app-20261123T031500.tar.zst", "app", ".tar.zst",
			     &t, &seq) < 0, "a stamp without Z is refused");
	T_OK(repo_parse_name("app-20261332T031500Z.tar.zst", "app", ".tar.zst",
			     &t, &seq) < 0, "month 13 is refused");
	T_OK(repo_parse_name("my-app-20261123T031500Z.tar.zst", "my-app",
			     ".tar.zst", &t, &seq) == 0, "names with dashes");
	T_OK(repo_parse_name("app-20261123T031500Z.tar.zst.enc", "app",
			     ".tar.zst.enc", &t, &seq) == 0, "another suffix");
	s = repo_sidecar_path("/b/app-20261123T031500Z.tar.zst");
	T_STREQ(s, "/b/app-20261123T031500Z.manifest.json", "sidecar of an archive");
	free(s);
	s = repo_sidecar_path("/b/app-20261123T031500Z");
	T_STREQ(s, "/b/app-20261123T031500Z.manifest.json", "sidecar of a stem");
	free(s);
	T_STREQ(repo_base("/a/b/c.tar.zst"), "c.tar.zst", "repo_base");
	T_STREQ(repo_base("c"), "c", "repo_base without a slash");
	return T_DONE();
}
