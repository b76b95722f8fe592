// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/btf.h>

#include "attach.h"

static const char *const tracefs_roots[] = {
	"/sys/kernel/tracing",
	"/sys/kernel/debug/tracing",
};

bool attach_have_tracefs_event(const char *system, const char *event)
{
	char path[256];
	size_t i;

	for (i = 0; i < sizeof(tracefs_roots) / sizeof(tracefs_roots[0]); i++) {
		snprintf(path, sizeof(path), "%s/events/%s/%s", tracefs_roots[i],
			 system, event);
		if (!access(path, F_OK))
			return true;
	}
	return false;
}

bool attach_kernel_has_btf(void)
{
	return !access("/sys/kernel/btf/vmlinux", R_OK);
}

/* Whether module's BTF (/sys/kernel/btf/<module>) has a type of that kind. */
static bool module_btf_has(const char *module, const char *name, int kind)
{
	struct btf *vmlinux, *btf;
	char path[128];
	bool found;

	snprintf(path, sizeof(path), "/sys/kernel/btf/%s", module);
	if (access(path, R_OK))
		return false;
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		return false;
	btf = btf__parse_split(path, vmlinux);
	found = btf && btf__find_by_name_kind(btf, name, kind) > 0;
	btf__free(btf);
	btf__free(vmlinux);
	return found;
}

/* Without tracefs mounted: the tracepoint's symbol in /proc/kallsyms. */
static bool kallsyms_has(const char *sym)
{
	char line[512], name[256];
	bool found = false;
	FILE *f;

	f = fopen("/proc/kallsyms", "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%*s %*s %255s", name) == 1 && !strcmp(name, sym);
	fclose(f);
	return found;
}

enum vfio_attach_mode attach_detect(char *why, size_t len)
{
	char tmp[1];

	if (!why) {
		why = tmp;
		len = sizeof(tmp);
	}
	if (module_btf_has("vfio", "btf_trace_" ATTACH_PROBE_EVENT, BTF_KIND_TYPEDEF)) {
		snprintf(why, len, "vfio.ko has BTF for its vfio:%s event",
			 ATTACH_PROBE_EVENT);
		return ATTACH_TP_BTF;
	}
	if (attach_have_tracefs_event("vfio", ATTACH_PROBE_EVENT) ||
	    kallsyms_has("__tracepoint_" ATTACH_PROBE_EVENT)) {
		snprintf(why, len, "the vfio:%s event exists, without BTF",
			 ATTACH_PROBE_EVENT);
		return ATTACH_RAW_TP;
	}
	if (module_btf_has("vfio_iommu_type1", "vfio_iommu_type1_ioctl", BTF_KIND_FUNC)) {
		snprintf(why, len, "no vfio:* events; in-tree vfio_iommu_type1 "
			 "has BTF for vfio_iommu_type1_ioctl");
		return ATTACH_FENTRY;
	}
	snprintf(why, len, "no vfio:%s event and no vfio_iommu_type1 module "
		 "with BTF", ATTACH_PROBE_EVENT);
	return ATTACH_NONE;
}

static const char *const mode_names[] = {
	[ATTACH_NONE] = "auto",
	[ATTACH_TP_BTF] = "tp_btf",
	[ATTACH_RAW_TP] = "raw_tp",
	[ATTACH_FENTRY] = "fentry",
};

const char *attach_mode_name(enum vfio_attach_mode mode)
{
	if (mode > ATTACH_FENTRY)
		return "unknown";
	return mode_names[mode];
}

int attach_parse_mode(const char *s, enum vfio_attach_mode *mode)
{
	unsigned int i;

	for (i = 0; i <= ATTACH_FENTRY; i++) {
		if (!strcmp(s, mode_names[i])) {
			*mode = i;
			return 0;
		}
	}
	return -EINVAL;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

int attach_select(struct bpf_object *obj, enum vfio_attach_mode mode)
{
	bool tracepoints = mode == ATTACH_TP_BTF || mode == ATTACH_RAW_TP;
	struct bpf_program *prog;
	int n = 0;

	bpf_object__for_each_program(prog, obj) {
		const char *sec = bpf_program__section_name(prog);
		bool load;

		if (has_prefix(sec, "tp_btf/"))
			load = mode == ATTACH_TP_BTF;
		else if (has_prefix(sec, "raw_tp/"))
			load = mode == ATTACH_RAW_TP;
		else if (has_prefix(sec, "fentry/") || has_prefix(sec, "fexit/") ||
			 has_prefix(sec, "kprobe/") || has_prefix(sec, "kretprobe/"))
			load = mode == ATTACH_FENTRY;
		else if (has_prefix(sec, "iter/"))
			load = false;	/* run once by the loader that needs it, which loads it */
		else if (has_prefix(sec, "tracepoint/syscalls/"))
			load = tracepoints &&
			       attach_have_tracefs_event("syscalls",
							 strrchr(sec, '/') + 1);
		else
			load = bpf_program__autoload(prog);
		bpf_program__set_autoload(prog, load);
		n += load;
	}
	return n;
}

long long attach_read_sysfs_ll(const char *path)
{
	long long v;
	FILE *f;
	int n;

	f = fopen(path, "r");
	if (!f)
		return -errno;
	n = fscanf(f, "%lld", &v);
	fclose(f);
	return n == 1 ? v : -EINVAL;
}

unsigned int attach_intree_dma_entry_limit(void)
{
	long long limit = attach_read_sysfs_ll("/sys/module/vfio_iommu_type1/parameters/dma_entry_limit");

	return limit > 0 && limit <= UINT32_MAX ? limit : 0;
}
