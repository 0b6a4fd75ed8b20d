#include "util/value.h"
#include "tests/unit/t.h"

static long long v;

#define DUR(s, want) do {						\
	v = -1;								\
	T_OK(value_duration_ms(s, &v) == 0 && v == (want),		\
	     "duration '" s "' = " #want " ms");			\
} while (0)

#define BAD_DUR(s) T_OK(value_duration_ms(s, &v) < 0, "duration '" s "' rejected")

int main(void)
{
	DUR("30s", 30000);
	DUR("5m", 300000);
	DUR("1h30m", 5400000);
	DUR("250ms", 250);
	DUR("2d", 172800000);
	DUR("1w", 604800000);
	DUR("90", 90000);
	DUR("0", 0);
	BAD_DUR("");
	BAD_DUR("5x");
	BAD_DUR("m5");
	BAD_DUR("-5s");
	BAD_DUR("5 s");
	BAD_DUR("99999999999999999999s");

	T_OK(value_port("22", &v) == 0 && v == 22, "port 22");
	T_OK(value_port("65535", &v) == 0, "port 65535");
	T_OK(value_port("0", &v) < 0, "port 0 rejected");
	T_OK(value_port("65536", &v) < 0, "port 65536 rejected");
	T_OK(value_port("22a", &v) < 0, "port 22a rejected");
	T_OK(value_port(" 22", &v) < 0, "port with a blank rejected");

	T_OK(value_bool("yes", &v) == 0 && v == 1, "bool yes");
	T_OK(value_bool("Off", &v) == 0 && v == 0, "bool Off");
	T_OK(value_bool("TRUE", &v) == 0 && v == 1, "bool TRUE");
	T_OK(value_bool("0", &v) == 0 && v == 0, "bool 0");
	T_OK(value_bool("maybe", &v) < 0, "bool maybe rejected");

	T_OK(value_int("-3", -5, 5, &v) == 0 && v == -3, "int in range");
	T_OK(value_int("6", -5, 5, &v) < 0, "int above range rejected");
	T_OK(value_int("0x10", 0, 100, &v) < 0, "hex rejected");
	return T_DONE();
}
