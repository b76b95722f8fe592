#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The Debian packages (make deb) installed as an operator installs them,
# into this guest's root (its own boot: private-root):
#  - dpkg -i of vfioscope-dkms, -tools and -exporter: DKMS builds our
#    modules against the running kernel's headers, with module BTF, and
#    installs them under updates/dkms, where modinfo and modprobe find
#    them before the in-tree ones; modprobe vfio-pci loads ours (the
#    loaded modules' build IDs are the DKMS build's);
#  - the acceptance flow on them: edu bound to vfio-pci, real DMA through
#    the IOMMU (vfio_dma);
#  - systemd-analyze verify accepts the installed unit; the exporter
#    started as the unit starts it (its ExecStartPre, then ExecStart as
#    its User= with exactly its capabilities and no new privileges, with
#    its environment file and umask) attaches with tp_btf and serves
#    /metrics with the N maps a workload did; every system call it made
#    is in the unit's SystemCallFilter and every socket family in
#    RestrictAddressFamilies (tests/vm/unit_sandbox.py: no systemd runs
#    as PID 1 here to apply them); SIGTERM exits 0;
#  - dpkg --purge brings the in-tree stack back: modinfo names the
#    kernel's own modules and modprobe loads them.
# On 6.12: dkms's postinst builds for the running kernel and the newest
# installed, and on 6.12 those are one kernel, one build under TCG.
# tests/host/packaging.py runs the same build.sh natively for 6.1.
# DKMS compiling under TCG takes ~6 min, so make check leaves this test
# out: make check-packages runs it.
# vm-kernel: 6.12
# vm-stack: ours
# vm-default: no
# vm-boot: private-root
# vm-timeout: 900
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"
. "$VFIOSCOPE_ROOT/tests/vm/tools-lib.sh"

N=24
S=8192
debs=$VFIOSCOPE_BUILD/deb
unit=/lib/systemd/system/vfio-exporter.service
version=$(<"$VFIOSCOPE_ROOT/VERSION")
updates=/lib/modules/$KVER/updates/dkms

pkgs=()
for p in vfioscope-dkms vfioscope-tools vfioscope-exporter; do
	f=$(echo "$debs/${p}_${version}_"*.deb)
	[ -f "$f" ] || fail "no $p package in $debs (make deb)"
	pkgs+=("$f")
done
intree_pci=$(modinfo -n vfio-pci) || fail "modinfo vfio-pci failed before install"
[[ $intree_pci == /lib/modules/$KVER/kernel/* ]] ||
	fail "before install, vfio-pci is $intree_pci, not the kernel's own"

# Which file a loaded module came from: Debian's kernels keep no
# srcversion, but every module carries a GNU build ID, in the file and in
# /sys/module/NAME/notes (the note's 16-byte header, then the ID).
loaded_build_id() { od -An -tx1 -v -j16 "/sys/module/${1//-/_}/notes/.note.gnu.build-id" | tr -d ' \n'; }
file_build_id() {
	local f
	f=$(modinfo -n "$1") || return 1
	case $f in
	*.xz) xz -dc "$f" >/tmp/module.ko && f=/tmp/module.ko ;;
	esac
	readelf -n "$f" | sed -n 's/^ *Build ID: //p'
}

bdf=$(edu_bdf)
cleanup() {
	tool_kill_all
	[ -e "/sys/bus/pci/devices/$bdf/driver" ] && unbind_vfio "$bdf"
}
trap cleanup EXIT

# --- install: DKMS builds for the running kernel ---------------------------
start=$SECONDS
dpkg -i "${pkgs[@]}" >/tmp/dpkg-install.log 2>&1 ||
	{ tail -n 40 /tmp/dpkg-install.log; cat /var/lib/dkms/vfioscope/*/build/make.log 2>/dev/null | tail -n 20; fail "dpkg -i failed"; }
log "dpkg -i of the three packages: $((SECONDS - start)) s, DKMS builds included"
dkms status vfioscope >/tmp/dkms-status 2>&1
cat /tmp/dkms-status
file_has /tmp/dkms-status "vfioscope/$version, $KVER, x86_64: installed" ||
	fail "dkms status: vfioscope/$version not installed for $KVER"

for m in vfio vfio_iommu_type1 vfio-pci; do
	p=$(modinfo -n "$m") || fail "modinfo $m failed after install"
	[[ $p == $updates/$m.ko* ]] || fail "modinfo $m: $p, want ours under $updates"
done
log "modinfo: vfio, vfio_iommu_type1 and vfio-pci are under $updates"

# --- ours, loaded by modprobe, with the acceptance flow --------------------
modprobe vfio-pci || fail "modprobe vfio-pci failed"
modprobe vfio_iommu_type1 || fail "modprobe vfio_iommu_type1 failed"
for m in vfio vfio_iommu_type1 vfio-pci; do
	want=$(file_build_id "$m")
	[ -n "$want" ] || fail "no build ID in $(modinfo -n "$m")"
	assert_eq "$(loaded_build_id "$m")" "$want" "build ID of the loaded $m (the DKMS build's)"
	v=$(modinfo -F version "$m")
	[[ $v == *"+vfioscope.$version" ]] || fail "modinfo -F version $m: '$v', want ...+vfioscope.$version"
done
[ -e /sys/kernel/btf/vfio ] || fail "the DKMS vfio.ko has no module BTF (/sys/kernel/btf/vfio)"
[ -d /sys/kernel/tracing/events/vfio ] || [ -d /sys/kernel/debug/tracing/events/vfio ] ||
	fail "modprobe loaded a vfio.ko without vfioscope's trace events"
bind_vfio "$bdf"
run_prog vfio_dma || fail "vfio_dma on the DKMS-built stack failed"

# --- the exporter, started as its unit starts it --------------------------
systemd-analyze verify "$unit" >/tmp/verify.out 2>&1 ||
	{ cat /tmp/verify.out; fail "systemd-analyze verify $unit failed"; }
[ ! -s /tmp/verify.out ] || { cat /tmp/verify.out; fail "systemd-analyze verify $unit complained"; }

key() { sed -n "s/^$1=//p" "$unit"; }
# CAP_BPF CAP_PERFMON -> -all,+bpf,+perfmon (setpriv's spelling)
capspec() {
	local c out=-all
	for c in $1; do
		c=${c#CAP_}
		out+=",+${c,,}"
	done
	echo "$out"
}
user=$(key User) group=$(key Group)
[ -n "$user" ] && [ "$user" != root ] || fail "$unit runs as '$user', want a user of its own"
id "$user" >/dev/null || fail "no user $user: the package's sysusers.d entry did not create it"
[ "$(key NoNewPrivileges)" = yes ] || fail "$unit: NoNewPrivileges is not yes"
ambient=$(key AmbientCapabilities) bounding=$(key CapabilityBoundingSet)
envfile=$(key EnvironmentFile)
set -a
# shellcheck disable=SC1090
. "${envfile#-}" || fail "cannot read the unit's environment file ${envfile#-}"
set +a
pre=$(key ExecStartPre)
[[ $pre == +* ]] || fail "$unit: ExecStartPre does not run with full privileges (+)"
eval "${pre#+}" || fail "ExecStartPre failed: ${pre#+}"
eval "set -- $(key ExecStart)"
exporter=$1
[ "$exporter" = /usr/sbin/vfio-exporter ] || fail "ExecStart runs $exporter"

# setpriv's options for the unit's User=, Group=, capabilities and
# NoNewPrivileges: the exporter runs with them, and so does the probe of
# what capabilities they give.
as_unit=(--reuid="$user" --regid="$group" --clear-groups
	--inh-caps="$(capspec "$ambient")" --ambient-caps="$(capspec "$ambient")"
	--bounding-set="$(capspec "$bounding")" --no-new-privs)
umask "$(key UMask)"
tool_start exporter strace -f -qq -o /tmp/exporter.strace setpriv "${as_unit[@]}" -- "$@" -v
umask 022
epid=$(pgrep -x vfio-exporter) || fail "no vfio-exporter process"
grep -q '^vfio-exporter: attaching with tp_btf: ' /tmp/exporter.err ||
	fail "the unit's exporter did not attach with tp_btf: $(grep attaching /tmp/exporter.err)"
grep -q '^vfio-exporter: collector pinned under /sys/fs/bpf/vfioscope$' /tmp/exporter.err ||
	fail "the unit's exporter did not pin its collector: $(grep -v '^libbpf: ' /tmp/exporter.err | tail -n 3)"
while read -r k v; do
	case $k in
	Uid:) uid=$v ;;
	CapEff:) capeff=$v ;;
	NoNewPrivs:) nnp=$v ;;
	esac
done <"/proc/$epid/status"
assert_eq "${uid%%[[:space:]]*}" "$(id -u "$user")" "the exporter's uid"
assert_eq "$nnp" 1 "the exporter's NoNewPrivs"
want_caps=$(setpriv "${as_unit[@]}" -- awk '/^CapEff:/ { print $2 }' /proc/self/status)
assert_eq "$capeff" "$want_caps" "the exporter's effective capabilities (the unit's)"
log "exporter pid $epid: uid $uid, CapEff $capeff, NoNewPrivs $nnp"

vfio_workload -n $N -s $S >/tmp/work.txt || fail "vfio_workload failed"
sleep 2.2	# the exporter collects once a second
curl -sf http://127.0.0.1:9707/metrics >/tmp/metrics.txt || fail "GET /metrics from the unit's exporter failed"
maps=$(awk '/^vfioscope_dma_operations_total\{.*op="map".*result="ok"/ { n += $2 } END { print n + 0 }' /tmp/metrics.txt)
assert_eq "$maps" $N "maps served by the unit's exporter (vfio_workload did $N; vfio_dma ran before it attached)"
grep -q '^vfioscope_build_info{.*attach="tp_btf"} 1$' /tmp/metrics.txt ||
	fail "build_info: $(grep '^vfioscope_build_info' /tmp/metrics.txt)"

kill -TERM "$epid"
rc=0
wait "$TOOL_PID_exporter" || rc=$?
unset TOOL_PID_exporter
assert_eq "$rc" 0 "the unit's exporter's exit status at SIGTERM"
/usr/bin/python3 "$VFIOSCOPE_ROOT/tests/vm/unit_sandbox.py" "$unit" /tmp/exporter.strace "$exporter" ||
	fail "the unit's sandbox would refuse what the exporter does"

unbind_vfio "$bdf"
unload_stack

# --- purge: the in-tree stack is back ---------------------------------------
dpkg --purge vfioscope-exporter vfioscope-tools vfioscope-dkms >/tmp/dpkg-purge.log 2>&1 ||
	{ tail -n 30 /tmp/dpkg-purge.log; fail "dpkg --purge failed"; }
[ -z "$(dkms status vfioscope 2>/dev/null)" ] || fail "dkms still lists vfioscope after purge: $(dkms status vfioscope)"
! ls "$updates"/vfio* >/dev/null 2>&1 || fail "purge left $(ls "$updates"/vfio*)"
assert_eq "$(modinfo -n vfio-pci)" "$intree_pci" "modinfo vfio-pci after purge (the kernel's own)"
modprobe vfio-pci || fail "modprobe vfio-pci after purge failed"
assert_eq "$(loaded_build_id vfio-pci)" "$(file_build_id vfio-pci)" \
	"build ID of the loaded vfio-pci after purge (the kernel's own)"
unload_stack
log "purged: modprobe vfio-pci loads the kernel's own again"
