/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Ids for Debian's in-tree containers (fentry mode), which have none of
 * their own: the id state, and the iterator that tells which containers
 * still live.  Included by bpf/vfio_dma.bpf.h.
 *
 * The state is a map rather than .bss so that it can outlive the
 * collector: the exporter's collector pins it, with intree_containers,
 * under /sys/fs/bpf/vfioscope-state/ and the next one takes it over, so
 * a container keeps its id across restarts (tools/lib/intree_ids.h).
 */
#ifndef __INTREE_IDS_BPF_H
#define __INTREE_IDS_BPF_H

#include "vfio_tools.h"
#include "log2.bpf.h"

/* The in-tree ids in use, one bit each (struct intree_id_state). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct intree_id_state);
} intree_ids SEC(".maps");

static __always_inline struct intree_id_state *intree_id_state(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&intree_ids, &zero);
}

/*
 * The smallest free id, or 0 when all are taken.  A word another CPU
 * changed under us is tried again, a few times.  Id 0 is never handed
 * out, whatever the state says: a map that user space did not set up
 * reads as all free.
 */
static __always_inline __u32 intree_id_alloc(void)
{
	struct intree_id_state *s = intree_id_state();

	if (!s)
		return 0;
	for (int i = 0; i < COLL_MAX_CONTAINERS / 64; i++) {
		for (int try = 0; try < 4; try++) {
			__u64 w = s->words[i] | (i == 0), bit = ~w & (w + 1);

			if (!bit)
				break;		/* full */
			if (!(__sync_fetch_and_or(&s->words[i], bit) & bit))
				return i * 64 + log2_slot(bit);
		}
	}
	return 0;
}

static __always_inline void intree_id_free(__u32 id)
{
	struct intree_id_state *s = intree_id_state();

	/* The verifier wants the word's index bounded where it is used. */
	if (s && id && id < COLL_MAX_CONTAINERS)
		__sync_fetch_and_and(&s->words[index_bounded(id / 64, COLL_MAX_CONTAINERS / 64)],
				     ~(1ULL << (id % 64)));
}

/* ---- which in-tree containers live ------------------------------------------- */

/*
 * vfio.ko's file_operations of its three kinds of file, from
 * /proc/kallsyms (static symbols: no BTF names them).  0: not found, and
 * the iterator is then not loaded at all.
 */
const volatile __u64 targ_vfio_fops = 0;	/* /dev/vfio/vfio: a container */
const volatile __u64 targ_vfio_group_fops = 0;	/* /dev/vfio/N: a group */
const volatile __u64 targ_vfio_device_fops = 0;	/* a device fd */

/*
 * The fields of 6.1's drivers/vfio private structs the iterator follows,
 * relocated against vfio.ko's BTF: a container file's private_data is its
 * struct vfio_container (container.c), whose iommu_data is the type1
 * struct vfio_iommu that keys intree_containers; a group file's is its
 * struct vfio_group (vfio.h), whose container is NULL until
 * VFIO_GROUP_SET_CONTAINER; a device file's is its struct vfio_device
 * (<linux/vfio.h>) on 6.1, and a struct vfio_device_file that points to
 * it from 6.3 on (6.12: drivers/vfio/vfio.h); the device's group holds
 * the container for as long as the device is open.
 */
struct vfio_container___vfioscope {
	void *iommu_data;
} __attribute__((preserve_access_index));

struct vfio_group___vfioscope {
	struct vfio_container___vfioscope *container;
} __attribute__((preserve_access_index));

struct vfio_device___vfioscope {
	struct vfio_group___vfioscope *group;
} __attribute__((preserve_access_index));

struct vfio_device_file___vfioscope {
	struct vfio_device___vfioscope *device;
} __attribute__((preserve_access_index));

/*
 * Every open file of every process: the key of each in-tree container
 * reachable from one is written out (8 bytes, possibly repeated), and
 * user space drops the carried-over entries of the others, which were
 * released while no collector watched.  Run once, before attaching.
 */
SEC("iter/task_file")
int intree_live(struct bpf_iter__task_file *ctx)
{
	struct vfio_container___vfioscope *container = NULL;
	struct vfio_group___vfioscope *group = NULL;
	struct file *file = ctx->file;
	__u64 fops, key;
	void *priv;

	if (!file)
		return 0;
	fops = (__u64)BPF_CORE_READ(file, f_op);
	priv = BPF_CORE_READ(file, private_data);
	if (!fops || !priv)
		return 0;
	if (fops == targ_vfio_fops) {
		container = priv;
	} else if (fops == targ_vfio_group_fops) {
		group = priv;
	} else if (fops == targ_vfio_device_fops) {
		struct vfio_device___vfioscope *device = priv;

		/* Resolved at load: 0 on 6.1, whose vfio.ko has no such type. */
		if (bpf_core_type_exists(struct vfio_device_file___vfioscope)) {
			struct vfio_device_file___vfioscope *df = priv;

			device = BPF_CORE_READ(df, device);
		}
		group = BPF_CORE_READ(device, group);
	}
	if (group)
		container = BPF_CORE_READ(group, container);
	if (!container)
		return 0;
	key = (__u64)BPF_CORE_READ(container, iommu_data);
	if (key)
		bpf_seq_write(ctx->meta->seq, &key, sizeof(key));
	return 0;
}

#endif /* __INTREE_IDS_BPF_H */
