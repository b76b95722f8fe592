/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The report of the POWER SPAPR TCE tests (tests/power/spapr_tce_v*.c):
 * one line per check, "ok   name: what" or "FAIL name: what", the same on
 * Debian's in-tree stack and on ours so that the guest script can diff
 * the two outputs.  Values are what an ioctl returned or -errno, printed
 * as "0", "1" or "EINVAL".
 *
 * report_ours says which stack runs: it matters only to the _differs
 * checks, where ours answers otherwise than 6.1 on purpose; each stack
 * must give its own value, and both print the same line.
 */
#ifndef __SPAPR_REPORT_H
#define __SPAPR_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

extern bool report_ours;	/* the stack under test is ours, not 6.1 */
extern int report_failures;	/* checks that failed so far */

bool report(bool ok, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A positive return is kept apart from 0: 6.1 returns 1 from some refusals. */
bool check_ret(const char *name, long ret, long want);
bool check_ret_differs(const char *name, long ret, long want_intree, long want_ours);
bool check_u64(const char *name, const char *what, uint64_t got, uint64_t want);
bool check_long(const char *name, const char *what, long got, long want);
bool check_long_differs(const char *name, const char *what, long got,
			long want_intree, long want_ours);
/* ioctl() as a value: what it returned, or -errno. */
long ioctl_ret(int fd, unsigned long cmd, void *arg);

/* Whether all n bytes at p are v. */
bool all_bytes(const uint8_t *p, size_t n, uint8_t v);

#endif /* __SPAPR_REPORT_H */
