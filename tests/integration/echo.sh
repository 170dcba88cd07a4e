#!/usr/bin/env bash
# Echo of 10,000 messages of sizes 1..496 through the backend, every byte
# checked by the client, and the backend's counters (xenampctl stats
# --json) agreeing with what was sent.
. "$(dirname "$0")/lib.sh"

N=10000
start_backend "$LINK_HOST_FW" || { bad "backend starts"; finish; exit; }
bg "$ECHO_SERVER" --partition fw >"$T/server.log" 2>&1
"$ECHO_CLIENT" --partition host -n $N -q >"$T/client.log" 2>&1
rc=$?
check "echo client exits 0" test $rc -eq 0
check "client saw every reply intact" grep -q "^sent $N, received $N, mismatches 0" "$T/client.log"

"$CTL" --socket "$SOCK" --json stats >"$T/stats.json"
check "xenampctl stats --json exits 0" test $? -eq 0

# What the client sent: N messages of 1 + (i % 496) payload bytes, each with
# a 16-byte header; the client's endpoint announces itself (56 bytes) and
# withdraws itself when it is destroyed (56 bytes).
want_bytes=$(python3 -c "print(sum(16 + 1 + i % 496 for i in range($N)))")
end() { json_get "$T/stats.json" "[e for e in j['links'][0]['ends'] if e['partition'] == '$1'][0]['$2']"; }
check "host end: msgs_in = $N + create + destroy" test "$(end host msgs_in)" = $((N + 2))
check "fw end: msgs_in = $N echoes + 1 announcement" test "$(end fw msgs_in)" = $((N + 1))
check "host end: bytes_in = $((want_bytes + 112))" test "$(end host bytes_in)" = $((want_bytes + 112))
check "fw end: bytes_in = the same sizes echoed + its announcement" test "$(end fw bytes_in)" = $((want_bytes + 56))
check "host end: received every echo (msgs_out - ns_built = $N + 1)" \
	test $(($(end host msgs_out) - $(end host ns_built))) = $((N + 1))
check "link total messages = $((2 * N + 3))" \
	test "$(json_get "$T/stats.json" "j['links'][0]['messages']")" = $((2 * N + 3))
check "no faults" test "$(json_get "$T/stats.json" "j['links'][0]['faults']")" = 0
check "human stats table names both ends" sh -c "'$CTL' --socket '$SOCK' stats | grep -q host && '$CTL' --socket '$SOCK' stats | grep -q fw"

# --rate paces the sends: 31 messages at 20 per second cannot leave in
# less than 30/20 = 1.5 s (a lower bound, whatever the machine's speed).
t0=$(date +%s%N)
"$ECHO_CLIENT" --partition host -n 31 --rate 20 -q >"$T/rate.log" 2>&1
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check "paced client exits 0 with every reply intact" \
	sh -c "[ $rc -eq 0 ] && grep -q '^sent 31, received 31, mismatches 0' '$T/rate.log'"
check "--rate 20: 31 messages took at least 1500 ms ($ms ms)" test $ms -ge 1500
"$ECHO_CLIENT" --partition host --rate 0 >"$T/rate0.log" 2>&1
rc=$?
check "--rate 0 is refused with exit status 2 ($rc)" test $rc -eq 2
check "--rate 0: one line naming the value" grep -q "invalid rate '0'" "$T/rate0.log"

# --ping: one message in flight at a time, each timed from its send to
# its reply; the summary gains the round trips (min <= avg <= max).
"$ECHO_CLIENT" --partition host -n 200 --ping -q >"$T/ping.log" 2>&1
rc=$?
check "--ping: exit 0, 200 replies intact, round trips reported" \
	sh -c "[ $rc -eq 0 ] && grep -qE '^sent 200, received 200, mismatches 0, bytes [0-9]+, rtt min/avg/max [0-9]+/[0-9]+/[0-9]+ us\$' '$T/ping.log'"
check "--ping: min <= avg <= max" sh -c "sed -n 's|.*rtt min/avg/max \\([0-9]*\\)/\\([0-9]*\\)/\\([0-9]*\\) us|\\1 \\2 \\3|p' '$T/ping.log' | { read -r a b c; [ \$a -le \$b ] && [ \$b -le \$c ]; }"
check "without --ping: no rtt in the summary" sh -c "! grep -q rtt '$T/client.log'"
finish
