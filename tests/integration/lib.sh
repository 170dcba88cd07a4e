# Shared helpers for the local-mode integration tests: a private directory,
# a backend started on its own socket, waiting for log lines, and PASS/FAIL
# accounting that ends in the "N passed, N failed" line.
set -u

: "${top_builddir:?run through make check (top_builddir unset)}"
: "${top_srcdir:?run through make check (top_srcdir unset)}"
B=$top_builddir
BACKEND=$B/src/backend/xenamp-backend
CTL=$B/src/tools/xenampctl
ECHO_SERVER=$B/src/tools/xenamp-echo-server
ECHO_CLIENT=$B/src/tools/xenamp-echo-client
PROBE=$B/tests/integration/xa-probe
FAKE=$B/tests/integration/fake-partition

T=$(mktemp -d "${TMPDIR:-/tmp}/xenamp-it.XXXXXX")
SOCK=$T/backend.sock
export XENAMP_SOCKET=$SOCK XENAMP_TRANSPORT=local
BG_PIDS=()
pass=0
fail=0

cleanup() {
	local p
	for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${BG_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ "$fail" -ne 0 ] || [ "${KEEP_TMP:-0}" = 1 ]; then
		echo "# logs kept in $T"
		for f in "$T"/*.log; do
			[ -f "$f" ] || continue
			echo "# --- $f (last 30 lines)"
			tail -n 30 "$f" | sed 's/^/# /'
		done
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT

ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
# check DESCRIPTION COMMAND...: PASS when the command succeeds.
check() {
	local d=$1; shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}

finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}

bg() { "$@" & BG_PIDS+=($!); LAST_PID=$!; }

# wait_for_line FILE REGEX [SECONDS]: wait until a line matching REGEX is in FILE.
wait_for_line() {
	local f=$1 re=$2 t=${3:-20} i
	for ((i = 0; i < t * 20; i++)); do
		grep -Eq -- "$re" "$f" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# start_backend CONFIG_TEXT: write the config and start the backend on $SOCK.
start_backend() {
	printf '%s\n' "$1" >"$T/xenamp.conf"
	rm -f "$SOCK"
	bg "$BACKEND" --foreground --config "$T/xenamp.conf" --socket "$SOCK" -v 2>>"$T/backend.log"
	BACKEND_PID=$LAST_PID
	local i
	for ((i = 0; i < 100; i++)); do
		[ -S "$SOCK" ] && return 0
		sleep 0.05
	done
	echo "# backend did not create $SOCK"
	return 1
}

stop_pid() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; true; }

# json_get JSON_FILE PYTHON_EXPR: evaluate EXPR with the parsed JSON as j.
json_get() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

LINK_HOST_FW='[backend]
max-services = 64

[link echo]
end-a = host
end-b = fw
buf-size = 512
buf-count = 64'
