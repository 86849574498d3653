// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
int main(void)
{
	fputs("steer-replay: under construction\n", stderr);
	return 1;
}
