// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksyms.h"

struct ksyms {
	struct ksym *syms;
	size_t nr, cap;
	char *strs;		/* names and modules, NUL-separated */
	size_t strs_len, strs_cap;
};

/* Offsets into strs while loading (it moves as it grows). */
static long add_str(struct ksyms *ks, const char *s)
{
	size_t len = strlen(s) + 1;
	long off;

	if (ks->strs_len + len > ks->strs_cap) {
		size_t cap = ks->strs_cap ? ks->strs_cap * 2 : 1 << 20;
		char *n;

		while (cap < ks->strs_len + len)
			cap *= 2;
		n = realloc(ks->strs, cap);
		if (!n)
			return -1;
		ks->strs = n;
		ks->strs_cap = cap;
	}
	off = ks->strs_len;
	memcpy(ks->strs + off, s, len);
	ks->strs_len += len;
	return off;
}

static int sym_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

struct ksyms *ksyms__load_file(const char *path)
{
	char line[512], name[256], mod[128];
	struct ksyms *ks;
	FILE *f;
	size_t i;

	f = fopen(path, "r");
	if (!f)
		return NULL;
	ks = calloc(1, sizeof(*ks));
	if (!ks)
		goto err;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long addr;
		char type;
		long name_off, mod_off = -1;
		int n;

		mod[0] = '\0';
		n = sscanf(line, "%llx %c %255s [%127[^]]]", &addr, &type, name, mod);
		if (n < 3)
			continue;
		/* Text symbols only: stacks and callers point into code. */
		if (type != 't' && type != 'T' && type != 'W' && type != 'w')
			continue;
		if (ks->nr == ks->cap) {
			size_t cap = ks->cap ? ks->cap * 2 : 65536;
			struct ksym *s = realloc(ks->syms, cap * sizeof(*s));

			if (!s)
				goto err;
			ks->syms = s;
			ks->cap = cap;
		}
		name_off = add_str(ks, name);
		if (n == 4 && mod[0])
			mod_off = add_str(ks, mod);
		if (name_off < 0 || (n == 4 && mod[0] && mod_off < 0))
			goto err;
		/* Store offsets for now; pointers once strs stops moving. */
		ks->syms[ks->nr].addr = addr;
		ks->syms[ks->nr].name = (const char *)(uintptr_t)name_off;
		ks->syms[ks->nr].module = (const char *)(intptr_t)mod_off;
		ks->nr++;
	}
	fclose(f);
	for (i = 0; i < ks->nr; i++) {
		intptr_t m = (intptr_t)ks->syms[i].module;

		ks->syms[i].name = ks->strs + (uintptr_t)ks->syms[i].name;
		ks->syms[i].module = m < 0 ? NULL : ks->strs + m;
	}
	qsort(ks->syms, ks->nr, sizeof(*ks->syms), sym_cmp);
	return ks;
err:
	fclose(f);
	ksyms__free(ks);
	return NULL;
}

struct ksyms *ksyms__load(void)
{
	return ksyms__load_file("/proc/kallsyms");
}

/*
 * A line that can name a symbol of module: "[module]" ends it, or, for
 * vmlinux, nothing does. Most of /proc/kallsyms is not the module we want;
 * this check lets those lines skip sscanf(), the cost of a lookup.
 */
static bool line_of_module(const char *line, const char *module)
{
	const char *open = strchr(line, '[');
	size_t len;

	if (!module)
		return !open;
	if (!open)
		return false;
	len = strlen(module);
	return !strncmp(open + 1, module, len) && open[1 + len] == ']';
}

int ksyms__lookup_file(const char *path, const char *module,
		       const char *const names[], uint64_t addrs[], size_t n)
{
	char line[512], sym[256];
	unsigned long long a;
	size_t i, left = n;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -errno;
	for (i = 0; i < n; i++)
		addrs[i] = UINT64_MAX;		/* not seen yet */
	while (left && fgets(line, sizeof(line), f)) {
		if (!line_of_module(line, module) ||
		    sscanf(line, "%llx %*c %255s", &a, sym) != 2)
			continue;
		for (i = 0; i < n; i++) {
			if (addrs[i] == UINT64_MAX && !strcmp(sym, names[i])) {
				addrs[i] = a;
				left--;
				break;
			}
		}
	}
	fclose(f);
	/* The first name that failed decides; its addrs[] reads 0. */
	for (i = 0; i < n; i++) {
		if (addrs[i] == UINT64_MAX) {
			addrs[i] = 0;
			return -ENOENT;
		}
		if (!addrs[i])
			return -EPERM;
	}
	return 0;
}

void ksyms__free(struct ksyms *ks)
{
	if (!ks)
		return;
	free(ks->syms);
	free(ks->strs);
	free(ks);
}

size_t ksyms__count(const struct ksyms *ks)
{
	return ks ? ks->nr : 0;
}

const struct ksym *ksyms__search(const struct ksyms *ks, uint64_t addr)
{
	size_t lo = 0, hi;

	if (!ks || !ks->nr || addr < ks->syms[0].addr || !addr)
		return NULL;
	hi = ks->nr;
	/* The last symbol whose address is <= addr. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return &ks->syms[lo];
}

const char *ksyms__format(const struct ksyms *ks, uint64_t addr, char *buf, size_t len)
{
	const struct ksym *s = ksyms__search(ks, addr);

	if (!s)
		snprintf(buf, len, "0x%" PRIx64, addr);
	else if (s->module)
		snprintf(buf, len, "%s+0x%" PRIx64 " [%s]", s->name, addr - s->addr, s->module);
	else
		snprintf(buf, len, "%s+0x%" PRIx64, s->name, addr - s->addr);
	return buf;
}
