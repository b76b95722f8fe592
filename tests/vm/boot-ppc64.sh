#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the POWER guest once and run a busybox-sh job script inside it.
#
#   boot-ppc64.sh [--machine pseries|powernv] [--timeout S] [--log FILE]
#                 [--out FILE|-] [--add FILE]... JOB
#
# The guest is Debian's ppc64el 6.1 kernel (the same ABI as amd64's) under
# TCG, POWER9, one vCPU, 1 GiB, with QEMU's edu device (its registers are
# big-endian on ppc64), on one of two machines:
#   pseries  (default) a PAPR guest: edu's group has no table-group ops,
#            so VFIO's SPAPR TCE backend gives it v1 only.  The firmware is
#            qemu's VOF (x-vof=on): no SLOF, so it reaches init in seconds.
#            The cap-* switches turn off the Spectre/Meltdown mitigations
#            TCG cannot provide (with them on, the machine refuses to start).
#   powernv  bare metal (powernv9, skiboot from qemu-system-data): an IODA2
#            PHB whose PEs have table-group ops, so v2 (DDW) only.  Nothing
#            but what the test needs (-nodefaults): one PHB with its root
#            port (skiboot gives up on a PHB without one) and edu behind
#            it, alone in its PE; one serial, which skiboot turns into the
#            OPAL console hvc0; and a BMC, without which skiboot cannot
#            power the machine off (a poweroff would hang until the
#            timeout).  edu's DMA mask is 64 bits: DDW windows start at
#            bus address 1 << 59.  ~6 s from start to poweroff.
#
# It cannot run this host's binaries, so it mounts nothing from the host:
# the initramfs of `make vm-image-ppc64el` (tests/vm/mkinitramfs-ppc64.sh)
# holds busybox, our modules and the Debian ones they need.  JOB (a host
# path) becomes /job, and every --add FILE is copied in at its own host
# path, in a second archive appended to the initramfs at each boot.
#
# pseries: hvc0 (the console: kernel messages) goes to --log, hvc1 (the
# job's output) to --out.  powernv has one console only (a second serial
# port makes the 8250 driver oops on the LPC bus): init sends the job's
# output there too, each line marked "@@o ", and --out gets those lines
# back, unmarked, when qemu has exited.  Exit status: the job's, or 124 on timeout, 125 when
# the guest died before the job finished.  Takes the VM lock as
# tests/vm/boot.sh does: one VM at a time on this host.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
O=${O:-build}
KVER=${KVER:-$("$root/scripts/kver.sh")}
PPC_KVER=${KVER%-amd64}-powerpc64le

machine=pseries timeout=120 log='' out='' adds=()
while [ $# -gt 0 ]; do
	case $1 in
	--machine) machine=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--log) log=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--add) adds+=("$(readlink -f "$2")"); shift 2 ;;
	--) shift; break ;;
	-*) echo "boot-ppc64.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || { echo "usage: boot-ppc64.sh [options] JOB" >&2; exit 2; }
case $machine in
pseries | powernv) ;;
*) echo "boot-ppc64.sh: unknown machine $machine (pseries, powernv)" >&2; exit 2 ;;
esac
job=$(readlink -f "$1")
[ -r "$job" ] || { echo "boot-ppc64.sh: no job $1" >&2; exit 2; }
vm=$root/$O/vm/$PPC_KVER
for f in "$vm/initramfs.cpio.gz" "$vm/vmlinux"; do
	[ -r "$f" ] || { echo "boot-ppc64.sh: $f missing (make vm-image-ppc64el)" >&2; exit 2; }
done
command -v qemu-system-ppc64 >/dev/null ||
	{ echo "boot-ppc64.sh: no qemu-system-ppc64 (make deps)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The console log is where the exit line is read from: keep one even
# when the caller does not want it.
[ -n "$log" ] || log=$tmp/console.log
if [ "$out" = - ]; then out_dev=stdio; else out_dev=file,path=${out:-/dev/null}; fi
case $machine in
pseries)
	machine_args=(
		-M pseries,x-vof=on,cap-cfpc=broken,cap-sbbc=broken,cap-ibs=broken,cap-ccf-assist=off
		-chardev file,id=con,path="$log" -serial chardev:con
		-chardev "$out_dev,id=out" -device spapr-vty,chardev=out
		-device edu
	)
	cmdline= ;;
powernv)
	machine_args=(
		-M powernv9
		-chardev file,id=con,path="$log" -serial chardev:con
		-device ipmi-bmc-sim,id=bmc0 -device isa-ipmi-bt,bmc=bmc0,irq=10
		-device pnv-phb,chip-id=0,index=0,id=phb0
		-device pnv-phb-root-port,id=rp0,bus=phb0
		-device edu,bus=rp0,dma_mask=0xffffffffffffffff
	)
	# The job shares the console: keep the kernel's info lines (a PE's
	# window set-up at every VFIO attach) out of its way; dmesg has them.
	cmdline=loglevel=4 ;;
esac

# The job's archive: /job and the --add files.  The kernel unpacks
# concatenated archives in order, later files over earlier ones.
mkdir -p "$tmp/add"
cp "$job" "$tmp/add/job"
for f in "${adds[@]}"; do
	mkdir -p "$tmp/add$(dirname "$f")"
	cp "$f" "$tmp/add$f"
done
(cd "$tmp/add" && find . | cpio -o -H newc --quiet -R 0:0 | gzip -1) >"$tmp/job.cpio.gz"
cat "$vm/initramfs.cpio.gz" "$tmp/job.cpio.gz" >"$tmp/initrd"

# Two cores: never two VMs at once, whoever starts them (boot.sh's lock).
exec 9>/tmp/vfioscope-vm.lock
flock 9

: >"$log"
set +e
timeout --foreground -k 10 "$timeout" qemu-system-ppc64 "${machine_args[@]}" \
	-cpu POWER9 -smp 1 -m 1G -nodefaults -display none -monitor none -no-reboot \
	-kernel "$vm/vmlinux" -initrd "$tmp/initrd" \
	-append "console=hvc0 panic=-1 oops=panic hung_task_timeout_secs=30${cmdline:+ $cmdline}" \
	</dev/null 2>"$log.qemu"
rc=$?
set -e
if [ "$machine" = powernv ]; then
	# The job's lines, from the console (even after a timeout: what it
	# printed so far is what tells why).
	if [ "$out" = - ]; then
		tr -d '\r' <"$log" | sed -n 's/^@@o //p'
	elif [ -n "$out" ]; then
		tr -d '\r' <"$log" | sed -n 's/^@@o //p' >"$out"
	fi
fi
[ -s "$log.qemu" ] || rm -f "$log.qemu"
case $rc in
124 | 137) exit 124 ;;
0) ;;
*) exit 125 ;; # qemu itself failed
esac
status=$(tr -d '\r' <"$log" | sed -n 's/.*@@ vfioscope-exit \([0-9]*\).*/\1/p' | tail -n 1)
[ -n "$status" ] || exit 125 # poweroff or reset without a verdict: panic
exit "$status"
