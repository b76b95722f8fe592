/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfioscope trace events: the contract between the driver stack and the
 * tools.  It is an ABI: every event and field is documented in
 * docs/tracepoints.md (a test keeps the two in step); change it on purpose.
 *
 * Objects are named by small stable ids, never by kernel pointers:
 *   container  from an IDA, >= 1, unique among live containers
 *   group      the IOMMU group id (/dev/vfio/<group>)
 *   device     from an IDA, >= 1, unique among registered devices
 * The same id appears in every event about the object, so tools can join.
 *
 * TP_PROTO arguments are plain scalars (and two strings), so raw_tp
 * programs read them without BTF; tp_btf programs see the same arguments.
 * Failed operations emit their event too, with ret < 0 (a negative errno).
 *
 * Exactly one file of vfio.ko defines CREATE_TRACE_POINTS; the events used
 * by other modules (the IOMMU backends: vfio_dma_map/unmap; vfio-pci:
 * vfio_device_reset, vfio_ioeventfd) are exported from there.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vfio

#if !defined(__VFIO_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define __VFIO_TRACE_H

#include <linux/tracepoint.h>
#include <vfioscope/compat.h>
#include "vfio_trace_abi.h"

TRACE_DEFINE_ENUM(VFIO_TRACE_OBJ_CONTAINER);
TRACE_DEFINE_ENUM(VFIO_TRACE_OBJ_GROUP);
TRACE_DEFINE_ENUM(VFIO_TRACE_OBJ_DEVICE);

#define show_vfio_obj(kind)						\
	__print_symbolic(kind,						\
		{ VFIO_TRACE_OBJ_CONTAINER, "container" },		\
		{ VFIO_TRACE_OBJ_GROUP, "group" },			\
		{ VFIO_TRACE_OBJ_DEVICE, "device" })

/* ---- containers ---------------------------------------------------------- */

DECLARE_EVENT_CLASS(vfio_container_class,
	TP_PROTO(u32 container),
	TP_ARGS(container),
	TP_STRUCT__entry(
		__field(u32, container)
	),
	TP_fast_assign(
		__entry->container = container;
	),
	TP_printk("container=%u", __entry->container)
);

/* open(/dev/vfio/vfio) created a container. */
DEFINE_EVENT(vfio_container_class, vfio_container_open,
	TP_PROTO(u32 container), TP_ARGS(container));

/*
 * The container's fd was closed.  The container lives on while groups or
 * external users still hold it; vfio_container_release says when it goes.
 */
DEFINE_EVENT(vfio_container_class, vfio_container_close,
	TP_PROTO(u32 container), TP_ARGS(container));

/* The container's last reference is gone: it is freed now. */
DEFINE_EVENT(vfio_container_class, vfio_container_release,
	TP_PROTO(u32 container), TP_ARGS(container));

/* VFIO_SET_IOMMU on a container: backend name, the ioctl's type argument. */
TRACE_EVENT(vfio_iommu_set,
	TP_PROTO(u32 container, const char *driver, u32 type, int ret),
	TP_ARGS(container, driver, type, ret),
	TP_STRUCT__entry(
		__field(u32, container)
		__string(driver, driver)
		__field(u32, type)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->container = container;
		vfio_compat_assign_str(driver, driver);
		__entry->type = type;
		__entry->ret = ret;
	),
	TP_printk("container=%u driver=%s type=%u ret=%d", __entry->container,
		  __get_str(driver), __entry->type, __entry->ret)
);

/* ---- groups --------------------------------------------------------------- */

DECLARE_EVENT_CLASS(vfio_group_class,
	TP_PROTO(u32 group, int ret),
	TP_ARGS(group, ret),
	TP_STRUCT__entry(
		__field(u32, group)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->group = group;
		__entry->ret = ret;
	),
	TP_printk("group=%u ret=%d", __entry->group, __entry->ret)
);

/* open(/dev/vfio/<group>); a second open fails with ret=-EBUSY. */
DEFINE_EVENT(vfio_group_class, vfio_group_open,
	TP_PROTO(u32 group, int ret), TP_ARGS(group, ret));

/* Last close of a group fd (ret is always 0). */
DEFINE_EVENT(vfio_group_class, vfio_group_release,
	TP_PROTO(u32 group, int ret), TP_ARGS(group, ret));

DECLARE_EVENT_CLASS(vfio_group_container_class,
	TP_PROTO(u32 group, u32 container, int ret),
	TP_ARGS(group, container, ret),
	TP_STRUCT__entry(
		__field(u32, group)
		__field(u32, container)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->group = group;
		__entry->container = container;
		__entry->ret = ret;
	),
	TP_printk("group=%u container=%u ret=%d", __entry->group,
		  __entry->container, __entry->ret)
);

/* VFIO_GROUP_SET_CONTAINER; container=0 when the fd given is not one. */
DEFINE_EVENT(vfio_group_container_class, vfio_group_attach,
	TP_PROTO(u32 group, u32 container, int ret),
	TP_ARGS(group, container, ret));

/* The group left its container: UNSET_CONTAINER or the group's last close. */
DEFINE_EVENT(vfio_group_container_class, vfio_group_detach,
	TP_PROTO(u32 group, u32 container, int ret),
	TP_ARGS(group, container, ret));

/*
 * KVM linked the group to a VM (vfio_file_set_kvm()), or unlinked it
 * (vm_pid=0).  The VM is named as KVM's own uevents name it, by the pid
 * of the task that created it, never by the address of its struct kvm.
 */
TRACE_EVENT(vfio_group_set_kvm,
	TP_PROTO(u32 group, int vm_pid),
	TP_ARGS(group, vm_pid),
	TP_STRUCT__entry(
		__field(u32, group)
		__field(int, vm_pid)
	),
	TP_fast_assign(
		__entry->group = group;
		__entry->vm_pid = vm_pid;
	),
	TP_printk("group=%u vm_pid=%d", __entry->group, __entry->vm_pid)
);

/* ---- devices -------------------------------------------------------------- */

DECLARE_EVENT_CLASS(vfio_device_class,
	TP_PROTO(u32 device, u32 group, const char *name, int ret),
	TP_ARGS(device, group, name, ret),
	TP_STRUCT__entry(
		__field(u32, device)
		__field(u32, group)
		__string_len(name, name, strnlen(name, VFIO_TRACE_NAME_MAX))
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->device = device;
		__entry->group = group;
		vfio_compat_assign_str_len(name, name,
					   strnlen(name, VFIO_TRACE_NAME_MAX));
		__entry->ret = ret;
	),
	TP_printk("device=%u group=%u name=%s ret=%d", __entry->device,
		  __entry->group, __get_str(name), __entry->ret)
);

/* VFIO_GROUP_GET_DEVICE_FD: a device fd was (or failed to be) opened. */
DEFINE_EVENT(vfio_device_class, vfio_device_open,
	TP_PROTO(u32 device, u32 group, const char *name, int ret),
	TP_ARGS(device, group, name, ret));

/* A device fd was closed. */
DEFINE_EVENT(vfio_device_class, vfio_device_release,
	TP_PROTO(u32 device, u32 group, const char *name, int ret),
	TP_ARGS(device, group, name, ret));

/*
 * vfio-pci reset the device, or tried to: kind says why (enum
 * vfio_trace_reset), ret is the reset's result (0, or a negative errno:
 * -ENOTTY when the device has no reset method, -EAGAIN when its lock was
 * busy; for VFIO_DEVICE_RESET, what the ioctl returned).
 */
TRACE_EVENT(vfio_device_reset,
	TP_PROTO(u32 device, const char *name, u32 kind, int ret),
	TP_ARGS(device, name, kind, ret),
	TP_STRUCT__entry(
		__field(u32, device)
		__string_len(name, name, strnlen(name, VFIO_TRACE_NAME_MAX))
		__field(u32, kind)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->device = device;
		vfio_compat_assign_str_len(name, name,
					   strnlen(name, VFIO_TRACE_NAME_MAX));
		__entry->kind = kind;
		__entry->ret = ret;
	),
	TP_printk("device=%u name=%s kind=%s ret=%d", __entry->device,
		  __get_str(name),
		  __print_symbolic(__entry->kind,
				   { VFIO_TRACE_RESET_OPEN, "open" },
				   { VFIO_TRACE_RESET_IOCTL, "ioctl" },
				   { VFIO_TRACE_RESET_FLR, "flr" },
				   { VFIO_TRACE_RESET_CLOSE, "close" },
				   { VFIO_TRACE_RESET_HOT, "hot" },
				   { VFIO_TRACE_RESET_BUS, "bus" }),
		  __entry->ret)
);

/* ---- vfio-pci ioeventfds ------------------------------------------------------ */

/*
 * VFIO_DEVICE_IOEVENTFD registered (add = 1) or removed (add = 0, fd -1)
 * an ioeventfd: a write of data, size bytes wide, at offset in BAR bar,
 * each time its eventfd is signalled.  The device's last close removes
 * those left, one event each (add = 0, ret = 0).  bar, offset, size and
 * data are as user space asked, also when the ioctl fails (ret < 0; one
 * whose argument could not be read emits nothing).
 */
TRACE_EVENT(vfio_ioeventfd,
	TP_PROTO(u32 device, const char *name, u32 bar, u64 offset, u32 size,
		 u64 data, u32 add, int ret),
	TP_ARGS(device, name, bar, offset, size, data, add, ret),
	TP_STRUCT__entry(
		__field(u32, device)
		__string_len(name, name, strnlen(name, VFIO_TRACE_NAME_MAX))
		__field(u32, bar)
		__field(u64, offset)
		__field(u32, size)
		__field(u64, data)
		__field(u32, add)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->device = device;
		vfio_compat_assign_str_len(name, name,
					   strnlen(name, VFIO_TRACE_NAME_MAX));
		__entry->bar = bar;
		__entry->offset = offset;
		__entry->size = size;
		__entry->data = data;
		__entry->add = add;
		__entry->ret = ret;
	),
	TP_printk("device=%u name=%s bar=%u offset=0x%llx size=%u data=0x%llx add=%u ret=%d",
		  __entry->device, __get_str(name), __entry->bar,
		  __entry->offset, __entry->size, __entry->data, __entry->add,
		  __entry->ret)
);

/* ---- external users --------------------------------------------------------- */

DECLARE_EVENT_CLASS(vfio_external_user_class,
	TP_PROTO(u32 group, u32 container, u32 users, unsigned long caller,
		 int ret),
	TP_ARGS(group, container, users, caller, ret),
	TP_STRUCT__entry(
		__field(u32, group)
		__field(u32, container)
		__field(u32, users)
		__field(unsigned long, caller)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->group = group;
		__entry->container = container;
		__entry->users = users;
		__entry->caller = caller;
		__entry->ret = ret;
	),
	TP_printk("group=%u container=%u users=%u caller=%pS ret=%d",
		  __entry->group, __entry->container, __entry->users,
		  (void *)__entry->caller, __entry->ret)
);

/* vfio_group_get_external_user(); users = the container's users after. */
DEFINE_EVENT(vfio_external_user_class, vfio_external_user_get,
	TP_PROTO(u32 group, u32 container, u32 users, unsigned long caller,
		 int ret),
	TP_ARGS(group, container, users, caller, ret));

/* vfio_group_put_external_user(); users = the container's users after. */
DEFINE_EVENT(vfio_external_user_class, vfio_external_user_put,
	TP_PROTO(u32 group, u32 container, u32 users, unsigned long caller,
		 int ret),
	TP_ARGS(group, container, users, caller, ret));

/* ---- DMA mappings (vfio_iommu_type1, vfio_iommu_spapr_tce) ------------------------ */

DECLARE_EVENT_CLASS(vfio_dma_class,
	TP_PROTO(u32 container, u64 iova, u64 size, u32 flags, u64 npages,
		 u32 entries, u64 pinned, int ret, u64 total_ns, u64 pin_ns,
		 u64 iommu_ns, u64 seq),
	TP_ARGS(container, iova, size, flags, npages, entries, pinned, ret,
		total_ns, pin_ns, iommu_ns, seq),
	TP_STRUCT__entry(
		__field(u32, container)
		__field(u64, iova)
		__field(u64, size)
		__field(u32, flags)
		__field(u64, npages)
		__field(u32, entries)
		__field(u64, pinned)
		__field(int, ret)
		__field(u64, total_ns)
		__field(u64, pin_ns)
		__field(u64, iommu_ns)
		__field(u64, seq)
	),
	TP_fast_assign(
		__entry->container = container;
		__entry->iova = iova;
		__entry->size = size;
		__entry->flags = flags;
		__entry->npages = npages;
		__entry->entries = entries;
		__entry->pinned = pinned;
		__entry->ret = ret;
		__entry->total_ns = total_ns;
		__entry->pin_ns = pin_ns;
		__entry->iommu_ns = iommu_ns;
		__entry->seq = seq;
	),
	TP_printk("container=%u iova=0x%llx size=0x%llx flags=0x%x npages=%llu entries=%u pinned=%llu ret=%d total_ns=%llu pin_ns=%llu iommu_ns=%llu seq=%llu",
		  __entry->container, __entry->iova, __entry->size,
		  __entry->flags, __entry->npages, __entry->entries,
		  __entry->pinned, __entry->ret, __entry->total_ns,
		  __entry->pin_ns, __entry->iommu_ns, __entry->seq)
);

/*
 * VFIO_IOMMU_MAP_DMA.  size: bytes requested; npages: pages this map
 * pinned; entries/pinned: the container's DMA entries and pinned pages
 * after; seq: the container's operation number,
 * so the event with the highest seq has its current levels (events are
 * emitted after the container's lock is dropped, so they may arrive out
 * of order); total_ns: the whole operation, of which pin_ns pinning and
 * iommu_ns in iommu_map().
 */
DEFINE_EVENT(vfio_dma_class, vfio_dma_map,
	TP_PROTO(u32 container, u64 iova, u64 size, u32 flags, u64 npages,
		 u32 entries, u64 pinned, int ret, u64 total_ns, u64 pin_ns,
		 u64 iommu_ns, u64 seq),
	TP_ARGS(container, iova, size, flags, npages, entries, pinned, ret,
		total_ns, pin_ns, iommu_ns, seq));

/*
 * VFIO_IOMMU_UNMAP_DMA, or the container's teardown (flags has
 * VFIO_TRACE_UNMAP_TEARDOWN).  size: bytes unmapped (what the ioctl reports
 * back); npages: pages unpinned; entries/pinned/seq as for a map;
 * total_ns: the whole operation, of which pin_ns unpinning and iommu_ns
 * in iommu_unmap().
 */
DEFINE_EVENT(vfio_dma_class, vfio_dma_unmap,
	TP_PROTO(u32 container, u64 iova, u64 size, u32 flags, u64 npages,
		 u32 entries, u64 pinned, int ret, u64 total_ns, u64 pin_ns,
		 u64 iommu_ns, u64 seq),
	TP_ARGS(container, iova, size, flags, npages, entries, pinned, ret,
		total_ns, pin_ns, iommu_ns, seq));

/* ---- SPAPR TCE v2 (vfio_iommu_spapr_tce, IBM POWER) ---------------------------- */

/*
 * VFIO_IOMMU_SPAPR_REGISTER_MEMORY (reg = 1) or UNREGISTER_MEMORY
 * (reg = 0): a user range pinned once for the container's TCEs.  Its user
 * address is not carried (no event exposes one: the size and the
 * container say which region it was).  pinned: the pages the container's
 * registered regions hold after; total_ns: the whole operation (pinning,
 * on register), 0 when the event was off at its start.  Emitted after the
 * container's lock is dropped.
 */
TRACE_EVENT(vfio_spapr_prereg,
	TP_PROTO(u32 container, u32 reg, u64 size, u64 pinned, int ret,
		 u64 total_ns),
	TP_ARGS(container, reg, size, pinned, ret, total_ns),
	TP_STRUCT__entry(
		__field(u32, container)
		__field(u32, reg)
		__field(u64, size)
		__field(u64, pinned)
		__field(int, ret)
		__field(u64, total_ns)
	),
	TP_fast_assign(
		__entry->container = container;
		__entry->reg = reg;
		__entry->size = size;
		__entry->pinned = pinned;
		__entry->ret = ret;
		__entry->total_ns = total_ns;
	),
	TP_printk("container=%u reg=%u size=0x%llx pinned=%llu ret=%d total_ns=%llu",
		  __entry->container, __entry->reg, __entry->size,
		  __entry->pinned, __entry->ret, __entry->total_ns)
);

/*
 * VFIO_IOMMU_SPAPR_TCE_CREATE (create = 1) or _REMOVE (create = 0) of a
 * DMA window.  start: its bus address (create: the one the platform
 * chose, 0 on failure); size, page_shift, levels: as asked (remove: size
 * and levels 0, page_shift the removed window's or 0); total_ns as for
 * vfio_spapr_prereg.
 */
TRACE_EVENT(vfio_spapr_window,
	TP_PROTO(u32 container, u32 create, u64 start, u64 size,
		 u32 page_shift, u32 levels, int ret, u64 total_ns),
	TP_ARGS(container, create, start, size, page_shift, levels, ret,
		total_ns),
	TP_STRUCT__entry(
		__field(u32, container)
		__field(u32, create)
		__field(u64, start)
		__field(u64, size)
		__field(u32, page_shift)
		__field(u32, levels)
		__field(int, ret)
		__field(u64, total_ns)
	),
	TP_fast_assign(
		__entry->container = container;
		__entry->create = create;
		__entry->start = start;
		__entry->size = size;
		__entry->page_shift = page_shift;
		__entry->levels = levels;
		__entry->ret = ret;
		__entry->total_ns = total_ns;
	),
	TP_printk("container=%u create=%u start=0x%llx size=0x%llx page_shift=%u levels=%u ret=%d total_ns=%llu",
		  __entry->container, __entry->create, __entry->start,
		  __entry->size, __entry->page_shift, __entry->levels,
		  __entry->ret, __entry->total_ns)
);

/* ---- references ------------------------------------------------------------------ */

DECLARE_EVENT_CLASS(vfio_ref_class,
	TP_PROTO(u32 kind, u32 id, u32 count, unsigned long caller),
	TP_ARGS(kind, id, count, caller),
	TP_STRUCT__entry(
		__field(u32, kind)
		__field(u32, id)
		__field(u32, count)
		__field(unsigned long, caller)
	),
	TP_fast_assign(
		__entry->kind = kind;
		__entry->id = id;
		__entry->count = count;
		__entry->caller = caller;
	),
	TP_printk("kind=%s id=%u count=%u caller=%pS", show_vfio_obj(__entry->kind),
		  __entry->id, __entry->count, (void *)__entry->caller)
);

/*
 * A reference on a container, group or device was taken (get) or dropped
 * (put).  count: the object's reference count after the change; caller:
 * the function that took or dropped it.  A put with count=0 frees the object.
 */
DEFINE_EVENT(vfio_ref_class, vfio_ref_get,
	TP_PROTO(u32 kind, u32 id, u32 count, unsigned long caller),
	TP_ARGS(kind, id, count, caller));

DEFINE_EVENT(vfio_ref_class, vfio_ref_put,
	TP_PROTO(u32 kind, u32 id, u32 count, unsigned long caller),
	TP_ARGS(kind, id, count, caller));

#endif /* __VFIO_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE vfio_trace
#include <trace/define_trace.h>
