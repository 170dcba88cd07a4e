#!/bin/sh
# shellcheck shell=dash
# Kill stress (local use, not in CI): the backend SIGKILLed again and again
# under a paced echo stream, to shake out races in the partitions'
# reconnection (tests/xen/README.md). Boots host and fw once, then runs
# ROUNDS rounds of step 9 of scenario-xenamp.sh (kill_stream,
# scenario-backend.sh): MSGS messages from host:0 to fw's echo server at
# RATE/s, the backend SIGKILLed KILLS times at random points and started
# again after a random pause. Each round checks every reply once, in order,
# intact, and that fw's echo servers never restarted. Stops at the first
# failed round and prints the seed for a rerun.
#
#   tests/xen/run.sh tests/xen/scenario-killstress.sh
#
# The knobs are read in dom0 (run.sh passes nothing from the host): to
# change them, run a two-line scenario that sets them and sources this one,
# which the image carries as /opt/xenamp/scenario-killstress.sh:
#   XENAMP_XEN_KILL_SEED=1234 XENAMP_XEN_KILL_ROUNDS=5
#   . /opt/xenamp/scenario-killstress.sh
. /opt/xenamp/scenario-lib.sh
. /opt/xenamp/scenario-backend.sh

ROUNDS=${XENAMP_XEN_KILL_ROUNDS:-20}
KMSGS=${XENAMP_XEN_KILL_MSGS:-1500}
KILLS=${XENAMP_XEN_KILLS:-3}
KRATE=${XENAMP_XEN_KILL_RATE:-100}
KSEED=${XENAMP_XEN_KILL_SEED:-$(( $$ * 7 + $(now_s) ))}
RANDOM=$KSEED
echo "kill stress: $ROUNDS rounds of $KMSGS messages at $KRATE/s with $KILLS backend kills each; seed $KSEED"

cat > /tmp/xenamp.conf <<EOF
[backend]
socket = $XENAMP_SOCKET
max-pages = 256
log-level = info

[link host-fw]
end-a = host:0
end-b = fw:0
buf-size = 512
buf-count = 256

[link dom0-fw]
end-a = dom0fw:0
end-b = fw:1
buf-size = 512
buf-count = 64
EOF

$BACKEND -f -c /tmp/xenamp.conf > /tmp/backend.log 2>&1 &
BPID=$!
check "backend runs in dom0 with transports local and xen" backend_up
xenamp_create_bg host
xenamp_create_bg fw
for d in host fw; do
	check "xl create $d" xenamp_create_wait "$d"
done
for d in host fw; do
	check "$d ready" wait_ready "$d" 120
done
check "fw:0 connected over xen" wait_end fw 0 "Connected xen" 60
check "fw:1 connected over xen" wait_end fw 1 "Connected xen" 30
cmd host warm echo 100
R=$(result host warm 120)
case $R in
"rc=0 "*"received 100, mismatches 0"*) pass "host <-> fw: 100 messages before the kills" ;;
*) fail "host <-> fw before the kills: $R"; tail -n 30 /tmp/backend.log ;;
esac

EXITS0=$(server_exits)
T0=$(uptime_s)
round=1
passed=0
while [ "$XENAMP_FAILED" = 0 ] && [ $round -le "$ROUNDS" ]; do
	t=$(uptime_s)
	echo "--- round $round of $ROUNDS (seed $KSEED) ---"
	if kill_stream "r$round" "$KMSGS" "$KILLS" "$KRATE" /tmp/xenamp.conf; then
		check "round $round: fw's echo servers kept running ($(server_exits) exits, $EXITS0 before)" \
			test "$(server_exits)" = "$EXITS0"
	fi
	[ "$XENAMP_FAILED" = 0 ] && passed=$round
	echo "  round $round took $(awk -v a="$t" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }') s"
	round=$((round + 1))
done
echo "kill stress: $passed of $ROUNDS rounds passed in a row, $((passed * KILLS)) backend kills, $(awk -v a="$T0" -v b="$(uptime_s)" 'BEGIN { printf "%.0f", b - a }') s; seed $KSEED"
if [ "$XENAMP_FAILED" != 0 ]; then
	echo "kill stress: round $((passed + 1)) failed; rerun its choices with a scenario file holding"
	echo "  XENAMP_XEN_KILL_SEED=$KSEED XENAMP_XEN_KILL_ROUNDS=$((passed + 1))"
	echo "  . /opt/xenamp/scenario-killstress.sh"
	echo "  --- backend log ---"
	sed 's/^/  | /' /tmp/backend.log | tail -n 60
	for d in host fw; do
		echo "  --- console of $d ---"
		guest_log "$d" | tail -n 30 | sed 's/^/  | /'
	done
fi
kill "$BPID" 2>/dev/null
wait "$BPID" 2>/dev/null
xl destroy fw 2>/dev/null
xl destroy host 2>/dev/null
summary
