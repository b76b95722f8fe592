/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Telling a process from a later one that got its pid: a pid plus the
 * process's start, the clock BPF reads (the leader's start_boottime) and
 * /proc/PID/stat shows (field 22, in clock ticks).
 */
#ifndef __PROCESS_H
#define __PROCESS_H

#include <stdbool.h>
#include <stdint.h>

/* The start of process pid in clock ticks since boot: 0, or -errno. */
int process_start_ticks(uint32_t pid, uint64_t *ticks);

/* Whether pid still names the process that started at start_ns. */
bool process_is(uint32_t pid, uint64_t start_ns);

#endif /* __PROCESS_H */
