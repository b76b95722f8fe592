# SPDX-License-Identifier: GPL-2.0
# What the POWER guest's tests share (tests/vm/guest/power-*.sh), sourced
# after the test sets $name.  busybox sh: POSIX only.  The guest's image
# (tests/vm/mkinitramfs-ppc64.sh) holds everything named here.

fail() { echo "FAIL: $*"; exit 1; }
log() { echo "$name: $*"; }

kver=$(uname -r)
PROGS=/vfioscope/tests
SHIM=/vfioscope/test-modules/power_iommu_shim.ko
INTREE=/vfioscope/intree

# modinfo of busybox wants a modules.dep: read the .ko's .modinfo instead.
modfield() { tr '\000' '\n' <"$2" | sed -n "s/^$1=//p" | head -n 1; }
modname() { basename "$1" .ko | tr - _; }

# load FILE: insmod it and check that /sys/module/NAME is that file's
# module (not one loaded before from elsewhere).  Adds NAME to $loaded.
loaded=
load() {
	m=$(modname "$1")
	[ ! -d "/sys/module/$m" ] || fail "$m is loaded already, before $1"
	insmod "$1" || fail "insmod $1 failed"
	[ -d "/sys/module/$m" ] || fail "/sys/module/$m missing after insmod $1"
	if [ -f "/sys/module/$m/srcversion" ]; then
		[ "$(cat "/sys/module/$m/srcversion")" = "$(modfield srcversion "$1")" ] ||
			fail "/sys/module/$m is not the module in $1"
	fi
	loaded="$m $loaded"
}

# unload_all: rmmod what load() loaded, last first.
unload_all() {
	for m in $loaded; do
		rmmod "$m" || fail "rmmod $m failed"
		[ ! -d "/sys/module/$m" ] || fail "/sys/module/$m still there after rmmod"
	done
	loaded=
}

# load_debian_deps: the Debian modules ours need, in their order (none
# today: Debian builds IRQ_BYPASS_MANAGER in); those already in stay.
load_debian_deps() {
	[ -f "/lib/modules/$kver/order" ] || fail "no /lib/modules/$kver/order"
	for ko in $(cat "/lib/modules/$kver/order"); do
		[ -d "/sys/module/$(modname "$ko")" ] || load "/lib/modules/$kver/$ko"
	done
}

# load_ours KO...: Debian's dependencies, then each of our modules named
# (paths under $MODDIR), in that order.  load() refuses a module of that
# name loaded already: Debian's SPAPR backend beside ours would compete
# for the group.
load_ours() {
	load_debian_deps
	for ko in "$@"; do
		[ -f "$MODDIR/$ko" ] || fail "$MODDIR/$ko missing"
		load "$MODDIR/$ko"
	done
}

# load_intree: Debian's own VFIO stack (the reference), in its order.
load_intree() {
	[ -f "$INTREE/order" ] || fail "no $INTREE/order in the image"
	for ko in $(cat "$INTREE/order"); do
		load "$INTREE/$ko"
	done
}

# find_edu: QEMU's edu (1234:11e8); sets $edu (its address) and $dev.
find_edu() {
	edu=
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor" 2>/dev/null)" = 0x1234 ] &&
			[ "$(cat "$d/device" 2>/dev/null)" = 0x11e8 ] && edu=${d##*/}
	done
	[ -n "$edu" ] || fail "no edu (1234:11e8) in /sys/bus/pci/devices: $(ls /sys/bus/pci/devices | tr '\n' ' ')"
	dev=/sys/bus/pci/devices/$edu
}

edu_group() { basename "$(readlink "$dev/iommu_group")"; }

# load_shim: stock 6.1 binds nothing to vfio-pci on POWER (no powerpc
# iommu_ops); the test-only shim (tests/kmod, no isolation) fixes that.
# Loaded once per boot: it cannot be unloaded.
load_shim() {
	[ -d /sys/module/power_iommu_shim ] && return 0
	group=$(edu_group)
	[ -n "$group" ] || fail "edu $edu is in no iommu group: not the platform's TCE setup?"
	insmod "$SHIM" || fail "insmod $SHIM failed"
	[ "$(edu_group)" = "$group" ] || fail "edu moved from iommu group $group to $(edu_group) under the shim"
	[ -e "$dev/iommu" ] || fail "edu has no iommu link: the shim did not probe it"
}

# bind_edu, unbind_edu: edu to the vfio-pci loaded now, and back.
bind_edu() {
	echo vfio-pci >"$dev/driver_override" || fail "driver_override failed"
	echo "$edu" >/sys/bus/pci/drivers_probe
	[ "$(basename "$(readlink "$dev/driver")")" = vfio-pci ] ||
		fail "edu did not bind to vfio-pci; dmesg: $(dmesg | tail -n 3 | tr '\n' ' ')"
	[ -c "/dev/vfio/$(edu_group)" ] || fail "no /dev/vfio/$(edu_group)"
}

unbind_edu() {
	[ -e "$dev/driver" ] && { echo "$edu" >"$dev/driver/unbind" || fail "unbind failed"; }
	echo >"$dev/driver_override"
	[ ! -e "$dev/driver" ] || fail "edu still bound after unbind"
}
