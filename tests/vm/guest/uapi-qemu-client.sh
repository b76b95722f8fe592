#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A real client: QEMU itself, inside the guest, takes edu through the
# legacy VFIO uAPI (-device vfio-pci,host=BDF).  Asserted from QEMU's own
# side: QMP query-pci shows the device with edu's IDs and its 1 MiB BAR0
# (read through VFIO's config/region ioctls), the process holds the
# container, group and device fds, and its locked_vm covers the guest RAM
# it mapped with VFIO_IOMMU_MAP_DMA.  QEMU wires edu's INTx through VFIO
# (a vfio-intx line in /proc/interrupts); a guest reset (QMP system_reset)
# makes it take the device's interrupts down, try a reset, and wire INTx
# again, and the device still answers QMP as before.  After QEMU quits,
# the stack unloads.
# vm-kernel: 6.1 6.12
# vm-stack: ours intree
# vm-timeout: 120
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

mem_mb=64
qmp=/tmp/qemu-client.qmp
qlog=/tmp/qemu-client.log

load_stack
edu=$(edu_bdf)
bind_vfio "$edu"
group=$(iommu_group_of "$edu")

rm -f "$qmp"
qemu-system-x86_64 -machine q35 -accel tcg,tb-size=64 -m $mem_mb \
	-nodefaults -display none -S -bios /usr/share/qemu/qboot.rom \
	-device vfio-pci,host="$edu",id=vfio0 \
	-qmp unix:$qmp,server=on,wait=off >"$qlog" 2>&1 &
qpid=$!
for _ in $(seq 100); do
	[ -S "$qmp" ] && break
	kill -0 $qpid 2>/dev/null || { cat "$qlog"; fail "qemu exited during start-up"; }
	sleep 0.1
done
[ -S "$qmp" ] || { kill $qpid; fail "no QMP socket from qemu"; }

# QEMU's view of the device, from QMP.
/usr/bin/python3 - "$qmp" "$qpid" "$group" "$mem_mb" "$edu" "$qlog" <<'PY' || { kill $qpid; fail "QMP checks failed"; }
import json, os, socket, sys, time

qmp, qpid, group, mem_mb, bdf, qlog = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]

s = socket.socket(socket.AF_UNIX)
s.connect(qmp)
f = s.makefile("rw")
json.loads(f.readline())  # greeting

def cmd(name, **args):
    msg = {"execute": name}
    if args:
        msg["arguments"] = args
    f.write(json.dumps(msg) + "\n")
    f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r:
            return r["return"]
        if "error" in r:
            sys.exit("QMP %s: %s" % (name, r["error"]))

def check(cond, what):
    if not cond:
        print("FAIL: %s" % what)
        sys.exit(1)
    print("PASS: qemu-client/%s" % what)

# QMP answers once the machine, vfio-pci included, is realized.
cmd("qmp_capabilities")

# The fds QEMU holds: the container, edu's group, a device fd.
fds = [os.readlink("/proc/%d/fd/%s" % (qpid, n)) for n in os.listdir("/proc/%d/fd" % qpid)]
print("# qemu fds: %s" % " ".join(sorted(set(fds))))
check("/dev/vfio/vfio" in fds, "qemu holds the container /dev/vfio/vfio")
check("/dev/vfio/%s" % group in fds, "qemu holds the group /dev/vfio/%s" % group)
check("anon_inode:[vfio-device]" in fds, "qemu holds a vfio device fd")
# Guest RAM is pinned through MAP_DMA and charged to QEMU's locked_vm:
# all of it but the legacy holes below 1 MiB (q35 maps VGA/PAM there).
with open("/proc/%d/status" % qpid) as st:
    locked = [int(l.split()[1]) for l in st if l.startswith("VmLck:")][0]
check(locked >= mem_mb * 1024 - 1024, "qemu locked_vm %d KiB covers its %d MiB of RAM" % (locked, mem_mb))
devs = [d for b in cmd("query-pci") for d in b["devices"] if d.get("qdev_id") == "vfio0"]
check(len(devs) == 1, "query-pci lists vfio0")
d = devs[0]
check(d["id"]["vendor"] == 0x1234 and d["id"]["device"] == 0x11e8,
      "vfio0 has edu's ids 1234:11e8 (got %04x:%04x)" % (d["id"]["vendor"], d["id"]["device"]))
check(d["class_info"]["class"] == 0x00ff, "vfio0 class 0x00ff")
bars = {r["bar"]: r for r in d["regions"]}
check(0 in bars and bars[0]["type"] == "memory" and bars[0]["size"] == 1 << 20,
      "vfio0 BAR0 is 1 MiB of memory (%s)" % bars.get(0))
check(sorted(bars) == [0], "vfio0 has BAR0 only (%s)" % sorted(bars))
check(d.get("irq_pin") == 1, "vfio0 INTx pin A")
tree = cmd("human-monitor-command", **{"command-line": "info qtree"})
check('dev: vfio-pci, id "vfio0"' in tree, "info qtree shows vfio-pci vfio0")

def intx_lines():
    with open("/proc/interrupts") as f:
        return [l.split()[0] for l in f if "vfio-intx(%s)" % bdf in l]

def log_lines():
    with open(qlog) as f:
        return f.read().splitlines()

before = intx_lines()
check(len(before) == 1, "edu's INTx is wired through VFIO (%s)" % before)
logged = len(log_lines())
# The reset runs in QEMU's main loop, soon after the command returns.
cmd("system_reset")
# edu has no reset method: QEMU's vfio-pci says so when the reset reaches it.
for _ in range(100):
    if any("no available reset mechanism" in l for l in log_lines()[logged:]):
        break
    time.sleep(0.1)
for l in log_lines()[logged:]:
    print("# qemu after system_reset: %s" % l)
check(any("Cannot reset device %s" % bdf in l for l in log_lines()[logged:]),
      "system_reset reached vfio-pci's reset of %s" % bdf)
after = intx_lines()
check(len(after) == 1, "edu's INTx is wired again after system_reset (%s)" % after)
devs = [d for b in cmd("query-pci") for d in b["devices"] if d.get("qdev_id") == "vfio0"]
check(len(devs) == 1 and devs[0]["id"]["device"] == 0x11e8 and
      devs[0]["regions"][0]["size"] == 1 << 20, "vfio0 unchanged after system_reset")
cmd("quit")
PY
wait $qpid
rc=$?
[ $rc -eq 0 ] || { cat "$qlog"; fail "qemu exit status $rc"; }
# edu has no reset method (VFIO_DEVICE_FLAGS_RESET clear): QEMU says so at
# start and at exit.  Anything else about VFIO is a complaint.
complaints=$(grep -i vfio "$qlog" | grep -v 'no available reset mechanism')
[ -z "$complaints" ] || { echo "$complaints"; fail "qemu complained about VFIO"; }
# QEMU's exit released everything: the group opens again.
run_prog vfio_uapi_group test_second_open_ebusy || fail "edu's group not free after qemu"
unbind_vfio "$edu"
unload_stack
