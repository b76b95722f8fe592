// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-leak: every reference get/put and external-user get/put, with the
 * holder, the kernel stack of gets and the time, sent to user space
 * (tools/lib/reftrack.c pairs them), plus the fd open/close and
 * attach/detach events its "held after every fd is closed" rule needs.
 * The handlers are bpf/vfio_leak.bpf.h, shared with vfio-exporter.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define VFIO_LEAK_STACKS
#include "vfio_leak.bpf.h"

VFIO_TP(vfio_ref_get, leak_ref_get)
VFIO_TP(vfio_ref_put, leak_ref_put)
VFIO_TP(vfio_external_user_get, leak_ext_get)
VFIO_TP(vfio_external_user_put, leak_ext_put)
VFIO_TP(vfio_container_open, leak_container_open)
VFIO_TP(vfio_container_close, leak_container_close)
VFIO_TP(vfio_container_release, leak_container_release)
VFIO_TP(vfio_group_open, leak_group_open)
VFIO_TP(vfio_group_release, leak_group_release)
VFIO_TP(vfio_group_attach, leak_group_attach)
VFIO_TP(vfio_group_detach, leak_group_detach)
VFIO_TP(vfio_device_open, leak_device_open)
VFIO_TP(vfio_device_release, leak_device_release)

char LICENSE[] SEC("license") = "GPL";
