#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fail unless every .ko under $1 carries module BTF: without it tp_btf
# programs cannot attach to our tracepoints (see docs/architecture.md).
set -euo pipefail
status=0
while IFS= read -r ko; do
	# Read whole, not piped to grep -q: grep leaves at the match, and a
	# readelf still writing (a section list past 8 KiB) dies of SIGPIPE,
	# which pipefail makes a failure.
	sections=$(readelf -S -W "$ko")
	if [[ $sections != *' .BTF '* ]]; then
		echo "check-btf: $ko has no .BTF section" >&2
		status=1
	fi
done < <(find "$1" -name '*.ko')
exit $status
