#!/usr/bin/env bash
# xenamp_send_batch() (libxenamp(3)): delivered bytes and order, one kick
# per batch, fewer sent than asked when TX buffers run out (and the rest
# sent again), the 64-message cap, a too-long buffer (truncated, as
# rpmsg_send) and the refused calls (RPMSG_ERR_PARAM, nothing sent).
# The checks are in send-batch.c; the backend runs with XENAMP_POLL_US=0
# so that it sleeps with its TX rings armed between batches.
. "$(dirname "$0")/lib.sh"

CONF='[backend]
[link small]
end-a = host:0
end-b = fw:0
buf-size = 512
buf-count = 16

[link wide]
end-a = host:1
end-b = fw:1
buf-size = 512
buf-count = 128'
XENAMP_POLL_US=0 start_backend "$CONF" || { bad "backend starts"; finish; exit; }
"$B/tests/integration/send-batch" >"$T/send-batch.log" 2>"$T/send-batch.err"
rc=$?
cat "$T/send-batch.log"
while read -r line; do
	case $line in
	PASS:*) pass=$((pass + 1)) ;;
	FAIL:*) fail=$((fail + 1)) ;;
	esac
done <"$T/send-batch.log"
check "send-batch exited 0 (status $rc)" test "$rc" = 0
check "at least 20 checks ran" test "$pass" -ge 20
check "backend logged no fault" sh -c "! grep -qi 'fault\|disconnected:' '$T/backend.log'"
finish
