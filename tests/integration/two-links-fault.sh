#!/usr/bin/env bash
# Two links at once. A partition on the second link writes a descriptor id
# out of range into its TX ring: the backend disconnects it with one clear
# log line, while the first link's traffic goes on without loss.
. "$(dirname "$0")/lib.sh"

start_backend "$LINK_HOST_FW

[link other]
end-a = a
end-b = b
buf-size = 512
buf-count = 64" || { bad "backend starts"; finish; exit; }

bg "$ECHO_SERVER" --partition fw >"$T/server.log" 2>&1
bg "$ECHO_CLIENT" --partition host -n 20000 -q >"$T/client.log" 2>&1
CLIENT=$LAST_PID
bg "$FAKE" -q -p a sleep:8000 >"$T/fake-a.log" 2>&1
# b sends some good traffic first, then corrupts its ring.
"$FAKE" -q -p b flood:1024:1024:50 sleep:200 fault:desc-id wait-closed >"$T/fake-b.log" 2>&1
check "hostile partition b is dropped by the backend" test $? -eq 0
check "one clear log line names the end, its link and the fault" \
	wait_for_line "$T/backend.log" 'link other: end b:0 disconnected: .*descriptor id out of range' 5
check "exactly one such line" test "$(grep -c 'end b:0 disconnected' "$T/backend.log")" -eq 1
wait "$CLIENT"
check "link echo: the client's 20000 messages all came back intact meanwhile" \
	grep -q "^sent 20000, received 20000, mismatches 0" "$T/client.log"
"$CTL" --socket "$SOCK" --json status >"$T/status.json"
st() { json_get "$T/status.json" "[e for L in j['links'] for e in L['ends'] if e['partition'] == '$1'][0]['state']"; }
check "partition a (same link as b) still connected" test "$(st a)" = Connected
check "partition b no longer connected" test "$(st b)" != Connected
"$CTL" --socket "$SOCK" --json stats >"$T/stats.json"
check "fault counted on b, none on link echo" \
	test "$(json_get "$T/stats.json" "[L for L in j['links'] if L['name'] == 'other'][0]['faults']")-$(json_get "$T/stats.json" "[L for L in j['links'] if L['name'] == 'echo'][0]['faults']")" = 1-0
finish
