#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A short, bounded run of the uAPI fuzzer (tests/vm/progs/vfio_fuzz.c) on
# edu and e1000e: 2 processes x 3 threads, a fixed seed so a failure
# replays.  Pass: no kernel complaint (guest-run.sh), no hung task, VmLck
# 0 in every fuzzing process after teardown, every FOLL_PIN page released,
# every module unloads.  `make fuzz` runs the same with >= 1,000,000 ops.
# vm-stack: ours
# vm-timeout: 150
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

fuzz_run "${FUZZ_SEED:-0x5eed0001}" "${FUZZ_OPS:-200000}" "${FUZZ_THREADS:-3}" "${FUZZ_PROCS:-2}"
