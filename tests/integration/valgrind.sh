#!/usr/bin/env bash
# valgrind memcheck over the local-mode stack: xenamp-backend, the echo
# server and the echo client each under valgrind, 2,000 echoed messages,
# then a name-service kill/restart (a server SIGKILLed: the backend
# withdraws its service; a new one under valgrind: the service is replayed)
# and 2,000 more messages. Every process must exit as it should and every
# log must end with "ERROR SUMMARY: 0 errors" (definite leaks count).
#
# Not part of make check (slow); a phase of scripts/test-all:
#   top_builddir=BUILD top_srcdir=SRC bash SRC/tests/integration/valgrind.sh
. "$(dirname "$0")/lib.sh"

command -v valgrind >/dev/null || { echo "SKIP: valgrind not installed"; exit 77; }
N=${XENAMP_VALGRIND_MSGS:-2000}
# Through libtool so that wrapped programs run their real binary with the
# uninstalled libxenamp.
VG=("$B/libtool" --mode=execute valgrind --error-exitcode=99 --leak-check=full
	--errors-for-leak-kinds=definite --show-leak-kinds=definite)
# vg TAG: the valgrind command line logging to $T/vg-TAG.log (a plain
# command, not a function, so that bg's pid is valgrind's own).
vg() { VGC=("${VG[@]}" --log-file="$T/vg-$1.log"); }
vg_clean() { grep -q 'ERROR SUMMARY: 0 errors' "$T/vg-$1.log"; }
export XENAMP_RECONNECT_MS=-1

printf '%s\n' "$LINK_HOST_FW" >"$T/xenamp.conf"
rm -f "$SOCK"
vg backend; bg "${VGC[@]}" "$BACKEND" --foreground --config "$T/xenamp.conf" --socket "$SOCK" -v 2>>"$T/backend.log"
BACKEND_PID=$LAST_PID
for ((i = 0; i < 300; i++)); do [ -S "$SOCK" ] && break; sleep 0.1; done
check "backend under valgrind starts" test -S "$SOCK"

# first server, under valgrind, 2,000 messages
vg server1; bg "${VGC[@]}" "$ECHO_SERVER" --partition fw -q
S1=$LAST_PID
wait_for_line "$T/backend.log" 'end fw:0 connected' 60 || bad "first server connects"
vg client1; "${VGC[@]}" "$ECHO_CLIENT" --partition host -w 60 -n "$N" -q >"$T/client1.log" 2>&1
check "client 1 under valgrind exits 0" test $? -eq 0
check "client 1: $N echoes intact" grep -q "^sent $N, received $N, mismatches 0" "$T/client1.log"

# name service across deaths: a watcher on host (no valgrind) sees the
# service, its withdrawal when server 1 stops, and a restarted server's
# announcement; that one is SIGKILLed (no valgrind: it could not report)
# and a third server, under valgrind, takes its place.
bg "$PROBE" -p host watch -N rpmsg-echo -e 3 >"$T/watch.log" 2>&1
WATCH=$LAST_PID
wait_for_line "$T/watch.log" '^bound' 30 || bad "watcher sees the service"
kill -TERM "$S1"; wait "$S1"
check "server 1 under valgrind: exit 0 on SIGTERM" test $? -eq 0
bg "$ECHO_SERVER" --partition fw -q
S2=$LAST_PID
wait "$WATCH"
check "watcher saw bound, unbound, bound" \
	test "$(grep -Eo '^(bound|unbound)' "$T/watch.log" | tr '\n' ' ')" = "bound unbound bound "
kill -KILL "$S2"; wait "$S2" 2>/dev/null
check "the killed server's service is withdrawn" \
	wait_for_line "$T/backend.log" "told host:0: service 'rpmsg-echo' at [0-9]+ destroyed|fw:0 gone" 30
vg server3; bg "${VGC[@]}" "$ECHO_SERVER" --partition fw -q
S3=$LAST_PID
vg client2; "${VGC[@]}" "$ECHO_CLIENT" --partition host -w 60 -n "$N" -q >"$T/client2.log" 2>&1
check "client 2 under valgrind exits 0" test $? -eq 0
check "client 2: $N echoes intact after the restart" grep -q "^sent $N, received $N, mismatches 0" "$T/client2.log"
"$CTL" --json stats >"$T/stats.json"
check "xenampctl answers" test $? -eq 0
kill -TERM "$S3"; wait "$S3"
check "server 3 under valgrind: exit 0 on SIGTERM" test $? -eq 0
kill -TERM "$BACKEND_PID"; wait "$BACKEND_PID"
check "backend under valgrind: exit 0 on SIGTERM" test $? -eq 0
BG_PIDS=()

for tag in backend server1 client1 server3 client2; do
	check "valgrind $tag: 0 errors, no definite leak" vg_clean "$tag"
done
for f in "$T"/vg-*.log; do
	grep -q 'ERROR SUMMARY: 0 errors' "$f" || { echo "# --- $f"; sed 's/^/# /' "$f" | head -n 80; }
done
finish
