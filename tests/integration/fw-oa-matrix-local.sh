#!/usr/bin/env bash
# OpenAMP's matrix-multiply application as the firmware SDK builds it
# (src/firmware/examples/openamp/matrix_multiply.c), built from the same
# file as a local-mode process (matrix_multiply-local, libxenamp-openamp):
# 200 requests of matrix-client (sizes 1..6), every product checked, and
# main returns 0 on the demo's SHUTDOWN_MSG.
. "$(dirname "$0")/lib.sh"

N=200
APP=$B/src/firmware/examples/openamp/matrix_multiply-local
start_backend "$LINK_HOST_FW" || { bad "backend starts"; finish; exit; }
# printf to a file is block-buffered: line-buffer it to see lines as they come.
# stdbuf preloads its library ahead of the sanitizer's runtime, which an
# ASan build refuses unless told that the order does not matter here.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	XENAMP_PARTITION=fw bg stdbuf -oL "$APP" >"$T/fw.log" 2>&1
apid=$LAST_PID
check "matrix_multiply-local serves its channel at 1024" \
	wait_for_line "$T/fw.log" "^matrix_multiply: serving rpmsg-openamp-demo-channel at address 1024" 10
env XENAMP_PARTITION=host "$B/tests/integration/matrix-client" $N >"$T/client.log" 2>&1
rc=$?
cat "$T/client.log"
check "matrix-client exits 0" test $rc -eq 0
check "every product right" grep -q "^products $N, mismatches 0, bad lengths 0" "$T/client.log"
check "shutdown message seen" wait_for_line "$T/fw.log" "^matrix_multiply: shutdown message is received" 10
wait "$apid"
arc=$?
check "matrix_multiply-local returns 0 from main ($arc)" test $arc -eq 0
check "it counted $N products, nothing refused" \
	grep -q "^matrix_multiply: $N products, 0 requests refused, 0 send errors" "$T/fw.log"
cat "$T/fw.log"
finish
