#!/usr/bin/env bash
# Zero-copy send (rpmsg_get_tx_payload_buffer + rpmsg_send_nocopy, and
# rpmsg_release_tx_buffer of an unsent buffer) and rx hold/release
# (rpmsg_hold_rx_buffer in the callback, rpmsg_release_rx_buffer later)
# round-trip correctly.
. "$(dirname "$0")/lib.sh"

start_backend "$LINK_HOST_FW" || { bad "backend starts"; finish; exit; }
bg "$ECHO_SERVER" --partition fw >"$T/server.log" 2>&1
# 500 rounds on a 64-buffer link: buffers must come back to be reused.
"$PROBE" -p host zerocopy -c 500 >"$T/zc.log" 2>&1
check "zero-copy probe exits 0" test $? -eq 0
check "450 sent with send_nocopy and checked after hold/release, 50 released unsent" \
	grep -q "^zerocopy sent 450 checked 450 mismatches 0 released-unsent 50" "$T/zc.log"
"$ECHO_CLIENT" --partition host -n 2000 --nocopy -q >"$T/client.log" 2>&1
check "echo client in --nocopy mode: 2000 replies intact" grep -q "^sent 2000, received 2000, mismatches 0" "$T/client.log"
finish
