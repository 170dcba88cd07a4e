#!/usr/bin/env bash
# An application written for OpenAMP (tests/openamp/echo-openamp.c: only
# <openamp/...>, <metal/...> and "platform_info.h", linked with
# libxenamp-openamp) serves the echo service over xenamp-backend;
# xenamp-echo-client (libxenamp's own API) is its peer and checks every
# reply byte for byte.
. "$top_srcdir/tests/integration/lib.sh"

APP=$B/tests/openamp/echo-openamp
N=500

start_backend "$LINK_HOST_FW" || { bad "backend starts"; finish; exit; }

# Partition name from the environment, as documented for platform_init().
XENAMP_PARTITION=fw bg "$APP" >"$T/app.log" 2>&1
APP_PID=$LAST_PID
check "OpenAMP app announces its service" wait_for_line "$T/app.log" "serving 'rpmsg-echo'"
check "backend saw the OpenAMP app's end connect" wait_for_line "$T/backend.log" "end fw[^ ]* connected"

"$ECHO_CLIENT" --partition host -n $N -q >"$T/client.log" 2>&1
rc=$?
t0=$(date +%s%N)
check "echo client exits 0" test $rc -eq 0
check "client saw $N intact replies" grep -q "^sent $N, received $N, mismatches 0" "$T/client.log"

# The client destroyed its endpoint and left: the app's unbind callback
# ends its platform_poll() loop, it destroys its own endpoint (a
# name-service destroy nobody can take any more) and releases the vdev.
# Nothing of its data is in flight, so the close returns at once (it used
# to wait 2 s for the announcement); OpenAMP's own build exits well under
# 0.5 s too.
for ((i = 0; i < 1000; i++)); do
	kill -0 "$APP_PID" 2>/dev/null || break
	sleep 0.01
done
t1=$(date +%s%N)
wait "$APP_PID"
rc=$?
ms=$(((t1 - t0) / 1000000))
echo "# OpenAMP app exited ${ms} ms after the client"
check "OpenAMP app stops by itself when the peer goes away, exit 0" test $rc -eq 0
check "... and its close does not wait for the departed peer (${ms} ms < 500)" test "$ms" -lt 500
check "OpenAMP app echoed $N messages" grep -q "echoed $N messages, .* 0 errors" "$T/app.log"

# Partition and socket from argv instead of the environment.
env -u XENAMP_PARTITION -u XENAMP_SOCKET \
	"$APP" --xenamp-partition=fw --xenamp-socket="$SOCK" >"$T/app2.log" 2>&1 &
APP_PID=$!
BG_PIDS+=("$APP_PID")
check "argv form: app announces its service" wait_for_line "$T/app2.log" "serving 'rpmsg-echo'"
"$ECHO_CLIENT" --partition host -n 50 -q >"$T/client2.log" 2>&1
check "argv form: 50 intact replies" grep -q "^sent 50, received 50, mismatches 0" "$T/client2.log"
wait "$APP_PID"
check "argv form: app exits 0" test $? -eq 0

# No partition anywhere: one clear line and a failure, not a hang.
env -u XENAMP_PARTITION "$APP" >"$T/app3.log" 2>&1
rc=$?
check "no partition name: exit 1" test $rc -eq 1
check "no partition name: says XENAMP_PARTITION" grep -q "XENAMP_PARTITION" "$T/app3.log"

finish
