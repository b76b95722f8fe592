// SPDX-License-Identifier: GPL-2.0
/* A process is its pid and its start (process.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "process.h"

/* Fields of /proc/PID/stat after the command's ")": state is the 3rd. */
#define STAT_FIELD_STATE	3
#define STAT_FIELD_STARTTIME	22

int process_start_ticks(uint32_t pid, uint64_t *ticks)
{
	char path[32], buf[1024], *p, *end;
	unsigned long long v;
	size_t n;
	FILE *f;
	int field;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command may hold spaces and parentheses: skip to the last ")". */
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	p++;
	for (field = STAT_FIELD_STATE; field < STAT_FIELD_STARTTIME; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -EINVAL;
	}
	errno = 0;
	v = strtoull(p + 1, &end, 10);
	if (errno || end == p + 1)
		return -EINVAL;
	*ticks = v;
	return 0;
}

bool process_is(uint32_t pid, uint64_t start_ns)
{
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t ticks;

	if (hz <= 0 || process_start_ticks(pid, &ticks))
		return false;
	/* The kernel's nsec_to_clock_t(): whole ticks, rounded down. */
	return ticks == start_ns / (1000000000ULL / hz);
}
