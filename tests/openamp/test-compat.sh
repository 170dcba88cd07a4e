#!/usr/bin/env bash
# OpenAMP compatibility, one program per API group (tests/openamp/oa-*.c,
# written only against OpenAMP's headers and names, built with the
# compatibility include path alone). Each runs as two partitions, "fw"
# and "host", through a real xenamp-backend; both must exit 0 ("ok").
. "$top_srcdir/tests/integration/lib.sh"

PROGS=${OA_PROGS:-"oa-bufsize oa-endpoint oa-metal"}

start_backend "$LINK_HOST_FW" || { bad "backend starts"; finish; exit; }

n=0
for p in $PROGS; do
	exe=$B/tests/openamp/$p
	XENAMP_PARTITION=fw bg "$exe" fw >"$T/$p-fw.log" 2>&1
	fw_pid=$LAST_PID
	if ! wait_for_line "$T/$p-fw.log" "ready" 10; then
		bad "$p: fw side ready"
		stop_pid "$fw_pid"
		continue
	fi
	XENAMP_PARTITION=host "$exe" host >"$T/$p-host.log" 2>&1
	rc=$?
	check "$p: host side exits 0" test $rc -eq 0
	wait "$fw_pid"
	rc=$?
	check "$p: fw side exits 0" test $rc -eq 0
	for side in fw host; do
		grep -q "^$p $side: ok" "$T/$p-$side.log" ||
			sed "s/^/# $p $side: /" "$T/$p-$side.log"
	done
	# The next pair connects only once both ends of this one are gone.
	n=$((n + 1))
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c 'end fw[^ ]* gone' "$T/backend.log")" -ge $n ] &&
			[ "$(grep -c 'end host[^ ]* gone' "$T/backend.log")" -ge $n ] && break
		sleep 0.05
	done
done

# rpmsg_init_vdev() and the shared-memory pool set-up have no meaning
# over xenamp (docs/porting-firmware.md): a call must not build, and the
# compiler must say what to use instead.
printf '%s\n' '#include <openamp/open_amp.h>' \
	'int f(struct rpmsg_virtio_device *r) { return rpmsg_init_vdev(r, 0, 0, 0, 0); }' \
	>"$T/init_vdev.c"
if ${CC:-cc} -std=c11 -I"$top_srcdir/include/openamp" -I"$top_srcdir/include" \
	-c "$T/init_vdev.c" -o "$T/init_vdev.o" >"$T/init_vdev.log" 2>&1; then
	bad "a call to rpmsg_init_vdev does not build"
else
	check "a call to rpmsg_init_vdev fails to build, naming platform_create_rpmsg_vdev" \
		grep -q "platform_create_rpmsg_vdev" "$T/init_vdev.log"
fi

finish
