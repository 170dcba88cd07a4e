#!/usr/bin/env bash
# The matrix-multiply firmware's application file
# (src/firmware/examples/matrix/matrix.c) built as a local-mode process
# (matrix-local) serves 200 requests of matrix-client, every product
# checked, and exits 0 on the demo's shutdown message.
. "$(dirname "$0")/lib.sh"

N=200
MATRIX_LOCAL=$B/src/firmware/examples/matrix/matrix-local
start_backend "$LINK_HOST_FW" || { bad "backend starts"; finish; exit; }
bg env XENAMP_PARTITION=fw "$MATRIX_LOCAL" >"$T/fw.log" 2>&1
mpid=$LAST_PID
check "matrix-local announced its service" \
	wait_for_line "$T/fw.log" "^matrix: rpmsg-openamp-demo-channel announced at address 1024" 10
env XENAMP_PARTITION=host "$B/tests/integration/matrix-client" $N >"$T/client.log" 2>&1
rc=$?
cat "$T/client.log"
check "matrix-client exits 0" test $rc -eq 0
check "every product right" grep -q "^products $N, mismatches 0, bad lengths 0" "$T/client.log"
check "matrix-local shut down on SHUTDOWN_MSG" \
	wait_for_line "$T/fw.log" "^matrix: shutdown after $N products, 0 requests refused" 10
wait "$mpid"
mrc=$?
check "matrix-local exits 0 ($mrc)" test $mrc -eq 0
cat "$T/fw.log"
finish
