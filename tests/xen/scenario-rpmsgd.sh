# shellcheck shell=dash
# Step 11 of scenario-xenamp.sh, sourced at its end (after step 10 stopped
# the backend), installed as /opt/xenamp/scenario-rpmsgd.sh: Linux's rpmsg
# user interfaces in a domU, served by xenamp-rpmsgd through CUSE (the
# domU image loads the cuse module, run.sh's XENAMP_DOMU_MODULES).
#
#   backend:  started again with the links of step 1 plus host-tty
#             (host:2 <-> fw:2, 512 x 64)
#   fw:       its echo servers (device 0: rpmsg-echo) reconnect by
#             themselves; xenamp-tty-demo on device 2 announces rpmsg-tty
#   host:     xenamp-rpmsgd on device 0 (/dev/rpmsg_ctrl0, no tty) runs
#             rpmsg-chardev-test, a program written against <linux/rpmsg.h>
#             only, against fw's rpmsg-echo; xenamp-rpmsgd on device 2
#             makes /dev/ttyRPMSG0, which a shell reads and types into
# The guest side is domu-rpmsgd.sh (the rpmsgd-* verbs of domu-xenamp.sh).
# Uses the helpers of scenario-xenamp.sh (cmd, result, wait_end, ...).

# rcmd DOMAIN ID TIMEOUT VERB ARGS...: run a guest command, print its
# result line
rcmd() {
	local _d=$1 _id=$2 _t=$3
	shift 3
	RC_DOM=$_d
	cmd "$_d" "$_id" "$@"
	result "$_d" "$_id" "$_t"
}
# rcheck WHAT PATTERN RESULT: PASS when RESULT matches the case PATTERN
rcheck() {
	# shellcheck disable=SC2254
	case $3 in
	$2) pass "$1" ;;
	*) fail "$1: $3"
	   echo "  console of $RC_DOM (last 25 lines):"
	   guest_log "$RC_DOM" | tr -d '\r' | tail -n 25 | sed 's/^/    /' ;;
	esac
}
# guest_lines DOMAIN ID: what guest command ID printed on the console
guest_lines() { guest_log "$1" | tr -d '\r' | grep "^\[$2\] "; }

cp /tmp/xenamp.conf /tmp/xenamp-rpmsgd.conf
printf '\n[link host-tty]\nend-a = host:2\nend-b = fw:2\nbuf-size = 512\nbuf-count = 64\n' \
	>> /tmp/xenamp-rpmsgd.conf
$BACKEND -f -c /tmp/xenamp-rpmsgd.conf >> /tmp/backend.log 2>&1 &
BPID=$!
check "11: backend started again, with link host-tty (host:2 <-> fw:2)" backend_up
check "11: fw:0 (echo server) connected to it" wait_end fw 0 "Connected xen" 90

R=$(rcmd fw y1 60 rpmsgd-ttydemo 2 5)
echo "  fw: $R"
rcheck "11: xenamp-tty-demo started in fw on device 2" "rc=0 *" "$R"
R=$(rcmd host y2 120 rpmsgd-start 0 -n)
echo "  host: $R"
rcheck "11: xenamp-rpmsgd in host serves /dev/rpmsg_ctrl0 through CUSE" "rc=0 *rpmsg_ctrl0 is up*" "$R"
R=$(rcmd host y3 60 rpmsgd-services 0 rpmsg-echo)
echo "  host: $R"
rcheck "11: fw's rpmsg-echo is in host's /run/xenamp/rpmsg_ctrl0.services" "rc=0 *rpmsg-echo [0-9]*" "$R"

R=$(rcmd host y4 400 rpmsgd-chardev 0 rpmsg-echo 1000)
echo "  host rpmsg-chardev-test: $R"
guest_lines host y4 > /tmp/y4.log
sed 's/^/  /' /tmp/y4.log
rcheck "11: rpmsg-chardev-test (<linux/rpmsg.h> only) passes every check" \
	"rc=0 *rpmsg-chardev-test: * checks passed, 0 failed" "$R"
check "11: 1000 messages of 1..496 bytes written and read through /dev/rpmsgM, every byte checked" \
	grep -q '^\[y4\] ok: 1000 of 1000 messages' /tmp/y4.log
check "11: EBUSY, EMSGSIZE, EAGAIN, poll timeout, short read, destroy (EPIPE, POLLERR), CREATE_DEV/RELEASE_DEV: no check failed, 20 or more passed" \
	sh -c "! grep -q '^\[y4\] FAIL' /tmp/y4.log && [ \$(grep -c '^\[y4\] ok:' /tmp/y4.log) -ge 20 ]"

check "11: fw:2 (tty demo) connected" wait_end fw 2 "Connected xen" 60
R=$(rcmd host y5 120 rpmsgd-start 2)
echo "  host: $R"
rcheck "11: a second xenamp-rpmsgd in host serves device 2 (/dev/rpmsg_ctrl2)" "rc=0 *rpmsg_ctrl2 is up*" "$R"
R=$(rcmd host y6 120 rpmsgd-tty /dev/ttyRPMSG0 5)
echo "  host tty: $R"
guest_lines host y6 | sed 's/^/  /'
rcheck "11: /dev/ttyRPMSG0: a shell reads the 5 console lines fw's demo prints, and a line typed there is answered" \
	"rc=0 *5 console lines read; answer to a typed line: seen" "$R"

R=$(rcmd host y7 60 rpmsgd-stop 2)
echo "  host: $R"
rcheck "11: SIGTERM: the tty daemon exits, /dev/rpmsg_ctrl2 and /dev/ttyRPMSG0 are gone" \
	"rc=0 *rpmsg_ctrl2 removed; ttyRPMSG links left: 0" "$R"
R=$(rcmd host y8 60 rpmsgd-stop 0)
echo "  host: $R"
rcheck "11: SIGTERM: the chardev daemon exits, /dev/rpmsg_ctrl0 is gone" "rc=0 *rpmsg_ctrl0 removed*" "$R"
R=$(rcmd fw y9 60 rpmsgd-ttydemo-stop)
echo "  fw: $R"
kill "$BPID"
check "11: backend stopped" sh -c "n=0; while kill -0 $BPID 2>/dev/null; do sleep 0.2; n=\$((n+1)); [ \$n -lt 50 ] || exit 1; done"
