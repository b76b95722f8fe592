# SPDX-License-Identifier: GPL-2.0
# Helpers for the tools' guest tests (tests/vm/guest/tools-*.sh), sourced
# after lib.sh inside the VM.  Not in guest/: that folder holds tests only.

# The tests' Python reaches tests/vm/toolcheck.py (their checks) by PYTHONPATH.
PY="env PYTHONPATH=$VFIOSCOPE_ROOT/tests/vm /usr/bin/python3"

# tool_start NAME CMD...: run a tool in the background, stdout to
# /tmp/NAME.out and stderr to /tmp/NAME.err, and wait until it says it is
# attached (its "... Ctrl-C to end" line).  Sets TOOL_PID_<NAME>.
tool_start() {
	local name=$1 i pid
	shift
	rm -f "/tmp/$name.out" "/tmp/$name.err"
	"$@" >"/tmp/$name.out" 2>"/tmp/$name.err" &
	pid=$!
	eval "TOOL_PID_${name//-/_}=$pid"
	for ((i = 0; i < 600; i++)); do
		file_has "/tmp/$name.err" 'Ctrl-C to end' && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			grep -v '^libbpf: \|^;\|^[0-9]*: (' "/tmp/$name.err" | tail -n 20 >&2
			tail -n 30 "/tmp/$name.err" >&2
			fail "$name ($*) exited before attaching"
		fi
		sleep 0.1
	done
	fail "$name ($*) did not attach within 60 s"
}

# tool_stop NAME: Ctrl-C the tool, which reports and must exit 0.
tool_stop() {
	local name=$1 var pid rc=0
	var=TOOL_PID_${name//-/_}
	pid=${!var}
	kill -INT "$pid" 2>/dev/null || fail "$name is gone before Ctrl-C"
	wait "$pid" || rc=$?
	if [ "$rc" -ne 0 ]; then
		tail -n 20 "/tmp/$name.err" >&2
		fail "$name exited with status $rc"
	fi
}

# tool_kill_all: for an EXIT trap; a test that failed midway leaves no tool
# behind to hold the stack or the exporter's port for the next test.
tool_kill_all() {
	local v
	for v in ${!TOOL_PID_@}; do
		kill -KILL "${!v}" 2>/dev/null
	done
	wait 2>/dev/null
	return 0
}

# The workload's own line: "pid=P maps=N size=S map_ns_p50=X unmap_ns_p50=Y".
workload_field() { sed -n "s/.*\<$1=\([0-9]*\).*/\1/p" "$2"; }
