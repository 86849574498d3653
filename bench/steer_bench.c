// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
int main(void)
{
	fputs("steer-bench: under construction\n", stderr);
	return 1;
}
