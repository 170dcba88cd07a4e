# shellcheck shell=dash
# Step 9b of scenario-xenamp.sh, sourced after step 9 (installed as
# /opt/xenamp/scenario-restart.sh): a partition that reboots or crashes
# mid-stream, restarted by Xen (xl's on_reboot / on_crash "restart").
#
#   reboot: `xl reboot fw` while host streams to fw's echo server
#   crash:  fw created again with on_crash="restart"; its kernel panics
#           (the `crash` command of domu-xenamp.sh, sysrq c) mid-stream
#
# Each time: the backend logs fw's ends gone with the old domain's death,
# host's echo client sees fw's service withdrawn (its unbind callback
# runs), the old domain's xenstore nodes and grant mappings go, xl starts
# fw again under a new domid, its init starts its echo servers, fw:0 and
# fw:1 connect again, and a fresh stream from host is echoed intact.
# Needs: the backend of step 1 running ($BPID), host and fw up and
# connected, and the helpers of scenario-xenamp.sh (maps_match) and
# scenario-backend.sh.

# wait_new_domid NAME OLD [TIMEOUT_S]: until domain NAME exists under an id
# other than OLD (xl destroys the old domain, then builds the new one)
wait_new_domid() {
	local _lim _d
	_lim=$(( $(now_s) + ${3:-60} ))
	while :; do
		_d=$(domid_of "$1")
		[ -n "$_d" ] && [ "$_d" != "$2" ] && { echo "$1 is domain $_d now (was $2)"; return 0; }
		if [ "$(now_s)" -ge "$_lim" ]; then
			echo "$1 is '${_d:-no domain}' after ${3:-60} s, still not a new domain (was $2):"
			xl list
			tail -n 20 "/var/log/xen/xl-$1.log"
			return 1
		fi
		sleep 0.5
	done
}

# xl_log_has NAME REGEX: xl's log of the domain (the process that waits
# for its death and applies on_reboot / on_crash) has a matching line
xl_log_has() {
	grep -E "$2" "/var/log/xen/xl-$1.log" && return 0
	echo "no line matching '$2' in /var/log/xen/xl-$1.log:"
	tail -n 20 "/var/log/xen/xl-$1.log"
	return 1
}

# restart_stream TAG: host starts a long stream to fw:0's echo server and
# the backend relays at least 200 of its messages (the base counts what
# host:0 sent before, through this backend)
restart_stream() {
	local _base
	_base=$(host_msgs_in)
	cmd host "$1" echo 1000000 -w 3
	check "9b $1: host:0 connected for the stream" wait_end host 0 Connected 60
	check "9b $1: stream host -> fw running" wait_relayed $(( ${_base:-0} + 200 )) 60
}

# restarted TAG HOW OLD: the checks after fw (domain OLD) went down
# mid-stream by HOW and Xen started it again
restarted() {
	local _t=$1 _how=$2 _old=$3 _new _r
	check "9b $_t: backend: fw:0's end gone with domain $_old" \
		wait_log "link host-fw: end fw:0 gone: domain $_old \('fw'\) died" 30
	check "9b $_t: backend: fw:1's end gone with domain $_old" \
		wait_log "link dom0-fw: end fw:1 gone: domain $_old \('fw'\) died" 10
	_r=$(result host "$_t" 120)
	echo "  host stream cut by the $_how: $_r"
	case $_r in
	"rc=6 "*"service went away (unbind)"*)
		pass "9b $_t: host's unbind callback ran: fw's rpmsg-echo withdrawn on the $_how" ;;
	*) fail "9b $_t: host's unbind callback after the $_how: $_r" ;;
	esac
	check "9b $_t: host:0 still held by the backend (offered again)" wait_end host 0 InitWait 10
	check "9b $_t: fw's old rpmsg nodes (domain $_old) removed from xenstore" \
		sh -c "! xenstore-exists /local/domain/0/backend/rpmsg/$_old"
	check "9b $_t: no grant of domain $_old left mapped in the backend" maps_match
	check "9b $_t: xl started fw again" wait_new_domid fw "$_old" 90
	check "9b $_t: fw ready again" wait_ready fw 120
	_new=$(domid_of fw)
	check "9b $_t: fw:0 reconnected (domid $_new)" wait_end fw 0 "Connected xen xen domid $_new" 60
	check "9b $_t: fw:1 reconnected" wait_end fw 1 "Connected xen xen domid $_new" 30
	cmd host "$_t-r" echo "$MSGS"
	_r=$(result host "$_t-r" 180)
	echo "  host echo client after the $_how: $_r"
	case $_r in
	"rc=0 "*"received $MSGS, mismatches 0"*)
		pass "9b $_t: traffic resumes: $MSGS messages host <-> fw (domid $_new) intact" ;;
	*) fail "9b $_t: traffic after the $_how: $_r"; tail -n 30 /tmp/backend.log ;;
	esac
	check "9b $_t: dom0fw <-> fw:1 after the $_how: 100 messages" \
		env XENAMP_TRANSPORT=local xenamp-echo-client -q -p dom0fw -d 0 -n 100 -w 30
	check "9b $_t: gntdev mappings match the connected xen ends" maps_match
}

# --- reboot ------------------------------------------------------------------------
T9B=$(uptime_s)
OLD=$(domid_of fw)
restart_stream b1
check "9b b1: xl reboot fw (domain $OLD) mid-stream" xl reboot fw
restarted b1 reboot "$OLD"
# xl logs the reason Xen gave (1: SHUTDOWN_reboot) and what it did.
check "9b b1: xl saw domain $OLD shut down to reboot and restarted it" \
	xl_log_has fw "Domain $OLD has shut down, reason code 1 "
echo "  (reboot part took $(awk -v a="$T9B" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }') s)"

# --- crash ---------------------------------------------------------------------------
T9B=$(uptime_s)
check "9b c1: xl destroy fw" xl destroy fw
check "9b c1: backend released fw:0" wait_end fw 0 Absent 30
check "9b c1: xl create fw with on_crash=\"restart\"" xenamp_create fw 'on_crash="restart"'
check "9b c1: fw's configuration says on_crash restart (xl list -l)" \
	sh -c "xl list -l fw | grep -E '\"on_crash\": \"restart\"'"
check "9b c1: fw ready" wait_ready fw 120
OLD=$(domid_of fw)
check "9b c1: fw:0 connected (domid $OLD)" wait_end fw 0 "Connected xen xen domid $OLD" 60
check "9b c1: fw:1 connected" wait_end fw 1 "Connected xen xen domid $OLD" 30
restart_stream c1
cmd fw c1-panic crash
check "9b c1: fw runs the crash command (its console)" \
	wait_guest_log fw "^xenamp-domu: panicking the kernel \(sysrq c\)" 30
restarted c1 crash "$OLD"
# 3: SHUTDOWN_crash, so on_crash (restart) is what brought fw back. The
# panic's own console lines are shown, not asserted: the domain may be
# gone before xenconsoled has read its last output.
guest_log fw | tr -d '\r' | grep -E "sysrq|Kernel panic" | sed 's/^/  [fw] /'
check "9b c1: xl saw domain $OLD crash and restarted it (on_crash)" \
	xl_log_has fw "Domain $OLD has shut down, reason code 3 "
echo "  (crash part took $(awk -v a="$T9B" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }') s)"
