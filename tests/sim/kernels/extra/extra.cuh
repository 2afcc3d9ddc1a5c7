// A header found only through an -I option (tests/sim/test_compiler.py).
#pragma once
#define EXTRA_VALUE 11
