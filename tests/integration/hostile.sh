#!/usr/bin/env bash
# Hostile partitions beyond backend-relay.sh (which covers each ring fault
# one by one, handshake refusals, the max-services cap at 9 names and the
# fairness flood):
#  - a partition that keeps rewriting its rings (avail idx and entries,
#    descriptors, message headers) from a second thread while the backend
#    reads them, connection after connection;
#  - more lies in the resource table;
#  - 10,000 name-service announcements;
#  - a receiver that never returns buffers while its peer floods: the
#    backend holds no more than the ring and its RSS stays flat;
# and each time a real echo server/client pair on another link completes
# every message intact, and the backend still answers xenampctl.
. "$(dirname "$0")/lib.sh"

CONF='[backend]
max-services = 64
max-pages = 256

[link echo]
end-a = host
end-b = fw
buf-size = 512
buf-count = 64

[link bad]
end-a = evil
end-b = victim
buf-size = 256
buf-count = 32'

start_backend "$CONF" || { bad "backend starts"; finish; exit 1; }
LOG=$T/backend.log
FP="$FAKE -S $SOCK"
bg "$ECHO_SERVER" --partition fw -q >"$T/server.log" 2>&1
wait_for_line "$LOG" 'end fw:0 connected' 10 || bad "echo server connects"

# echo_bg N TAG: start an echo client of N messages in the background.
echo_bg() { "$ECHO_CLIENT" --partition host -n "$1" -q >"$T/client-$2.log" 2>&1 & ECHO_PID=$!; }
# echo_ok N TAG: the client started by echo_bg finished all N messages intact.
echo_ok() {
	wait "$ECHO_PID"
	local rc=$?
	[ $rc -eq 0 ] && grep -q "^sent $1, received $1, mismatches 0" "$T/client-$2.log"
}
alive() { kill -0 "$BACKEND_PID" && "$CTL" --json status >/dev/null; }
# one_line_faults PARTITION: every disconnection of that partition is one
# log line naming the link, the end and a reason.
one_line_faults() {
	! grep "end $1:0 disconnected" "$LOG" | grep -Evq "^.*link bad: end $1:0 disconnected: .+"
}
vmrss() { awk '/^VmRSS:/ {print $2}' "/proc/$BACKEND_PID/status"; }

# ---------------------------------------------------------------- scribbler
# 12 connections of 250 ms each: the evil end rewrites both rings while the
# victim floods it and the echo pair runs on the other link.
echo_bg 2000 scribble
faults0=$(grep -c 'end evil:0 disconnected' "$LOG")
survived=0 rounds=12
for ((k = 0; k < rounds; k++)); do
	bg $FP -q -t 2000 -p victim flood:1024:1024:100000:32 >/dev/null 2>&1
	V=$LAST_PID
	$FP -q -t 3000 -p evil scribble:250 >"$T/evil.out" 2>&1
	grep -q 'still-connected' "$T/evil.out" && survived=$((survived + 1))
	grep -q '^scribbled writes=' "$T/evil.out" || { bad "scribbler round $k ran: $(tail -n 2 "$T/evil.out")"; break; }
	stop_pid "$V"
done
faults=$(($(grep -c 'end evil:0 disconnected' "$LOG") - faults0))
echo "# $rounds scribbling connections: $faults disconnected with a fault, $survived kept being served"
grep 'end evil:0 disconnected' "$LOG" | sed 's/^.*disconnected: /#   /' | sort | uniq -c | head -n 12
check "scribbler: backend alive and answering xenampctl" alive
check "scribbler: each fault is one log line naming the end" one_line_faults evil
check "scribbler: every connection either faulted or was served ($faults + $survived >= $rounds)" \
	test $((faults + survived)) -ge "$rounds"
check "scribbler: echo link completed 2000 messages intact meanwhile" echo_ok 2000 scribble
ctl_json() { "$CTL" --json status >"$T/ctl.json"; }
ctl_json
check "scribbler: the echo server's end is still connected" test "$(json_get "$T/ctl.json" \
	"[e['state'] for l in j['links'] if l['name']=='echo' for e in l['ends'] if e['role']=='b'][0]")" = Connected

# ---------------------------------------------------------------- resource table lies
for f in entries offset config-len nvrings-big align da-wrap; do
	$FP -p evil -t 3000 --rsc "$f" >"$T/rsc.out" 2>&1
	rc=$?
	if [ $rc -eq 3 ] && grep -Eq 'error code=3 msg=.*(resource table|vring)' "$T/rsc.out"; then
		ok "--rsc $f refused: $(sed -n 's/^error code=[-0-9]* msg=//p' "$T/rsc.out" | head -n 1)"
	else
		bad "--rsc $f (rc $rc): $(cat "$T/rsc.out")"
	fi
done
check "resource-table lies: backend alive" alive

# ---------------------------------------------------------------- 10,000 names
# the peer takes what it is sent, so the announcements are relayed
bg $FP -q -t 10000 -p victim sleep:8000 >"$T/ns-victim.out" 2>&1
V=$LAST_PID
wait_for_line "$LOG" 'end victim:0 connected' 5
echo_bg 500 ns
before=$(grep -c 'announced more than max-services' "$LOG")
$FP -q -t 3000 -p evil ns-flood:n:10000:2000 wait-closed >"$T/nsflood.out" 2>&1
n_lines=$(($(grep -c 'announced more than max-services' "$LOG") - before))
check "10,000 names: the end is dropped at the cap with one log line ($n_lines)" test "$n_lines" -eq 1
check "... naming the 65th name" grep -q "end evil:0 disconnected: announced more than max-services (64) live services (the last 'n64' at 2064)" "$LOG"
check "10,000 names: echo link served (500 messages intact)" echo_ok 500 ns
"$CTL" --json endpoints >"$T/ep.json"
check "10,000 names: none of them left in the backend's tables" \
	test "$(grep -c '"n[0-9]' "$T/ep.json")" -eq 0
check "10,000 names: backend alive" alive
stop_pid "$V"

# ---------------------------------------------------------------- never returns buffers
# victim takes nothing (no RX buffer posted) while evil floods it for 3 s.
rss0=$(vmrss)
evil_in() { "$CTL" --json stats >"$T/stats.json" && json_get "$T/stats.json" "[e['msgs_in'] for l in j['links'] if l['name']=='bad' for e in l['ends'] if e['partition']=='evil'][0]"; }
in0=$(evil_in)
bg $FP -q -t 10000 --rx-post 0 -p victim hold:4000 >/dev/null 2>&1
V=$LAST_PID
wait_for_line "$LOG" 'end victim:0 connected' 5
echo_bg 2000 hold
bg $FP -q -t 3000 -p evil flood:1024:1024:1000000:200 >"$T/hold-evil.out" 2>&1
E=$LAST_PID
sleep 2
rss1=$(vmrss)
in_evil=$(($(evil_in) - in0))
bp=$(json_get "$T/stats.json" "[l['backpressure'] for l in j['links'] if l['name']=='bad'][0]")
echo "# never-returning receiver: backend VmRSS ${rss0} -> ${rss1} KiB; evil end msgs_in $in_evil; back-pressure $bp"
check "hold: the flooder is blocked by back-pressure (its end took $in_evil <= 32 + 1 messages)" \
	test "$in_evil" -le 33
check "hold: back-pressure counted ($bp)" test "$bp" -gt 0
check "hold: backend VmRSS bounded ($rss0 -> $rss1 KiB, <= +4096)" test "$rss1" -le $((rss0 + 4096))
check "hold: echo link served (2000 messages intact)" echo_ok 2000 hold
wait "$E"
check "hold: the flooder's sends time out rather than vanish" test $? -ne 0
check "... waiting for a TX buffer (its ring of 32 stays pending)" grep -q 'no TX buffer came back' "$T/hold-evil.out"
stop_pid "$V"
check "hold: backend alive" alive

stop_pid "$BACKEND_PID"
check "backend logged no crash" sh -c "! grep -Eqi 'sanitizer|assert|abort' '$LOG'"
finish
