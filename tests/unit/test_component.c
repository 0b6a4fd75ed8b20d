/* backup/component.c: the table and member-name encoding. */
#include "backup/component.h"
#include "backup/verify.h"
#include "tests/unit/t.h"

#include <stdlib.h>

static void part(const char *in, const char *want, const char *name)
{
	char *got = component_member_part(in);

	T_STREQ(got, want, name);
	T_OK(verify_safe_name(got), "the encoding is a safe member name");
	free(got);
}

int main(void)
{
	part("plain", "plain", "plain names pass");
	part("a/b", "a%2Fb", "slash escaped");
	part("50%", "50%25", "percent escaped");
	part("..", "%2E.", "a leading dot escaped (..)");
	part(".", "%2E", "a leading dot escaped (.)");
	part("", "%00", "the empty name is not empty");
	part("tab\there", "tab%09here", "control bytes escaped");
	part("ünï", "ünï", "UTF-8 passes");
	T_OK(component_find("postgres") != NULL, "postgres is a component");
	T_OK(component_find("mysql") == NULL, "mysql is not");
	T_OK(component_count() >= 6, "the table lists every source");
	T_OK(!verify_safe_name("../x") && !verify_safe_name("/abs") &&
	     !verify_safe_name("a//b") && verify_safe_name("a/b"),
	     "verify_safe_name refuses escapes");
	return T_DONE();
}
