#!/usr/bin/env bash
# The echo firmware's application file (src/firmware/examples/echo/echo.c)
# built as a local-mode process (echo-local: the firmware API over
# libxenamp, fw_host.c) serves xenamp-echo-client: 1000 messages of mixed
# sizes, every byte checked; its console lines are the firmware's.
. "$(dirname "$0")/lib.sh"

N=1000
ECHO_LOCAL=$B/src/firmware/examples/echo/echo-local
start_backend "$LINK_HOST_FW" || { bad "backend starts"; finish; exit; }
bg env XENAMP_PARTITION=fw "$ECHO_LOCAL" >"$T/fw.log" 2>&1
check "echo-local announced rpmsg-echo at 1024 (the firmware's line)" \
	wait_for_line "$T/fw.log" "^echo: rpmsg-echo announced at address 1024 \\(payload up to 496 bytes\\)" 10
"$ECHO_CLIENT" --partition host -n $N -q >"$T/client.log" 2>&1
rc=$?
check "echo client exits 0" test $rc -eq 0
check "client saw every reply intact" grep -q "^sent $N, received $N, mismatches 0" "$T/client.log"
check "echo-local counted them (the firmware's line)" wait_for_line "$T/fw.log" "^echo: $N messages echoed\$" 10
cat "$T/fw.log"
finish
