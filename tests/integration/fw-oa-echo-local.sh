#!/usr/bin/env bash
# OpenAMP's echo application as the firmware SDK builds it
# (src/firmware/examples/openamp/rpmsg-echo.c: only OpenAMP's API and
# platform_info.h), built from the same file as a local-mode process
# (rpmsg-echo-local, libxenamp-openamp): it serves xenamp-echo-client
# 1000 messages of mixed sizes, every byte checked, answering with
# rpmsg_send (bound to the sender by its first message); when the client
# leaves, the name service's destroy runs its unbind callback, its
# platform_poll() loop ends and main returns 0.
. "$(dirname "$0")/lib.sh"

N=1000
APP=$B/src/firmware/examples/openamp/rpmsg-echo-local
start_backend "$LINK_HOST_FW" || { bad "backend starts"; finish; exit; }
# printf to a file is block-buffered: line-buffer it to see lines as they come.
# stdbuf preloads its library ahead of the sanitizer's runtime, which an
# ASan build refuses unless told that the order does not matter here.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	XENAMP_PARTITION=fw bg stdbuf -oL "$APP" >"$T/fw.log" 2>&1
apid=$LAST_PID
check "rpmsg-echo-local serves rpmsg-echo at 1024 (payload 496 bytes)" \
	wait_for_line "$T/fw.log" "^rpmsg-echo: serving rpmsg-echo at address 1024, payload up to 496 bytes" 10
"$ECHO_CLIENT" --partition host -n $N -q >"$T/client.log" 2>&1
rc=$?
check "echo client exits 0" test $rc -eq 0
check "client saw every reply intact" grep -q "^sent $N, received $N, mismatches 0" "$T/client.log"
check "the app saw the client's endpoint go (unbind callback)" \
	wait_for_line "$T/fw.log" "^rpmsg-echo: the remote endpoint went away" 10
wait "$apid"
arc=$?
check "rpmsg-echo-local returns 0 from main ($arc)" test $arc -eq 0
check "it counted $N echoes, no send error" grep -q "^rpmsg-echo: echoed $N messages, 0 send errors" "$T/fw.log"
check "platform_cleanup ran (its last line)" grep -q "^rpmsg-echo: stopping application" "$T/fw.log"
# No partition: platform_init says how to name one, main fails.
env -u XENAMP_PARTITION "$APP" >"$T/np.log" 2>&1
rc=$?
check "no partition name: exit 1 ($rc)" test $rc -eq 1
check "no partition name: platform_init's line names XENAMP_PARTITION" grep -q XENAMP_PARTITION "$T/np.log"
cat "$T/fw.log"
finish
