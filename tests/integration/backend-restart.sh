#!/usr/bin/env bash
# Backend restart without loss
# (docs/design.md#exactly-once-across-a-backend-restart): a
# source streams sequence-numbered messages to a sink while xenamp-backend
# is SIGKILLed and started again at random moments. libxenamp keeps both
# regions and reconnects (same memfd, rings intact), the new backend
# resumes every ring at its used index, and the receiving library drops
# the duplicates a crash between "RX used published" and "TX buffer
# returned" can cause (sequence number in the RPMsg header's reserved
# field). Every message rpmsg_send accepted arrives exactly once, in order.
. "$(dirname "$0")/lib.sh"

N=${XENAMP_RESTART_MSGS:-100000}
KILLS=${XENAMP_RESTART_KILLS:-8}
export XENAMP_RECONNECT_MS=30000 XENAMP_DEBUG=1

start_backend "$LINK_HOST_FW" || { bad "backend starts"; finish; exit; }

bg "$PROBE" -p fw sink -N seq -c "$N" >"$T/sink.out" 2>"$T/sink.log"
SINK=$LAST_PID
wait_for_line "$T/backend.log" "end fw:0 connected" 10 || bad "sink connected"
bg "$PROBE" -p host source -N seq -c "$N" --rate "${XENAMP_RESTART_RATE:-15000}" >"$T/source.out" 2>"$T/source.log"
SOURCE=$LAST_PID

# Kill only while traffic flows, at a random point: once the running
# backend has relayed a random number (1000..8999) of messages (its own
# counters), so the kills land mid-stream however fast the machine is.
relayed() {
	"$CTL" --socket "$SOCK" --json stats 2>/dev/null |
		sed -n 's/.*"messages": *\([0-9]*\).*/\1/p' | head -n 1
}
kills=0 midtraffic=0
start=$SECONDS
while [ $kills -lt "$KILLS" ] && kill -0 "$SOURCE" 2>/dev/null; do
	want=$((1000 + RANDOM % 8000))
	while kill -0 "$SOURCE" 2>/dev/null; do
		n=$(relayed)
		[ "${n:-0}" -ge $want ] && break
		sleep 0.02
	done
	kill -0 "$SOURCE" 2>/dev/null || break
	kill -KILL "$BACKEND_PID"
	wait "$BACKEND_PID" 2>/dev/null
	kills=$((kills + 1))
	[ "${n:-0}" -gt 0 ] && midtraffic=$((midtraffic + 1))
	echo "# kill $kills: backend had relayed ${n:-0} messages since its start"
	sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
	start_backend "$LINK_HOST_FW" || { bad "backend restarts"; break; }
done
wait "$SOURCE"; src_rc=$?
wait "$SINK"; sink_rc=$?
echo "# $((SECONDS - start)) s, $kills kills ($midtraffic while messages were flowing)"

sent=$(sed -n 's/^sent \([0-9]*\) .*/\1/p' "$T/source.out")
read -r recv ooo dup miss < <(sed -n 's/^received \([0-9]*\) out-of-order \([0-9]*\) duplicates \([0-9]*\) missing \([-0-9]*\).*/\1 \2 \3 \4/p' "$T/sink.out")
dropped=$(grep -c "duplicate from .* dropped" "$T/sink.log")
reconn=$(grep -c "reconnected to xenamp-backend" "$T/source.log" "$T/sink.log" | awk -F: '{s += $2} END {print s}')
echo "# sent ${sent:-?} received ${recv:-?} lost ${miss:-?} duplicated ${dup:-?} out-of-order ${ooo:-?}"
echo "# libxenamp dropped $dropped duplicate(s) relayed again by a restarted backend; $reconn reconnections"

check "the backend was SIGKILLed at least 5 times while messages flowed ($midtraffic)" test "$midtraffic" -ge 5
check "sender reports all $N sent (exit $src_rc)" test "${sent:-0}" = "$N" -a "$src_rc" = 0
check "receiver got every sequence number exactly once, in order (exit $sink_rc)" \
	test "${recv:-0}" = "$N" -a "${dup:-1}" = 0 -a "${ooo:-1}" = 0 -a "${miss:-1}" = 0 -a "$sink_rc" = 0
check "both partitions reconnected after each kill ($reconn >= $((2 * kills)))" test "$reconn" -ge $((2 * kills))

# The duplicate filter itself, deterministically: a raw partition stamps
# chosen sequence numbers into the header's reserved field; the echo
# server's libxenamp must drop a repeat (100 again) and an older one (99),
# and accept unsequenced (0), newer (101), and a wrap (0xffffffff, then 1).
bg "$ECHO_SERVER" --partition fw >"$T/server.log" 2>&1
ES=$LAST_PID
"$FAKE" -p host expect-ns:create:rpmsg-echo \
	seq:100 send:1024:1024:s100a seq:100 send:1024:1024:s100b seq:99 send:1024:1024:s99 \
	seq:0 send:1024:1024:s0 seq:101 send:1024:1024:s101 \
	seq:4294967295 send:1024:1024:smax seq:1 send:1024:1024:s1wrap \
	recv:5 sleep:300 >"$T/dup.log" 2>&1
check "duplicate filter: raw partition got its 5 echoes" grep -q "recv count=5 seq_errors=0" "$T/dup.log"
got=$(sed -n 's/.*rx src=1024 dst=1024 .*data=\(s[0-9a-z]*\).*/\1/p' "$T/dup.log" | tr '\n' ' ')
echo "# echoed: $got"
check "duplicate filter: repeat and older sequence numbers dropped, the rest in order" \
	test "$got" = "s100a s0 s101 smax s1wrap "
stop_pid "$ES"
finish
