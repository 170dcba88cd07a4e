#!/usr/bin/env bash
# A partition killed and restarted 100 times under traffic: the echo server
# in "fw" is SIGKILLed and started again while a flooder on "host" keeps
# sending to it. The backend must come back to the same footprint each
# time: VmRSS, open fds and mappings measured with one server connected
# before the churn and again after the last killed one was replaced.
. "$(dirname "$0")/lib.sh"

ROUNDS=${XENAMP_CHURN_ROUNDS:-100}
start_backend "$LINK_HOST_FW" || { bad "backend starts"; finish; exit; }

connected_fw() { grep -c "end fw:0 connected" "$T/backend.log"; }
# start_server N: start an echo server and wait until it is the N-th fw connection.
start_server() {
	bg "$ECHO_SERVER" --partition fw -q >>"$T/server.log" 2>&1
	SERVER=$LAST_PID
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(connected_fw)" -ge "$1" ] && return 0
		sleep 0.02
	done
	return 1
}
measure() {
	local rss fds maps regions
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$BACKEND_PID/status")
	fds=$(ls "/proc/$BACKEND_PID/fd" | wc -l)
	maps=$(wc -l <"/proc/$BACKEND_PID/maps")
	regions=$(grep -c 'memfd:' "/proc/$BACKEND_PID/maps")
	echo "$rss $fds $maps $regions"
}
# Under AddressSanitizer the allocator itself maps more memory as it runs
# (shadow, quarantine), so the total mapping count may grow by a few
# entries for reasons of its own; partition regions must stay exact.
# Its quarantine also holds freed memory for a while, so RSS gets more room.
maps_slack=0 rss_slack=1024
grep -q asan "/proc/$BACKEND_PID/maps" && maps_slack=32 rss_slack=8192

n=1
start_server $n || bad "echo server connects"
# The host floods the echo service (address 1024) and takes the echoes;
# while fw is away its messages wait in its ring (back-pressure).
bg "$FAKE" -q -t 60000 -p host flood:1024:1024:100000000:64 >"$T/flood.log" 2>&1
FLOOD=$LAST_PID
sleep 0.3
# Warm-up: a few rounds so that allocator caches reach their steady size.
churn() {
	local k
	for ((k = 0; k < $1; k++)); do
		kill -KILL "$SERVER"; wait "$SERVER" 2>/dev/null
		n=$((n + 1))
		start_server $n || { bad "echo server $n connects"; return 1; }
		sleep "0.0$((RANDOM % 4))"
	done
}
churn 5
read -r rss0 fds0 maps0 regions0 < <(measure)
m0=$("$CTL" --socket "$SOCK" --json stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["links"][0]["messages"])')
start=$SECONDS
churn "$ROUNDS"
sleep 0.2
read -r rss1 fds1 maps1 regions1 < <(measure)
m1=$("$CTL" --socket "$SOCK" --json stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["links"][0]["messages"])')
echo "# $ROUNDS SIGKILL/restart rounds in $((SECONDS - start)) s; $((m1 - m0)) messages relayed meanwhile"
echo "# backend before: VmRSS ${rss0} KiB, ${fds0} fds, ${maps0} mappings (${regions0} partition regions)"
echo "# backend after:  VmRSS ${rss1} KiB, ${fds1} fds, ${maps1} mappings (${regions1} partition regions)"

check "backend still running" kill -0 "$BACKEND_PID"
check "flooding partition still served (alive)" kill -0 "$FLOOD"
check "the server connected $((ROUNDS + 6)) times" test "$(connected_fw)" -ge $((ROUNDS + 6))
check "traffic flowed during the churn ($((m1 - m0)) messages)" test $((m1 - m0)) -gt 0
check "VmRSS flat: $rss0 -> $rss1 KiB (<= +$rss_slack)" test "$rss1" -le $((rss0 + rss_slack))
check "open fds flat: $fds0 -> $fds1" test "$fds1" -le "$fds0"
check "partition regions mapped flat: $regions0 -> $regions1" test "$regions1" -le "$regions0"
check "mappings flat: $maps0 -> $maps1 (slack $maps_slack)" test "$maps1" -le $((maps0 + maps_slack))
check "no fault logged by the backend" sh -c "! grep -q 'disconnected:' '$T/backend.log'"
finish
