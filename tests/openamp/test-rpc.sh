#!/usr/bin/env bash
# OpenAMP's RPC services through a real xenamp-backend, the programs
# written only against OpenAMP's headers and names:
# 1. the proxy (rpmsg_retarget.h): oa-rpc-demo as partition "fw", its
#    file I/O and console served by xenamp-rpc-proxy as partition "host"
#    under a root directory; the file written on this host, the bytes
#    read back, the printed lines, the console input and the refusals.
# 2. rpmsg_rpc_client_server.h: oa-rpc-client ("fw") against
#    oa-rpc-server ("host"); the answers, and an unknown id answered
#    RPMSG_RPC_INVALID_ID.
. "$top_srcdir/tests/integration/lib.sh"

PROXY=$B/src/tools/xenamp-rpc-proxy
OA=$B/tests/openamp
TEXT='This is a test string being written to file..'

start_backend "$LINK_HOST_FW" || { bad "backend starts"; finish; exit; }

# --- 1. the proxy -----------------------------------------------------
ROOT=$T/root
mkdir -p "$ROOT"
echo secret >"$T/outside.file"
ln -s ../outside.file "$ROOT/outside.link"
printf 'xenamp-user\n' >"$T/console.in"
# (An asynchronous command's stdin is /dev/null unless redirected in it.)
XENAMP_PARTITION=host bg bash -c 'exec "$@" <"$0"' "$T/console.in" \
	"$PROXY" --root "$ROOT" >"$T/proxy.out" 2>"$T/proxy.log"
proxy_pid=$LAST_PID
wait_for_line "$T/proxy.log" "serving 'rpmsg-openamp-demo-channel'" 10 ||
	bad "xenamp-rpc-proxy starts"
XENAMP_PARTITION=fw "$OA/oa-rpc-demo" >"$T/demo.log" 2>&1
rc=$?
check "oa-rpc-demo exits 0" test $rc -eq 0
check "oa-rpc-demo prints ok locally once its rpc is released" \
	grep -qx 'oa-rpc-demo fw: ok' "$T/demo.log"
wait "$proxy_pid"
rc=$?
check "xenamp-rpc-proxy exits 0 after TERM" test $rc -eq 0
check "the host file holds what the partition wrote" \
	test "$(cat "$ROOT/remote.file")" = "$TEXT"
check "a 3000-byte write arrives whole" test "$(stat -c %s "$ROOT/big.file")" -eq 3000
check "nothing was created outside the root" test ! -e "$T/escape.file"
check "the link's target is untouched" test "$(cat "$T/outside.file")" = secret
# The partition's printf lines, on the proxy's stdout.
tr -d '\r' <"$T/proxy.out" >"$T/proxy.txt"
for line in \
	'Remote>Baremetal Remote Procedure Call (RPC) Demonstration' \
	"Remote>Opened file 'remote.file' with fd = 3" \
	"Remote>Wrote to fd = 3, size = 45, content = $TEXT" \
	"Remote>Read from fd = 3, size = 45, printing contents below .. $TEXT" \
	'Remote>Enter name' \
	"Remote>User name = 'xenamp-user'" \
	"Remote> Firmware's rpmsg-rpc-channel going down! "; do
	check "printed: $line" grep -qxF -- "$line" "$T/proxy.txt"
done
check "the partition's local ok line does not reach the host" \
	bash -c "! grep -q 'oa-rpc-demo fw: ok' '$T/proxy.txt'"
echo "# proxy: $(grep -c . "$T/proxy.txt") console lines, $(grep -c refused "$T/proxy.log") refusals"
for re in \
	"open '\.\./escape\.file' under '.*' refused: '\.\.' components are refused \(answered -13\)" \
	"open '/etc/passwd' under '.*' refused: absolute paths are refused .*\(answered -13\)" \
	"open 'outside\.link' under '.*' refused: it leads out of the root .*\(answered -13\)" \
	"open 'remote\.file' under '.*' refused: open flags other than .*\(answered -22\)" \
	"ended its session \(TERM\), 0 files closed"; do
	check "proxy line: $re" grep -Eq -- "$re" "$T/proxy.log"
done
check "exactly 4 refusal lines" test "$(grep -c refused "$T/proxy.log")" -eq 4

# The next pair connects only once both ends of this one are gone.
for ((i = 0; i < 100; i++)); do
	[ "$(grep -c 'end fw[^ ]* gone' "$T/backend.log")" -ge 1 ] &&
		[ "$(grep -c 'end host[^ ]* gone' "$T/backend.log")" -ge 1 ] && break
	sleep 0.05
done

# --- 2. client and server ---------------------------------------------
XENAMP_PARTITION=host bg "$OA/oa-rpc-server" >"$T/server.log" 2>&1
server_pid=$LAST_PID
if wait_for_line "$T/server.log" "oa-rpc-server: ready" 10; then
	XENAMP_PARTITION=fw "$OA/oa-rpc-client" >"$T/client.log" 2>&1
	rc=$?
	check "oa-rpc-client exits 0 (every answer as expected)" test $rc -eq 0
	wait "$server_pid"
	rc=$?
	check "oa-rpc-server exits 0 once the client's endpoint is gone" test $rc -eq 0
	check "the server logs the unknown id once" \
		test "$(grep -c 'unknown rpc id 153, answered RPMSG_RPC_INVALID_ID' "$T/server.log")" -eq 1
else
	bad "oa-rpc-server ready"
fi
for f in client server; do
	grep -q "^oa-rpc-$f: ok" "$T/$f.log" || sed "s/^/# $f: /" "$T/$f.log"
done

finish
