/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel symbols from /proc/kallsyms, for symbolizing stacks and callers:
 * ksyms__load(), then ksyms__search() returns the symbol at or below an
 * address (with its module), or NULL.  Addresses read as 0 without
 * CAP_SYSLOG; the tools run as root.
 */
#ifndef __KSYMS_H
#define __KSYMS_H

#include <stddef.h>
#include <stdint.h>

struct ksym {
	uint64_t addr;
	const char *name;
	const char *module;	/* NULL for vmlinux */
};

struct ksyms;

struct ksyms *ksyms__load(void);
/* From another file in the kallsyms format (tests). */
struct ksyms *ksyms__load_file(const char *path);
void ksyms__free(struct ksyms *ks);
const struct ksym *ksyms__search(const struct ksyms *ks, uint64_t addr);
size_t ksyms__count(const struct ksyms *ks);

/*
 * Symbols of any type (data too, which ksyms__load() leaves out) of module,
 * NULL for vmlinux, from a file in the kallsyms format, in one pass: 0 and
 * all n addrs[], or for the first of names[] that failed: -ENOENT when it is
 * not there, -EPERM when it reads as 0 (kptr_restrict, or no CAP_SYSLOG).
 * -errno when the file cannot be read. After -ENOENT or -EPERM the first
 * addrs[] that reads 0 names the symbol that failed.
 */
int ksyms__lookup_file(const char *path, const char *module,
		       const char *const names[], uint64_t addrs[], size_t n);

/* "name+0xoff [module]" into buf, or "0x<addr>" when unknown. */
const char *ksyms__format(const struct ksyms *ks, uint64_t addr, char *buf, size_t len);

#endif /* __KSYMS_H */
