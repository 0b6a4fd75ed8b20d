#include "tests/unit/t.h"
int main(void) { return T_DONE(); }
