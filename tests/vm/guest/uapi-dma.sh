#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# VFIO uAPI, real DMA: edu round trips through IOVAs match byte for byte;
# DMA to or from what is not mapped is blocked, the memory behind it is
# unchanged (asserted by vfio_dma) and the IOMMU reports a DMAR fault for
# each blocked IOVA (asserted here, from dmesg).
# vm-stack: ours intree
# vm-timeout: 120
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

out=/tmp/vfio_dma.out
uapi_run edu "vfio_dma" | tee "$out"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "vfio_dma failed"

# Each blocked DMA printed "# dma-fault read|write iova 0xN".  The DMAR
# report comes from the fault interrupt: give it a moment.
n=0
while read -r _ _ dir _ iova; do
	case $dir in
	write) kind=Write ;;
	read) kind=Read ;;
	*) fail "bad marker direction '$dir'" ;;
	esac
	seen=
	for _ in $(seq 30); do
		if dmesg | grep -q "DMAR: \[DMA $kind.*fault addr $iova "; then
			seen=1
			break
		fi
		sleep 0.1
	done
	[ -n "$seen" ] || { dmesg | grep DMAR | tail -n 10; fail "no DMAR $kind fault for iova $iova in dmesg"; }
	log "DMAR $kind fault reported for iova $iova"
	n=$((n + 1))
done < <(grep '^# dma-fault ' "$out")
[ "$n" -ge 4 ] || fail "expected at least 4 blocked DMAs, saw $n markers"
