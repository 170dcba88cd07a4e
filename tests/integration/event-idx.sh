#!/usr/bin/env bash
# VIRTIO_RING_F_EVENT_IDX negotiation (core/vring.h, end_device.h): with
# event indices on both sides, and with them off on either side
# ($XENAMP_EVENT_IDX=0 in the backend's or in a partition's environment)
# -- also two partitions that disagree on one link --, every message is
# delivered: an echo of N messages of every size, and a one-way stream
# whose sender blocks while the receiver pauses (TX completions then wake
# it once per batch when event indices are on). The partition's debug
# line says which suppression it negotiated.
. "$(dirname "$0")/lib.sh"

N=3000
# backend  server  client  expected for the client
combos="1:1:1:on 0:1:1:off 1:0:0:off 0:0:0:off 1:1:0:off 1:0:1:on"
for c in $combos; do
	IFS=: read -r be srv cli want <<<"$c"
	tag="backend $be, server $srv, client $cli"
	XENAMP_EVENT_IDX=$be start_backend "$LINK_HOST_FW" || { bad "$tag: backend starts"; continue; }
	XENAMP_EVENT_IDX=$srv bg "$ECHO_SERVER" --partition fw >"$T/server.log" 2>&1
	SRV=$LAST_PID
	XENAMP_EVENT_IDX=$cli XENAMP_DEBUG=1 "$ECHO_CLIENT" --partition host -n $N -q \
		>"$T/client.log" 2>"$T/client.err"
	rc=$?
	check "$tag: echo of $N, every reply intact" \
		sh -c "[ $rc -eq 0 ] && grep -q '^sent $N, received $N, mismatches 0' '$T/client.log'"
	check "$tag: the client negotiated event indices $want" \
		grep -q "event indices $want" "$T/client.err"
	stop_pid "$SRV"

	XENAMP_EVENT_IDX=$srv bg "$PROBE" -p fw sink -N seq -c $N --pause-after 100 --pause-ms 500 \
		>"$T/sink.log" 2>&1
	SINK=$LAST_PID
	XENAMP_EVENT_IDX=$cli "$PROBE" -p host source -N seq -c $N >"$T/source.log" 2>&1
	check "$tag: blocking sender finished all $N sends" grep -q "^sent $N " "$T/source.log"
	wait "$SINK"
	check "$tag: stream of $N received in order, none missing, no duplicate" \
		grep -q "^received $N out-of-order 0 duplicates 0 missing 0" "$T/sink.log"
	"$CTL" --socket "$SOCK" --json stats >"$T/stats.json"
	check "$tag: no faults" test "$(json_get "$T/stats.json" "j['links'][0]['faults']")" = 0
	stop_pid "$BACKEND_PID"
	sleep 0.1
done
finish
