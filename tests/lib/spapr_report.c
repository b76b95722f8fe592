// SPDX-License-Identifier: GPL-2.0
/* The report of the POWER SPAPR TCE tests: see spapr_report.h. */
#define _GNU_SOURCE	/* strerrorname_np() */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "spapr_report.h"

bool report_ours;
int report_failures;

bool report(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("%-4s %s: ", ok ? "ok" : "FAIL", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		report_failures++;
	return ok;
}

static const char *errname(int err)
{
	const char *s = err ? strerrorname_np(err) : "0";

	return s ? s : "E?";
}

/* "EINVAL" for -EINVAL, the number for a return value >= 0. */
static const char *retname(long ret, char *buf, size_t len)
{
	if (ret < 0)
		return errname((int)-ret);
	snprintf(buf, len, "%ld", ret);
	return buf;
}

bool check_ret(const char *name, long ret, long want)
{
	char g[24], w[24];

	if (ret == want)
		return report(true, name, "%s", retname(ret, g, sizeof(g)));
	return report(false, name, "%s, want %s", retname(ret, g, sizeof(g)),
		      retname(want, w, sizeof(w)));
}

bool check_ret_differs(const char *name, long ret, long want_intree, long want_ours)
{
	char g[24], wi[24], wo[24];
	const char *si = retname(want_intree, wi, sizeof(wi));
	const char *so = retname(want_ours, wo, sizeof(wo));

	if (ret == (report_ours ? want_ours : want_intree))
		return report(true, name, "6.1 %s, ours %s (on purpose)", si, so);
	return report(false, name, "%s, want %s", retname(ret, g, sizeof(g)),
		      report_ours ? so : si);
}

bool check_u64(const char *name, const char *what, uint64_t got, uint64_t want)
{
	if (got == want)
		return report(true, name, "%s=0x%llx", what, (unsigned long long)got);
	return report(false, name, "%s=0x%llx, want 0x%llx", what,
		      (unsigned long long)got, (unsigned long long)want);
}

bool check_long(const char *name, const char *what, long got, long want)
{
	if (got == want)
		return report(true, name, "%s=%ld", what, got);
	return report(false, name, "%s=%ld, want %ld", what, got, want);
}

bool check_long_differs(const char *name, const char *what, long got,
			long want_intree, long want_ours)
{
	if (got == (report_ours ? want_ours : want_intree))
		return report(true, name, "%s: 6.1 %ld, ours %ld (on purpose)", what,
			      want_intree, want_ours);
	return report(false, name, "%s=%ld, want %ld", what, got,
		      report_ours ? want_ours : want_intree);
}

long ioctl_ret(int fd, unsigned long cmd, void *arg)
{
	long r = ioctl(fd, cmd, arg);

	return r < 0 ? -errno : r;
}

bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}
