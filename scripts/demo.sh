#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make demo`: boot the test VM and run tests/vm/demo.sh inside it, showing
# its output live.  The perf recording and plots it makes are shared back
# to build/demo/; the console log is build/demo/console.log.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export O=${O:-build}
export KVER=${KVER:-$("$root/scripts/kver.sh")}
out=$root/$O/demo
rm -rf "$out"
mkdir -p "$out" "$root/$O/vm/jobs"
job=$root/$O/vm/jobs/demo.sh
cat >"$job" <<JOB
#!/bin/bash
export O=$O KVER=$KVER
bash $root/tests/vm/demo.sh $out >/dev/ttyS1 2>&1
JOB
echo "Booting Debian $KVER in qemu (TCG, Intel IOMMU, edu); console log: $O/demo/console.log"
"$root/tests/vm/boot.sh" --timeout 900 --log "$out/console.log" --out - --export "$out" "$job"
