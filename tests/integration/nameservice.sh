#!/usr/bin/env bash
# Name service across a partition's death: the client sees the service's
# create; SIGKILL of the server partition makes the client's unbind callback
# run (the backend withdraws the dead end's services); a restarted server is
# seen again.
. "$(dirname "$0")/lib.sh"

start_backend "$LINK_HOST_FW" || { bad "backend starts"; finish; exit; }
bg "$PROBE" -p host watch -N rpmsg-echo -e 3 >"$T/watch.log" 2>&1
WATCH=$LAST_PID
bg "$ECHO_SERVER" --partition fw >"$T/server1.log" 2>&1
SERVER=$LAST_PID
check "client sees the service's create (bound)" wait_for_line "$T/watch.log" '^bound [0-9]+' 20

kill -9 "$SERVER"
check "SIGKILL of the server runs the client's unbind callback" wait_for_line "$T/watch.log" '^unbound' 20
check "backend logs the end going away" wait_for_line "$T/backend.log" 'fw' 5

bg "$ECHO_SERVER" --partition fw >"$T/server2.log" 2>&1
check "restarted server is seen again (second bound)" \
	sh -c "for i in \$(seq 200); do [ \$(grep -c '^bound' '$T/watch.log') -ge 2 ] && exit 0; sleep 0.1; done; exit 1"
wait "$WATCH"
check "watcher saw bound, unbound, bound in that order" \
	test "$(grep -Eo '^(bound|unbound)' "$T/watch.log" | tr '\n' ' ')" = "bound unbound bound "
"$ECHO_CLIENT" --partition host -n 200 -q >"$T/client.log" 2>&1
check "traffic flows to the restarted server" grep -q "^sent 200, received 200, mismatches 0" "$T/client.log"
finish
