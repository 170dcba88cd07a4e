#!/usr/bin/env bash
# One error space on the wire (docs/protocol.md, "Refusals"): when a
# restarted backend refuses a reconnecting partition, the refusal code
# decides -- in one place for both transports -- whether the library tries
# again. A final refusal (no link names the end any more) ends the device at
# once with the refusal's name and text, not after the whole reconnect
# window; a passing one (the end is still held by another connection) is
# retried, and the partition gets its end back when it is free.
. "$(dirname "$0")/lib.sh"

export XENAMP_RECONNECT_MS=30000 XENAMP_DEBUG=1
LINK_WITHOUT_FW='[link echo]
end-a = host
end-b = other
buf-size = 512
buf-count = 64'

# wait_for_count FILE REGEX N [SECONDS]: until REGEX matches N lines of FILE
# (a line an earlier step left there does not count twice).
wait_for_count() {
	local i
	for ((i = 0; i < ${4:-10} * 20; i++)); do
		[ "$(grep -Ec -- "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
		sleep 0.05
	done
	return 1
}

# --- a passing refusal: BUSY, retried ---------------------------------------
start_backend "$LINK_HOST_FW" || { bad "backend starts"; finish; exit; }
bg "$PROBE" -p fw sink -N seq -c 200 >"$T/sink1.out" 2>"$T/sink1.log"
SINK=$LAST_PID
check "fw connected" wait_for_line "$T/backend.log" "end fw:0 connected" 10
kill -9 "$BACKEND_PID"; wait "$BACKEND_PID" 2>/dev/null
# The next backend listens elsewhere first, so that a second client can
# take fw:0 before the probe finds it; then its socket moves to $SOCK.
printf '%s\n' "$LINK_HOST_FW" >"$T/xenamp.conf"
rm -f "$SOCK"
bg "$BACKEND" --foreground --config "$T/xenamp.conf" --socket "$T/next.sock" -v 2>>"$T/backend2.log"
BACKEND_PID=$LAST_PID
for ((i = 0; i < 100; i++)); do [ -S "$T/next.sock" ] && break; sleep 0.05; done
bg "$FAKE" -S "$T/next.sock" -p fw -q sleep:20000 >"$T/holder.log" 2>&1
HOLDER=$LAST_PID
check "a second client holds fw:0" wait_for_line "$T/backend2.log" "end fw:0 connected" 10
mv "$T/next.sock" "$SOCK"
check "the probe is refused as busy, and keeps trying" \
	wait_for_line "$T/sink1.log" "end busy" 15
check "... still running" kill -0 "$SINK"
stop_pid "$HOLDER"
check "the probe reconnects once fw:0 is free" \
	wait_for_count "$T/backend2.log" "end fw:0 connected" 2 15
"$PROBE" -p host source -N seq -c 200 >"$T/source1.out" 2>&1
wait "$SINK"
check "200 messages after the busy refusal, in order, none missing" \
	grep -q "^received 200 out-of-order 0 duplicates 0 missing 0" "$T/sink1.out"

# --- a final refusal: NO_LINK, not retried ----------------------------------
bg "$PROBE" -p fw sink -N seq -c 1000000 >"$T/sink2.out" 2>"$T/sink2.log"
SINK=$LAST_PID
check "fw connected again" wait_for_count "$T/backend2.log" "end fw:0 connected" 3 10
BACKEND_PID_OLD=$BACKEND_PID
kill -9 "$BACKEND_PID_OLD"; wait "$BACKEND_PID_OLD" 2>/dev/null
t0=$SECONDS
start_backend "$LINK_WITHOUT_FW" || bad "backend without fw's link starts"
for ((i = 0; i < 200; i++)); do kill -0 "$SINK" 2>/dev/null || break; sleep 0.05; done
took=$((SECONDS - t0))
if kill -0 "$SINK" 2>/dev/null; then
	bad "the refused probe gave up within 10 s (still retrying; reconnect window 30 s)"
	stop_pid "$SINK"
else
	ok "the refused probe gave up within 10 s ($took s; reconnect window 30 s)"
fi
check "... naming the refusal" grep -q "no link names this end" "$T/sink2.log"
check "... and the backend's reason" grep -q "no link of the backend configuration has the end fw:0" "$T/sink2.log"
finish
