#!/usr/bin/env bash
# xenamp-rpmsgd in local mode. Where the kernel has no CUSE (no /dev/cuse,
# as in most containers): the daemon says so in one line and exits with
# status 4 before it contacts the backend. Where /dev/cuse can be opened:
# the real test, as tests/xen does in a domU: an echo server behind the
# backend, the daemon, rpmsg-chardev-test (a program written against
# <linux/rpmsg.h> only: 1,000 messages every byte checked, and the
# character-device semantics), and the TTY bridge with xenamp-tty-demo.
. "$(dirname "$0")/lib.sh"

RPMSGD=$B/src/tools/rpmsgd/xenamp-rpmsgd
TTYDEMO=$B/src/tools/xenamp-tty-demo
CHARDEV=$B/tests/xen/rpmsg-chardev-test

start_backend "$LINK_HOST_FW
[link tty]
end-a = host:2
end-b = fw:2
buf-size = 512
buf-count = 64" || { bad "backend starts"; finish; exit; }

cuse_ok=0
if [ -c /dev/cuse ] && (exec 9<>/dev/cuse) 2>/dev/null; then
	cuse_ok=1
fi

if [ $cuse_ok = 0 ]; then
	echo "# /dev/cuse cannot be opened here (no CUSE in this kernel, or no access): checking the daemon's refusal"
	"$RPMSGD" --partition host --run-dir "$T" --tty-dir "$T" >"$T/out" 2>"$T/err"
	rc=$?
	check "no CUSE: exit status 4 (got $rc)" test $rc -eq 4
	check "no CUSE: exactly one line, on stderr" \
		sh -c "[ \$(wc -l < '$T/err') -eq 1 ] && [ ! -s '$T/out' ]"
	if [ -e /dev/cuse ]; then
		check "no access to CUSE: the line names /dev/cuse" \
			grep -q "^xenamp-rpmsgd: cannot open /dev/cuse: " "$T/err"
	else
		check "no CUSE: the line names /dev/cuse and the cuse module" \
			grep -q "^xenamp-rpmsgd: no CUSE in this kernel (/dev/cuse: .*modprobe cuse" "$T/err"
	fi
	sed 's/^/# /' "$T/err"
	check "no CUSE: the backend never saw partition host" \
		sh -c "! grep -q 'end host:0 appeared' '$T/backend.log'"
	check "no CUSE: no services file left behind" test ! -e "$T/rpmsg_ctrl0.services"
	finish
	exit
fi

# The real test. Control device numbers well above what a kernel or
# another daemon would use.
C0=$((100 + $$ % 50))
C2=$((C0 + 60))
bg "$ECHO_SERVER" --partition fw >"$T/server.log" 2>&1
bg "$TTYDEMO" --partition fw --device 2 -n 3 -i 200 >"$T/ttydemo.log" 2>&1
bg "$RPMSGD" --partition host --device 0 --ctrl-index $C0 --no-tty --run-dir "$T" -v 2>"$T/rpmsgd0.log"
D0=$LAST_PID
bg "$RPMSGD" --partition host --device 2 --ctrl-index $C2 --run-dir "$T" --tty-dir "$T" -v 2>"$T/rpmsgd2.log"
D2=$LAST_PID
check "daemon 0 serves /dev/rpmsg_ctrl$C0" wait_for_line "$T/rpmsgd0.log" "serving /dev/rpmsg_ctrl$C0"
check "the peer's rpmsg-echo is in the services file" wait_for_line "$T/rpmsg_ctrl$C0.services" "^rpmsg-echo [0-9]+$"
addr=$(awk '$1 == "rpmsg-echo" { print $2 }' "$T/rpmsg_ctrl$C0.services")
"$CHARDEV" -c "/dev/rpmsg_ctrl$C0" -s rpmsg-echo -a "$addr" -n 1000 -m 496 >"$T/chardev.log" 2>&1
rc=$?
sed 's/^/# /' "$T/chardev.log"
check "rpmsg-chardev-test passes every check (rc $rc)" \
	sh -c "[ $rc -eq 0 ] && grep -q '^rpmsg-chardev-test: [0-9]* checks passed, 0 failed' '$T/chardev.log'"
check "1000 messages echoed intact through /dev/rpmsgM" \
	grep -q "^ok: 1000 of 1000 messages" "$T/chardev.log"
check "the TTY bridge made $T/ttyRPMSG0" wait_for_line "$T/rpmsgd2.log" "ttyRPMSG0 -> /dev/pts/"
cat "$T/ttyRPMSG0" >"$T/tty.out" &
catpid=$!
check "3 console lines of the tty demo come out of the pty" \
	wait_for_line "$T/tty.out" "console line 3 of 3"
printf 'typed here\r' >"$T/ttyRPMSG0"
check "a line typed on the pty reaches the demo, which answers" \
	wait_for_line "$T/tty.out" "tty-demo: got 'typed here'"
kill $catpid 2>/dev/null
stop_pid $D2
stop_pid $D0
check "daemons stopped: the control devices and the tty link are gone" \
	sh -c "[ ! -e /dev/rpmsg_ctrl$C0 ] && [ ! -e /dev/rpmsg_ctrl$C2 ] && [ ! -e '$T/ttyRPMSG0' ]"
finish
