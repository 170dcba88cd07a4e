#!/bin/sh
# shellcheck shell=dash
# The xenamp scenario of tests/xen (the default of run.sh): the Xen
# transport on a real Xen 4.17. Runs in dom0 as /opt/xenamp/scenario.sh.
#
#   dom0:  xenamp-backend (transports local + xen) with two links:
#            host-fw:   domU host:0  <-> domU fw:0
#            dom0-fw:   local dom0fw:0 <-> domU fw:1
#   fw:    echo servers on devices 0 and 1 (domu-xenamp.sh)
#   host:  echo clients and the libxenvchan baseline, on command
#   dom0:  libvirtd with the libxl driver (xen:///system); the backend follows
#          it (libvirt-uri). fw2, booted by xenamp-load through libvirt
#          while fw is down, brings link host-fw2 (host:1 <-> fw2:0) in
#          its domain XML metadata; fw2 runs an echo server on device 0.
#   later: xl destroy/create fw mid-stream; the backend SIGKILLed and
#          restarted mid-stream (the partitions reconnect by themselves)
#
# Steps print PASS:/FAIL:, the run ends with "N passed, N failed".
. /opt/xenamp/scenario-lib.sh

X=/opt/xenamp
BACKEND=$X/sbin/xenamp-backend
export XENAMP_SOCKET=/run/xenamp-backend.sock
export PATH=$X/bin:$X/sbin:$PATH
MSGS=${XENAMP_XEN_MSGS:-1000}
LV_URI=xen:///system

ctl() { xenampctl "$@" 2>&1; }

# end_state PARTITION DEVNO: "STATE TRANSPORT PEER..." from xenampctl status
end_state() {
	ctl status | awk -v p="$1" -v d="$2" '$3 == p && $4 == d { $1 = $2 = $3 = $4 = ""; sub(/^ +/, ""); print; exit }'
}

# wait_end PARTITION DEVNO STATE [TIMEOUT_S]
wait_end() {
	local _lim _s
	_lim=$(( $(now_s) + ${4:-60} ))
	while :; do
		_s=$(end_state "$1" "$2")
		case $_s in "$3"*) echo "$1:$2 $_s"; return 0 ;; esac
		if [ "$(now_s)" -ge "$_lim" ]; then
			echo "$1:$2 is '$_s', not $3, after ${4:-60} s"
			ctl status
			tail -n 20 /tmp/backend.log
			domain_exists "$1" && { echo "console of $1:"; guest_log "$1" | tail -n 15; }
			return 1
		fi
		sleep 0.5
	done
}

# cmd DOMAIN ID VERB ARGS...: have the guest run a command (domu-xenamp.sh)
cmd() {
	local _d
	_d=$(domid_of "$1") || return 1
	shift
	xenstore-rm "/local/domain/$_d/data/result-$1" 2>/dev/null
	xenstore-write "/local/domain/$_d/data/cmd" "$*"
}

# result DOMAIN ID [TIMEOUT_S]: wait for and print the command's result line
result() {
	local _d
	_d=$(domid_of "$1") || { echo "no domain $1"; return 1; }
	wait_xs "/local/domain/$_d/data/result-$2" "${3:-120}"
}

# Bytes of /dev/xen/gntdev mappings in the backend's address space (adjacent
# mappings may share one line of maps, so sizes are summed, not lines counted).
gnt_bytes() {
	local _t=0 _s _e
	grep /dev/xen/gntdev "/proc/$BPID/maps" | cut -d' ' -f1 > /tmp/gnt.maps
	while IFS=- read -r _s _e; do _t=$((_t + 0x$_e - 0x$_s)); done < /tmp/gnt.maps
	echo "$_t"
}
# Bytes of the regions the backend holds from xen ends (xenampctl status).
xen_region_bytes() {
	ctl status --json | awk '/"transport":/ { tr = ($0 ~ /"xen"/) }
		/"region_size":/ { v = $0; gsub(/[^0-9]/, "", v); if (tr) t += v }
		END { print t + 0 }'
}
# Every gntdev mapping belongs to a connected xen end, none is left over.
# The two figures are read one after the other while ends may be in the
# middle of connecting (mapped, not yet listed), so they must agree within
# 10 s; a leftover mapping never does.
maps_match() {
	local _g _r _i=0
	while :; do
		_g=$(gnt_bytes); _r=$(xen_region_bytes)
		[ "$_g" = "$_r" ] && break
		_i=$((_i + 1))
		[ $_i -lt 20 ] || break
		sleep 0.5
	done
	echo "gntdev mappings: $_g bytes; regions of connected xen ends: $_r bytes"
	[ "$_g" = "$_r" ]
}

# wait_log REGEX [TIMEOUT_S]: wait for a line of the backend log
wait_log() {
	local _lim
	_lim=$(( $(now_s) + ${2:-20} ))
	until grep -qE "$1" /tmp/backend.log; do
		if [ "$(now_s)" -ge "$_lim" ]; then
			echo "no line matching '$1' in the backend log after ${2:-20} s:"
			tail -n 20 /tmp/backend.log
			return 1
		fi
		sleep 0.5
	done
	grep -E "$1" /tmp/backend.log | tail -n 1
}

lv() { virsh -q -c "$LV_URI" "$@"; }

# --- 0. libvirtd with the libxl driver ------------------------------------------
# Debian 12 has no modular virtxend: libvirtd loads the one connection
# driver in the image, libxl. The client picks libvirtd's socket.
libvirtd -f /etc/libvirt/libvirtd.conf > /tmp/libvirtd.log 2>&1 &
LVPID=$!
libvirt_up() {
	local i=0
	until [ -S /run/libvirt/libvirt-sock ]; do
		kill -0 "$LVPID" 2>/dev/null || { echo "libvirtd exited:"; cat /tmp/libvirtd.log; return 1; }
		i=$((i + 1))
		[ $i -lt 120 ] || { echo "no /run/libvirt/libvirt-sock after 60 s:"; cat /tmp/libvirtd.log; return 1; }
		sleep 0.5
	done
	virsh -c "$LV_URI" version > /tmp/virsh-version.out 2>&1
	cat /tmp/virsh-version.out
	grep -q 'Running hypervisor: Xen' /tmp/virsh-version.out || { cat /tmp/libvirtd.log; return 1; }
}
check "libvirtd's libxl driver answers on $LV_URI (virsh version: hypervisor Xen)" libvirt_up
sed -n 's/^/  /; /hypervisor/p' /tmp/virsh-version.out
echo "  (libvirtd up at $(uptime_s)s dom0 uptime)"

cat > /tmp/xenamp.conf <<EOF
[backend]
socket = $XENAMP_SOCKET
max-pages = 256
log-level = info
libvirt-uri = $LV_URI

[link host-fw]
end-a = host:0
end-b = fw:0
buf-size = 512
buf-count = 256

[link dom0-fw]
end-a = dom0fw:0
end-b = fw:1
buf-size = 512
buf-count = 64
EOF

# --- 1. backend -------------------------------------------------------------
$BACKEND -f -c /tmp/xenamp.conf > /tmp/backend.log 2>&1 &
BPID=$!
backend_up() {
	local i=0
	while [ $i -lt 40 ]; do
		ctl status --json | grep -q '"xen"' && return 0
		sleep 0.25
		i=$((i + 1))
	done
	echo "xenampctl status does not list the xen transport:"
	ctl status --json
	cat /tmp/backend.log
	return 1
}
check "backend runs in dom0 with transports local and xen" backend_up
check "backend follows the domains of $LV_URI (no link in any metadata yet)" \
	wait_log "libvirt: following domains on $LV_URI; 0 links from their metadata" 10

# --- 2. domains ---------------------------------------------------------------
for d in host fw; do
	check "xl create $d" xenamp_create "$d"
done
for d in host fw; do
	check "$d ready" wait_ready "$d" 90
done
echo "  (both domUs ready at $(uptime_s)s dom0 uptime)"
FW=$(domid_of fw)
HOST=$(domid_of host)
check "fw:0 connected over xen (domid $FW)" wait_end fw 0 "Connected xen xen domid $FW" 60
check "fw:1 connected over xen" wait_end fw 1 "Connected xen" 30
check "xenstore: backend dir of fw:0 is Connected" sh -c "[ \"\$(xenstore-read /local/domain/0/backend/rpmsg/$FW/0/state)\" = 4 ]"
check "xenstore: fw's frontend dir lists its grant refs" sh -c "xenstore-read /local/domain/$FW/device/rpmsg/0/num-pages && xenstore-read /local/domain/$FW/device/rpmsg/0/ring-ref0 && xenstore-read /local/domain/$FW/device/rpmsg/0/event-channel"

# --- 3. host <-> fw: MSGS echoes of mixed sizes, every byte checked ----------
cmd host e1 echo "$MSGS"
R=$(result host e1 180)
echo "  host echo client: $R"
case $R in
"rc=0 "*"received $MSGS, mismatches 0"*) pass "host <-> fw over the relay: $MSGS messages of mixed sizes echoed intact" ;;
*) fail "host <-> fw over the relay: $R"; tail -n 30 /tmp/backend.log ;;
esac
# The backend records a service when it relays the announcement to the
# peer; the client above found "rpmsg-echo" by name through it.
check "name service: fw:0's rpmsg-echo create seen by the backend" sh -c 'xenampctl endpoints | grep -q "fw:0 .*rpmsg-echo" || { xenampctl endpoints; exit 1; }'
check "host:0 offered again after the client closed (transport xen, domid $HOST)" wait_end host 0 "InitWait xen xen domid $HOST" 10
RELAY_SECS=$(echo "$R" | sed -n 's/.*secs=\([0-9.]*\).*bytes \([0-9]*\).*/\1/p')
RELAY_BYTES=$(echo "$R" | sed -n 's/.*secs=\([0-9.]*\).*bytes \([0-9]*\).*/\2/p')

# --- 4. dom0 local partition <-> fw device 1 ----------------------------------
check "dom0 local partition dom0fw <-> fw:1: 200 messages echoed" \
	env XENAMP_TRANSPORT=local xenamp-echo-client -q -p dom0fw -d 0 -n 200 -w 30
check "name service: fw:1's rpmsg-echo create seen by the backend" sh -c 'xenampctl endpoints | grep -q "fw:1 .*rpmsg-echo" || { xenampctl endpoints; exit 1; }'
check "dom0fw:0 connected once over the local transport" sh -c "xenampctl stats | awk '\$2 == \"dom0fw:0\" && \$10 >= 1 { ok = 1 } END { exit !ok }'"
. /opt/xenamp/scenario-churn.sh

# --- 5. throughput: the relay against a plain libxenvchan stream ---------------
cmd fw v1 vchan-server "$HOST" "/local/domain/$FW/data/vchan"
cmd host v2 vchan "$FW" "/local/domain/$FW/data/vchan" "$MSGS"
V=$(result host v2 120)
echo "  vchan baseline: $V"
VCHAN_SECS=$(echo "$V" | sed -n 's/.*secs=\([0-9.]*\).*/\1/p')
VCHAN_RATE=$(echo "$V" | sed -n 's/.*(\([0-9]*\) KiB\/s).*/\1/p')
case $V in
"rc=0 "*) pass "libxenvchan baseline between host and fw ran" ;;
*) fail "libxenvchan baseline between host and fw: $V" ;;
esac
if [ -n "$RELAY_SECS" ] && [ -n "$RELAY_BYTES" ] && [ -n "$VCHAN_RATE" ]; then
	awk -v b="$RELAY_BYTES" -v s="$RELAY_SECS" -v v="$VCHAN_RATE" 'BEGIN {
		r = (s > 0) ? b / 1024 / s : 0;
		printf "  throughput (TCG, not asserted): relay %.0f KiB/s (%d bytes echoed in %s s, client run incl. start-up), libxenvchan %d KiB/s, relay/vchan ratio %.3f\n", r, b, s, v, (v > 0) ? r / v : 0 }'
fi

# --- 6. xl destroy fw mid-stream -------------------------------------------------
cmd host m1 echo 1000000 -w 3
check "host:0 connected for the stream" wait_end host 0 Connected 60
sleep 3
check "gntdev mappings match the connected xen ends before the destroy" maps_match
check "stream running before the destroy" sh -c "xenampctl stats | awk '\$2 == \"host:0\" && \$4 > $MSGS { ok = 1 } END { exit !ok }'"
check "xl destroy fw mid-stream" xl destroy fw
check "backend released fw:0" wait_end fw 0 Absent 30
check "backend released fw:1" wait_end fw 1 Absent 10
check "host:0 still connected" wait_end host 0 Connected 5
check "no grant of fw left mapped in the backend (/proc/$BPID/maps)" maps_match
check "fw's rpmsg nodes removed from xenstore" \
	sh -c "! xenstore-exists /local/domain/0/backend/rpmsg/$FW"
check "fw is gone" sh -c '! xl domid fw > /dev/null 2>&1'
R=$(result host m1 120)
echo "  interrupted host stream: $R"
# The backend withdrew fw's services: host's echo client ran its unbind
# callback and stopped (exit status 6, "service went away").
case $R in
"rc=6 "*"service went away (unbind)"*) pass "host's unbind callback ran when fw was destroyed" ;;
*) fail "host's unbind callback ran when fw was destroyed: $R" ;;
esac

# --- 7. libvirt: xenamp-load boots fw2; the link comes from its metadata --------
T7=$(uptime_s)
# fw is down, so its memory is free for fw2. The default template of
# xenamp-load (firmware.xml.in, a PVH firmware domain) must be one that
# the real libxl driver accepts: define it (dry-run XML), then undefine.
pvh_define() {
	xenamp-load --libvirt "$LV_URI" --name pvh-check --dry-run --no-register \
		--memory 32 --out /tmp/pvh-check.xml "$XENAMP_DOMU_KERNEL" || return 1
	lv define /tmp/pvh-check.xml || { cat /tmp/pvh-check.xml; return 1; }
	lv dumpxml --inactive pvh-check | grep "<type.*xenpvh" || { lv dumpxml --inactive pvh-check; lv undefine pvh-check; return 1; }
	lv undefine pvh-check
}
check "xenamp-load's default template (PVH firmware) is accepted by the libxl driver" pvh_define
# fw2 is the domU kernel (it carries a .resource_table, build-images.sh) with
# the test's PV template. --no-register: the backend is not told about the
# link; it must take host-fw2 from the domain's metadata on libvirt's
# STARTED event.
load_fw2() {
	xenamp-load --libvirt "$LV_URI" --name fw2 --template /etc/xenamp/domu-libvirt.xml.in \
		--memory 128 --extra "console=hvc0 rdinit=/init quiet $XENAMP_GUEST_FAST_OPTS" \
		--link host-fw2 --peer host:1 --devno 0 --no-register "$XENAMP_DOMU_KERNEL" \
		> /tmp/fw2-live.xml
}
check "xenamp-load --libvirt $LV_URI --name fw2: defined and started" load_fw2
check "libvirt keeps the xenamp link in fw2's live XML" \
	grep -q 'link.*name="host-fw2".*peer="host:1".*devno="0".*buf-size="512".*buf-count="256"' /tmp/fw2-live.xml
check "backend added link host-fw2 from fw2's libvirt metadata" \
	wait_log "libvirt: domain fw2: link host-fw2 added" 20
# host was running before the link existed: the backend offers it the new
# device at once (xen_be.c; an @introduceDomain scan alone never would).
check "backend offers running host its device 1 for the new link (domid $HOST)" \
	wait_end host 1 "InitWait xen xen domid $HOST" 20
check "fw2 ready" wait_ready fw2 90
FW2=$(domid_of fw2)
check "fw2:0 connected over xen (domid $FW2)" wait_end fw2 0 "Connected xen xen domid $FW2" 60
cmd host l1 echo "$MSGS" -d 1
R=$(result host l1 180)
echo "  host echo client on device 1 (link host-fw2): $R"
case $R in
"rc=0 "*"received $MSGS, mismatches 0"*) pass "host:1 <-> fw2:0 (libvirt domain, link from metadata): $MSGS messages intact" ;;
*) fail "host:1 <-> fw2:0: $R"; tail -n 30 /tmp/backend.log ;;
esac
check "virsh destroy fw2" lv destroy fw2
check "backend followed libvirt's STOPPED event of fw2" \
	wait_log "libvirt: domain fw2 stopped: link host-fw2: end fw2:0 absent" 20
check "backend released fw2:0" wait_end fw2 0 Absent 30
check "fw2's rpmsg nodes removed from xenstore" \
	sh -c "! xenstore-exists /local/domain/0/backend/rpmsg/$FW2"
check "fw2 is shut off in libvirt and gone from Xen" \
	sh -c "[ \"\$(virsh -q -c '$LV_URI' domstate fw2)\" = 'shut off' ] && ! xl domid fw2 > /dev/null 2>&1"
check "virsh undefine fw2" lv undefine fw2
echo "  (the libvirt steps took $(awk -v a="$T7" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }') s; libvirtd $(awk '/^VmRSS/ { print $2, $3 }' "/proc/$LVPID/status"); dom0 $(awk '/^MemAvailable/ { print $2, $3 }' /proc/meminfo) available, $(awk '/^Shmem:/ { print $2, $3 }' /proc/meminfo) in tmpfs, mostly the rootfs)"

# --- 8. xl create fw again: reconnect, traffic resumes ----------------------------
check "xl create fw again" xenamp_create fw
check "fw ready again" wait_ready fw 90
FW=$(domid_of fw)
check "fw:0 reconnected (domid $FW)" wait_end fw 0 "Connected xen xen domid $FW" 60
check "fw:1 reconnected" wait_end fw 1 "Connected xen" 30
cmd host r1 echo "$MSGS"
R=$(result host r1 180)
echo "  host echo client after the restart: $R"
case $R in
"rc=0 "*"received $MSGS, mismatches 0"*) pass "traffic resumes: $MSGS messages host <-> new fw intact" ;;
*) fail "traffic resumes: $R"; tail -n 30 /tmp/backend.log ;;
esac
check "dom0fw <-> new fw:1: 100 messages" \
	env XENAMP_TRANSPORT=local xenamp-echo-client -q -p dom0fw -d 0 -n 100 -w 30

# --- 9. backend SIGKILLed and restarted mid-stream ---------------------------------
# The partitions keep their regions (the pages stay granted to dom0) and
# their libraries reconnect when the new backend offers the devices again;
# it resumes every ring at its used index, and the sequence numbers in the
# RPMsg headers drop what it relays twice. The echo client checks reply i
# against message i, so a message lost, duplicated or reordered across a
# kill is a mismatch. The echo servers in fw must not have restarted: the
# same processes reconnected.
KMSGS=${XENAMP_XEN_KILL_MSGS:-6000}
KILLS=${XENAMP_XEN_KILLS:-8}
KRATE=${XENAMP_XEN_KILL_RATE:-100}   # messages/s: the stream outlasts the kills
host_msgs_in() { xenampctl stats 2>/dev/null | awk '$2 == "host:0" { print $4; exit }'; }
# wait_relayed N TIMEOUT_S: until the running backend took N messages from host
wait_relayed() {
	local _lim _n
	_lim=$(( $(now_s) + $2 ))
	while :; do
		_n=$(host_msgs_in)
		[ "${_n:-0}" -ge "$1" ] && { echo "backend took ${_n} messages from host:0"; return 0; }
		[ "$(now_s)" -lt "$_lim" ] || { echo "backend took only ${_n:-0} messages from host:0 in $2 s"; return 1; }
		sleep 0.2
	done
}
server_exits() { guest_log fw | grep -c "echo server on device [01] exited"; }
# connects P:D: how many times the backends so far logged end P:D connected
connects() { grep -c "end $1 connected" /tmp/backend.log; }
# wait_connects P:D N TIMEOUT_S: until that count reaches N. The log, not
# the state, shows a reconnection: the stream may be over by the next look.
wait_connects() {
	local _lim
	_lim=$(( $(now_s) + $3 ))
	while [ "$(connects "$1")" -lt "$2" ]; do
		[ "$(now_s)" -lt "$_lim" ] || { echo "$1 connected $(connects "$1") times, not $2, after $3 s"; tail -n 20 /tmp/backend.log; return 1; }
		sleep 0.2
	done
	echo "$1 connected $(connects "$1") times"
}
EXITS0=$(server_exits)
# The first backend's count includes the earlier steps: the stream's
# messages are counted from here.
base=$(host_msgs_in)
TAKEN=$((0 - ${base:-0}))
cmd host k1 echo "$KMSGS" -w 60 --rate "$KRATE"
check "host:0 connected for the kill stream" wait_end host 0 Connected 60
# Kill k falls at a random point of the k-th of KILLS+2 equal slices of the
# stream, counted over the backends so far (each counts from its start), so
# the stream is still running at every kill; the next backend starts after
# a random 0..1.5 s, so that the partitions see it at different moments of
# their own reconnect loops. Both choices are printed for a rerun.
slice=$((KMSGS / (KILLS + 2)))
k=1
while [ $k -le "$KILLS" ]; do
	at=$((k * slice + RANDOM % slice - TAKEN))
	[ $at -ge 50 ] || at=50
	pause=$((RANDOM % 4))
	check "kill $k: this backend took $at more messages from host:0" wait_relayed $at 60
	last=$(host_msgs_in)
	hc=$(connects host:0) fc=$(connects fw:0)
	kill -KILL "$BPID"
	wait "$BPID" 2>/dev/null
	TAKEN=$((TAKEN + ${last:-0}))
	echo "  kill $k at $(uptime_s)s: $TAKEN messages of the stream taken from host:0 so far; next backend in $pause/2 s"
	[ $pause -eq 0 ] || sleep "$((pause / 2)).$((pause % 2 * 5))"
	$BACKEND -f -c /tmp/xenamp.conf >> /tmp/backend.log 2>&1 &
	BPID=$!
	check "kill $k: backend SIGKILLed and started again" backend_up
	check "kill $k: host:0 reconnected" wait_connects host:0 $((hc + 1)) 60
	check "kill $k: fw:0 reconnected" wait_connects fw:0 $((fc + 1)) 60
	if [ $k = 1 ]; then
		# The first backend offered host:1 for fw2's link (libvirt
		# metadata of a domain now gone); the new one has no such link.
		check "restarted backend removed host:1, which no link names now" \
			sh -c "! xenstore-exists /local/domain/0/backend/rpmsg/$HOST/1 && ! xenstore-exists /local/domain/$HOST/device/rpmsg/1"
		check "... and said so in its log" \
			wait_log "removing rpmsg device 1 of domain $HOST left by an earlier backend" 5
	fi
	k=$((k + 1))
done
R=$(result host k1 240)
echo "  host echo client across $KILLS backend kills: $R"
case $R in
"rc=0 "*"sent $KMSGS, received $KMSGS, mismatches 0"*)
	pass "$KMSGS messages host <-> fw across $KILLS backend kills: each reply once, in order, intact" ;;
*) fail "messages across backend kills: $R"; tail -n 30 /tmp/backend.log ;;
esac
check "fw:1 reconnected too" wait_end fw 1 "Connected xen" 30
check "fw's echo servers kept running (no restart: $(server_exits) exits, $EXITS0 before)" \
	test "$(server_exits)" = "$EXITS0"
check "gntdev mappings of the new backend match its connected xen ends" maps_match
check "dom0fw <-> fw:1 after the kills: 100 messages" \
	env XENAMP_TRANSPORT=local xenamp-echo-client -q -p dom0fw -d 0 -n 100 -w 30

# --- 10. backend stop leaves nothing behind ----------------------------------------
kill "$BPID"
check "backend stopped" sh -c "n=0; while kill -0 $BPID 2>/dev/null; do sleep 0.2; n=\$((n+1)); [ \$n -lt 50 ] || exit 1; done"
check "no rpmsg backend nodes left in xenstore" sh -c '! xenstore-exists /local/domain/0/backend/rpmsg || [ -z "$(xenstore-list /local/domain/0/backend/rpmsg)" ]'
# --- 11. Linux's rpmsg interfaces in a domU (xenamp-rpmsgd) -----------------------
. /opt/xenamp/scenario-rpmsgd.sh

echo "  --- backend log ---"
sed 's/^/  | /' /tmp/backend.log | tail -n 40
if [ "$XENAMP_FAILED" != 0 ]; then
	echo "  --- libvirtd log ---"
	sed 's/^/  | /' /tmp/libvirtd.log | tail -n 40
fi
kill "$LVPID" 2>/dev/null
xl destroy fw 2>/dev/null
xl destroy host 2>/dev/null

# --- 12. bare-metal firmware: the hello example as its own PV domain -----------
# No Linux inside: the runtime of src/firmware boots from its Xen ELF notes,
# prints on the PV console (xenconsoled's guest log), reads xenstore and
# shuts itself down. on_poweroff/on_crash "preserve" keep the domain so
# that xl shows why it shut down ("---s--" poweroff, "---sc-" crash).
FW_ELF=$X/lib/xenamp/firmware/hello.elf
echo "  Xen's capabilities (PV chosen for firmware, docs/firmware.md):"
xl info | grep -E '^(xen_caps|virt_caps|xen_version)' | sed 's/^/    /'
echo "  firmware image: $(wc -c < "$FW_ELF") bytes ($FW_ELF)"
# shutdown_flags NAME: xl list's shutdown and reason letters, e.g. "s-"
shutdown_flags() { xl list "$1" 2>/dev/null | awk 'NR == 2 { print substr($5, 4, 2) }'; }
# wait_shutdown NAME FLAGS [TIMEOUT_S]
wait_shutdown() {
	local _lim _f
	_lim=$(( $(now_s) + ${3:-30} ))
	while :; do
		_f=$(shutdown_flags "$1")
		[ "$_f" = "$2" ] && { xl list "$1" | tail -n 1; return 0; }
		if [ "$(now_s)" -ge "$_lim" ]; then
			echo "$1: shutdown flags '$_f', not '$2', after ${3:-30} s"
			xl list "$1"
			guest_log "$1" | tail -n 20
			return 1
		fi
		sleep 0.5
	done
}
T11=$(uptime_s)
check "xl create hello-fw (xen-configs/hello-fw.cfg: type pv, kernel = the firmware ELF)" \
	xl create "$XENAMP_XL_CONFIG_DIR/hello-fw.cfg" "kernel=\"$FW_ELF\"" 'on_poweroff="preserve"'
HF=$(domid_of hello-fw)
check "hello-fw booted: the runtime's banner on its PV console" \
	wait_guest_log hello-fw "^xenamp-fw: booted xen-3\.0-x86_64, [0-9]+ pages" 30
check "hello-fw read its domid from xenstore ($HF)" wait_guest_log hello-fw "^hello: xenstore domid = $HF\$" 20
check "hello-fw read its name from xenstore" wait_guest_log hello-fw "^hello: xenstore name = hello-fw\$" 20
check "hello-fw slept 100 ms by Xen's clock (SCHEDOP_poll timeout)" \
	wait_guest_log hello-fw "^hello: slept [1-9][0-9]{2,} ms by Xen's clock\$" 20
check "hello-fw returned from fw_main: power off" wait_guest_log hello-fw "^xenamp-fw: fw_main returned 0: power off\$" 20
check "hello-fw shut down with reason poweroff (xl list: s, no c)" wait_shutdown hello-fw "s-" 30
echo "  (hello-fw: created, ran and powered off in $(awk -v a="$T11" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }') s of dom0 uptime)"
guest_log hello-fw | sed 's/^/  [hello-fw] /'
check "xl destroy hello-fw" xl destroy hello-fw
# The crash path: fw_main returns non-zero -> SCHEDOP_shutdown(crash).
check "xl create hello-crash (the same firmware, extra=\"crash\")" \
	xl create "$XENAMP_XL_CONFIG_DIR/hello-fw.cfg" "kernel=\"$FW_ELF\"" 'name="hello-crash"' \
	'extra="crash"' 'on_crash="preserve"'
check "hello-crash says why on its console" wait_guest_log hello-crash "^xenamp-fw: fw_main returned 1: crash\$" 30
check "hello-crash shut down with reason crash (xl list: sc), so on_crash applies" \
	wait_shutdown hello-crash "sc" 30
guest_log hello-crash | sed 's/^/  [hello-crash] /'
check "xl destroy hello-crash" xl destroy hello-crash

# --- 13. RPMsg: a Linux domU and the bare-metal echo firmware ------------------
# echo-fw speaks the same xenbus handshake as libxenamp (ring-refs,
# num-pages, event-channel, state 3 in one transaction) and serves
# "rpmsg-echo" with the runtime's RPMsg device; the backend cannot tell it
# from a Linux partition.
cat > /tmp/xenamp-fw.conf <<EOF
[backend]
socket = $XENAMP_SOCKET
max-pages = 256
log-level = info

[link host-efw]
end-a = host:0
end-b = echo-fw:0
buf-size = 512
buf-count = 256
EOF
$BACKEND -f -c /tmp/xenamp-fw.conf >> /tmp/backend.log 2>&1 &
BPID=$!
check "backend started again with link host-efw (host:0 <-> echo-fw:0)" backend_up
T13=$(uptime_s)
check "xl create echo-fw (xen-configs/echo-fw.cfg)" \
	xl create "$XENAMP_XL_CONFIG_DIR/echo-fw.cfg" "kernel=\"$X/lib/xenamp/firmware/echo.elf\""
EF=$(domid_of echo-fw)
check "echo-fw:0 connected over xen (domid $EF)" wait_end echo-fw 0 "Connected xen xen domid $EF" 60
echo "  (echo-fw connected $(awk -v a="$T13" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }') s after xl create)"
check "echo-fw's console: device 0 connected (its own line)" \
	wait_guest_log echo-fw "^xenamp-fw: rpmsg: device 0 connected to domain 0 \\(71 pages, 256 buffers of 512 bytes each way" 10
check "echo-fw's console: rpmsg-echo announced" \
	wait_guest_log echo-fw "^echo: rpmsg-echo announced at address 1024" 20
check "xenstore: echo-fw's frontend dir lists 71 grant refs and its event channel" \
	sh -c "[ \"\$(xenstore-read /local/domain/$EF/device/rpmsg/0/num-pages)\" = 71 ] && xenstore-read /local/domain/$EF/device/rpmsg/0/ring-ref70 && xenstore-read /local/domain/$EF/device/rpmsg/0/event-channel"
check "xl create host (again)" xenamp_create host
check "host ready" wait_ready host 90
HOST=$(domid_of host)
cmd host f1 echo "$MSGS"
R=$(result host f1 180)
echo "  host echo client <-> echo-fw: $R"
case $R in
"rc=0 "*"received $MSGS, mismatches 0"*) pass "host <-> echo-fw (bare-metal firmware): $MSGS messages of mixed sizes echoed intact" ;;
*) fail "host <-> echo-fw: $R"; tail -n 30 /tmp/backend.log; guest_log echo-fw | tail -n 20 ;;
esac
check "name service: echo-fw:0's rpmsg-echo create seen by the backend" \
	sh -c 'xenampctl endpoints | grep -q "echo-fw:0 .*rpmsg-echo" || { xenampctl endpoints; exit 1; }'
check "echo-fw counted them on its console" wait_guest_log echo-fw "^echo: $MSGS messages echoed\$" 20
echo "  (step 13 took $(awk -v a="$T13" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }') s)"
check "xl destroy echo-fw" xl destroy echo-fw
check "backend released echo-fw:0" wait_end echo-fw 0 Absent 30
check "echo-fw's rpmsg nodes removed from xenstore" \
	sh -c "! xenstore-exists /local/domain/0/backend/rpmsg/$EF"
check "gntdev mappings of the backend match its connected xen ends" maps_match
guest_log echo-fw | sed 's/^/  [echo-fw] /'
kill "$BPID"
wait "$BPID" 2>/dev/null
xl destroy host 2>/dev/null
summary
