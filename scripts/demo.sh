#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make demo`: boot the test VM and run tests/vm/demo.sh inside it, showing
# its output live.  The console log is kept in build/vm/logs/demo.log.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export O=${O:-build}
export KVER=${KVER:-$("$root/scripts/kver.sh")}
mkdir -p "$root/$O/vm/jobs" "$root/$O/vm/logs"
job=$root/$O/vm/jobs/demo.sh
cat >"$job" <<JOB
#!/bin/bash
export O=$O KVER=$KVER
bash $root/tests/vm/demo.sh >/dev/ttyS1 2>&1
JOB
echo "Booting Debian $KVER in qemu (TCG, Intel IOMMU, edu); console log: $O/vm/logs/demo.log"
"$root/tests/vm/boot.sh" --timeout 600 --log "$root/$O/vm/logs/demo.log" --out - "$job"
