#!/usr/bin/env bash
# Back-pressure instead of loss: the receiver stops reading for 2 s; the
# blocking sender blocks (and the trysend sender gets RPMSG_ERR_NO_BUFF);
# after the receiver resumes, every message arrives once, in order.
. "$(dirname "$0")/lib.sh"

N=3000
start_backend "$LINK_HOST_FW" || { bad "backend starts"; finish; exit; }

for mode in blocking try; do
	flag=; [ $mode = try ] && flag=--try
	bg "$PROBE" -p fw sink -N seq -c $N --pause-after 100 --pause-ms 2000 >"$T/sink-$mode.log" 2>&1
	SINK=$LAST_PID
	"$PROBE" -p host source -N seq -c $N $flag >"$T/source-$mode.log" 2>&1
	check "$mode: sender finished all $N sends" grep -q "^sent $N " "$T/source-$mode.log"
	wait "$SINK"
	check "$mode: receiver got $N, in order, no duplicate, none missing" \
		grep -q "^received $N out-of-order 0 duplicates 0 missing 0" "$T/sink-$mode.log"
	if [ $mode = blocking ]; then
		ms=$(sed -n 's/.*blocked-max-ms \([0-9]*\).*/\1/p' "$T/source-$mode.log")
		check "blocking: a send blocked while the receiver paused (${ms:-?} ms >= 1000)" test "${ms:-0}" -ge 1000
	else
		nb=$(sed -n 's/.*nobuff \([0-9]*\).*/\1/p' "$T/source-$mode.log")
		check "trysend: got RPMSG_ERR_NO_BUFF while the receiver paused (${nb:-0} times)" test "${nb:-0}" -gt 0
	fi
	sleep 0.3
done
"$CTL" --socket "$SOCK" --json stats >"$T/stats.json"
check "backend counted back-pressure events" \
	test "$(json_get "$T/stats.json" "j['links'][0]['backpressure']")" -gt 0
finish
