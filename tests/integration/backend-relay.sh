#!/bin/bash
# xenamp-backend in local mode against fake partitions (fake-partition.c):
# relay in both directions, order, back-pressure, late peers, name-service
# tracking and replay, every hostile-input fault (one log line, only that
# end disconnected, other links unaffected), handshake refusals,
# xenampctl, exit codes, idle CPU.
. "$(dirname "$0")/lib.sh"

CONF='[backend]
max-services = 8
max-pages = 256

[link echo]
end-a = host
end-b = fw
buf-size = 512
buf-count = 64

[link other]
end-a = left
end-b = right:2
buf-size = 128
buf-count = 16'

start_backend "$CONF" || { bad "backend starts"; finish; exit 1; }
ok "backend starts"
LOG=$T/backend.log
FP="$FAKE -S $SOCK -t 8000"

# fake NAME OUTFILE STEPS...: run a fake partition in the background.
# fake NAME OUT ARGS...: start a fake partition in the background. The log
# holds the "connected" lines of earlier tests too, so remember how many
# there were for wait_connected.
fake() {
	local n=$1 o=$2; shift 2
	CONN_BEFORE=$(grep -c "end $n:[0-9]* connected" "$LOG" 2>/dev/null)
	bg $FP -p "$n" "$@" >"$T/$o.out" 2>"$T/$o.err"
}
# wait_connected NAME: until the partition started last by fake connects.
wait_connected() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(grep -c "end $1:[0-9]* connected" "$LOG")" -gt "${CONN_BEFORE:-0}" ] && return 0
		sleep 0.05
	done
	return 1
}
# other_link_works: the second link still relays.
other_link_works() {
	fake right r1 -d 2 recv:1 send:1025:1024:pong drain
	local rp=$LAST_PID
	$FP -p left send:1024:1025:ping recv:1 >"$T/l1.out" 2>&1 && wait "$rp" &&
		grep -q 'data=ping' "$T/r1.out" && grep -q 'data=pong' "$T/l1.out"
}
ctl_json() { $CTL --json "$1" >"$T/ctl.json"; }
end_field() { # LINK ROLE FIELD
	json_get "$T/ctl.json" "[e['$3'] for l in j['links'] if l['name']=='$1' for e in l['ends'] if e['role']=='$2'][0]"
}

# ---------------------------------------------------------------- relay
fake fw fw1 expect-ns:create:echo-svc recv:3 send:2000:1024:pong sleep:300
FW=$LAST_PID
wait_for_line "$LOG" 'end fw:0 connected' || bad "fw connects"
$FP -p host ns-create:echo-svc:1024 send:1024:2000:hello flood:1024:2000:2 recv:1 >"$T/h1.out" 2>&1
check "host exchange succeeds" test $? -eq 0
wait "$FW"; check "fw exchange succeeds" test $? -eq 0
check "fw got the announcement" grep -q 'rx-ns create name=echo-svc addr=1024' "$T/fw1.out"
check "fw got hello, header untouched" grep -q 'rx src=1024 dst=2000 len=5 data=hello' "$T/fw1.out"
check "host got pong" grep -q 'rx src=2000 dst=1024 len=4 data=pong' "$T/h1.out"
check "host departure withdraws its service" wait_for_line "$LOG" "told fw:0: service 'echo-svc' at 1024 destroyed" 5

# ---------------------------------------------------------------- volume and order
fake fw fw2 -q recv:5000
FW=$LAST_PID
wait_for_line "$LOG" 'end fw:0 connected \(.*\); its peer is not connected yet' 5
$FP -p host flood:1024:2000:5000:100 sleep:200 >"$T/h2.out" 2>&1
check "5000 messages sent" test $? -eq 0
wait "$FW"; check "5000 messages received in order" grep -q 'recv count=5000 seq_errors=0' "$T/fw2.out"

# ---------------------------------------------------------------- back-pressure
ctl_json stats; bp0=$(end_field echo a backpressure)
fake fw fw3 -q --rx-post 2 hold:1500 recv:2000
FW=$LAST_PID
sleep 0.3
$FP -p host flood:1024:2000:2000:64 sleep:500 >"$T/h3.out" 2>&1
check "flood into a slow receiver completes" test $? -eq 0
wait "$FW"; check "nothing dropped under back-pressure" grep -q 'recv count=2000 seq_errors=0' "$T/fw3.out"
ctl_json stats; bp1=$(end_field echo a backpressure)
check "back-pressure counted ($bp0 -> $bp1)" test "$bp1" -gt "$bp0"

# ---------------------------------------------------------------- fairness
# A flood on link echo must not stall link other: 300 round trips there
# finish while the flood (20 M messages, far more than 300 round trips take
# even on a loaded machine) is still running.
fake fw fw9 -q -t 120000 recv:20000000
FW=$LAST_PID
fake host h9 -t 120000 flood:1024:2000:20000000:32
HOST=$LAST_PID
wait_connected host
sleep 0.3
fake right r9 -d 2 echo:300
RP=$LAST_PID
$FP -p left pingpong:1024:1025:300 >"$T/l9.out" 2>&1
check "round trips on a quiet link during a flood on another" grep -q 'pingpong count=300' "$T/l9.out"
check "... finished before the flood ($(grep -o 'total_ms=.*' "$T/l9.out"))" kill -0 "$HOST"
wait "$RP"
stop_pid "$HOST"; stop_pid "$FW"
wait_for_line "$LOG" 'end fw:0 gone' 5

# ---------------------------------------------------------------- late peer, replay
fake host h4 ns-create:late-svc:1100 send:1100:3000:early1 send:1100:3000:early2 sleep:4000
HOST=$LAST_PID
wait_connected host
sleep 0.3
$FP -p fw recv:3 >"$T/f4.out" 2>&1
check "messages sent before the peer existed are delivered" grep -q 'data=early2' "$T/f4.out"
$FP -p fw expect-ns:create:late-svc >"$T/f5.out" 2>&1
check "a reconnecting end gets the peer's services replayed" test $? -eq 0
fake fw f6 expect-ns:destroy:late-svc
FW=$LAST_PID
sleep 0.3
kill -9 "$HOST"; wait "$HOST" 2>/dev/null
wait "$FW"; check "a crashed end's services are withdrawn" test $? -eq 0
check "crash logged as gone" grep -q 'end host:0 gone: closed the connection' "$LOG"

# ---------------------------------------------------------------- ring faults
# tx_fault KIND EXPECTED-LOG-TEXT
tx_fault() {
	local kind=$1 want=$2
	fake fw ff sleep:6000
	local fw=$LAST_PID
	wait_connected fw
	local before
	before=$(grep -c 'end host:0 disconnected' "$LOG")
	$FP -p host "fault:$kind" wait-closed >"$T/hf.out" 2>&1
	local rc=$?
	local line
	line=$(grep 'end host:0 disconnected' "$LOG" | tail -n 1)
	if [ "$rc" -eq 0 ] && [ "$(grep -c 'end host:0 disconnected' "$LOG")" -eq $((before + 1)) ] &&
	   grep -q 'error code=' "$T/hf.out" && [[ "$line" == *"link echo: end host:0 disconnected: "*"$want"* ]]; then
		ok "fault $kind: $line"
	else
		bad "fault $kind (rc $rc, wanted '$want'; got '$line')"
	fi
	ctl_json status
	check "fault $kind: the peer stays connected" test "$(end_field echo b state)" = Connected
	check "fault $kind: the other link works" other_link_works
	stop_pid "$fw"
	: >"$LOG.mark"
}
tx_fault desc-id 'TX ring (vring 1): descriptor id out of range (avail index 0, ring num 64)'
tx_fault desc-range 'descriptor buffer outside the region'
tx_fault desc-loop 'descriptor chain loops'
tx_fault desc-flags 'invalid descriptor flags'
tx_fault desc-zero 'zero-length descriptor'
tx_fault chain 'descriptor chain too long'
tx_fault avail-idx 'avail index ran ahead by more than the ring size'
tx_fault msg-short 'shorter than the RPMsg header'
tx_fault msg-len 'header length 400 does not fit its buffer of 26 bytes'
tx_fault msg-big "does not fit the link's buf-size of 512 bytes"
tx_fault ns-size 'name-service message from 1024: name-service message of the wrong size'
tx_fault ns-name 'invalid name-service name'
tx_fault ns-flags 'invalid name-service flags'

# rx_fault KIND WANT: the receiving end spoiled its RX ring.
rx_fault() {
	local kind=$1 want=$2
	fake host hr "fault:$kind" wait-closed
	local h=$LAST_PID
	wait_connected host
	sleep 0.2
	$FP -p fw send:2000:1024:x sleep:300 >"$T/fr.out" 2>&1
	wait "$h"
	local line
	line=$(grep 'end host:0 disconnected' "$LOG" | tail -n 1)
	if [[ "$line" == *"$want"* ]] && grep -q 'error code=' "$T/hr.out"; then
		ok "fault $kind: $line"
	else
		bad "fault $kind (wanted '$want'; got '$line')"
	fi
}
rx_fault rx-flags 'RX ring (vring 0): invalid descriptor flags'
rx_fault rx-small 'of 8 bytes cannot hold a 17-byte message'

# too many services: max-services = 8
fake fw fs -t 4000 recv:16
FW=$LAST_PID
wait_connected fw
$FP -p host ns-flood:s:9:1200 wait-closed >"$T/hs.out" 2>&1
check "more than max-services live services: disconnected" \
	grep -q "end host:0 disconnected: announced more than max-services (8) live services (the last 's8' at 1208)" "$LOG"
wait "$FW"
check "and its 8 services were withdrawn from the peer" test "$(grep -c 'rx-ns destroy name=s' "$T/fs.out")" -eq 8

# ---------------------------------------------------------------- handshake
# refused OPTIONS... -- WANT: the partition is refused with WANT in ERROR.
refused() {
	local want=${*: -1}
	local args=("${@:1:$#-1}")
	$FP "${args[@]}" >"$T/hx.out" 2>&1
	local rc=$?
	if [ "$rc" -eq 3 ] && grep -q -- "$want" "$T/hx.out"; then
		ok "refused (${args[*]}): $want"
	else
		bad "refused (${args[*]}): rc $rc, wanted '$want': $(cat "$T/hx.out")"
	fi
}
refused -p nobody "no link of the backend configuration has the end nobody:0"
refused -p fw -d 1 "no link of the backend configuration has the end fw:1"
refused -p host --proto-version 9 "protocol version 9 is not supported"
refused --name-hex 66770177 "non-printable or blank character"
refused --name-hex "$(printf '61%.0s' {1..64})" "not NUL-terminated within 64 bytes"
refused -p host --region-fds 0 "exactly 1 fd"
refused -p host --region-fds 2 "exactly 1 fd"
refused -p host --region-fds 5 "exactly 1 fd"
refused -p host --declare-size 4096 "holds"
refused -p host --declare-size 5000 "not a non-zero multiple of 4096"
refused -p host --extra-pages 300 "exceeds this end's cap of 256 pages"
refused -p host --no-seal "cannot seal the region memfd"
refused -p host --rsc ver "resource table:"
refused -p host --rsc no-vdev "resource table:"
refused -p host --rsc vdev-id "resource table:"
refused -p host --rsc nvrings "resource table:"
refused -p host --rsc num "vring 0 has 128 entries but the link's buf-count is 64"
refused -p host --rsc da-out "ring does not fit in the region"
refused -p host --rsc da-misaligned "ring does not fit in the region"
refused -p host --rsc overlap "overlap"
fake host hd sleep:2000
HD=$LAST_PID
wait_connected host
refused -p host "host:0 is already connected"
stop_pid "$HD"
check "a client that never finishes the handshake is harmless" \
	bash -c "$FP -p fw --no-region sleep:100 >/dev/null"
check "after all that, the link still relays" bash -c "
	$FP -p fw recv:1 >$T/z.out 2>&1 & p=\$!; sleep 0.3
	$FP -p host send:1:2:alive >/dev/null 2>&1; wait \$p && grep -q data=alive $T/z.out"

# ---------------------------------------------------------------- xenampctl
ctl_json status
check "xenampctl --json status names the links" test "$(json_get "$T/ctl.json" "[l['name'] for l in j['links']]")" = "['echo', 'other']"
check "xenampctl status prints a table" bash -c "$CTL status | grep -q '^echo  *a  *host  *0  *Absent'"
check "xenampctl stats prints totals" bash -c "$CTL stats | grep -q '^link echo: [0-9]* messages'"
check "xenampctl endpoints" bash -c "$CTL endpoints | grep -q '^LINK'"
$CTL --socket "$T/nothing.sock" status >"$T/c.out" 2>&1
check "xenampctl without a backend: exit 1" test $? -eq 1
check "xenampctl without a backend: says so" grep -q "cannot reach the backend at $T/nothing.sock.*is xenamp-backend running?" "$T/c.out"
$CTL frobnicate >/dev/null 2>&1; check "xenampctl unknown command: exit 2" test $? -eq 2

# ---------------------------------------------------------------- idle
pid_cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
c0=$(pid_cpu "$BACKEND_PID"); sleep 1; c1=$(pid_cpu "$BACKEND_PID")
check "idle backend uses no CPU ($c0 -> $c1 ticks)" test $((c1 - c0)) -le 1

# ---------------------------------------------------------------- the daemon itself
"$BACKEND" --foreground --config "$T/xenamp.conf" --socket "$SOCK" >"$T/dup.out" 2>&1
check "a second backend on the same socket: exit 1" test $? -eq 1
check "... and says why" grep -q "another xenamp-backend is already listening on $SOCK" "$T/dup.out"
printf '[link x]\nend-a = a\nbuf-count = 3\n' >"$T/bad.conf"
"$BACKEND" --foreground --config "$T/bad.conf" >"$T/badconf.out" 2>&1
check "config error: exit 2" test $? -eq 2
check "config error: one line with FILE:LINE" bash -c "[ \$(wc -l <$T/badconf.out) -eq 1 ] && grep -q '^xenamp-backend: $T/bad.conf:3: buf-count' $T/badconf.out"
"$BACKEND" --bogus >/dev/null 2>&1; check "unknown option: exit 2" test $? -eq 2
check "--help documents the exit codes" bash -c "'$BACKEND' --help | grep -q '2  usage or configuration error'"

stop_pid "$BACKEND_PID"
check "the socket is removed on exit" test ! -e "$SOCK"
# a stale socket (nobody listening) is replaced
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.bind(sys.argv[1])' "$SOCK"
"$BACKEND" --config "$T/xenamp.conf" --socket "$SOCK" 2>"$T/daemon.err"
check "daemon mode: the parent returns 0" test $? -eq 0
for ((i = 0; i < 50; i++)); do $CTL --json status >"$T/ctl.json" 2>/dev/null && break; sleep 0.1; done
DPID=$(json_get "$T/ctl.json" "j['backend']['pid']")
check "daemon mode: serves the stale socket's path" test -n "$DPID"
check "daemon mode: socket mode 0660" test "$(stat -c %a "$SOCK")" = 660
[ -n "$DPID" ] && kill "$DPID"
for ((i = 0; i < 50; i++)); do [ -e "$SOCK" ] || break; sleep 0.1; done
check "daemon mode: stops on SIGTERM" test ! -e "$SOCK"

finish
