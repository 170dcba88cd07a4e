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
. /opt/xenamp/scenario-backend.sh

MSGS=${XENAMP_XEN_MSGS:-1000}
LV_URI=xen:///system

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
# Step 5 (scenario-perf.sh): the relay measured beside libxenvchan.
# shellcheck disable=SC2086
for l in "host-fw host:3 fw:3 512 256" "host-fw-big host:4 fw:4 65536 4" \
	"dom0-fw dom0perf:0 fw:5 512 256" "dom0-fw-big dom0perf:1 fw:6 65536 4"; do
	set -- $l
	printf '\n[link perf-%s]\nend-a = %s\nend-b = %s\nbuf-size = %s\nbuf-count = %s\n' "$@"
done >> /tmp/xenamp.conf

# --- 1. backend -------------------------------------------------------------
$BACKEND -f -c /tmp/xenamp.conf > /tmp/backend.log 2>&1 &
BPID=$!
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

# --- 4. dom0 local partition <-> fw device 1 ----------------------------------
check "dom0 local partition dom0fw <-> fw:1: 200 messages echoed" \
	env XENAMP_TRANSPORT=local xenamp-echo-client -q -p dom0fw -d 0 -n 200 -w 30
check "name service: fw:1's rpmsg-echo create seen by the backend" sh -c 'xenampctl endpoints | grep -q "fw:1 .*rpmsg-echo" || { xenampctl endpoints; exit 1; }'
check "dom0fw:0 connected once over the local transport" sh -c "xenampctl stats | awk '\$2 == \"dom0fw:0\" && \$10 >= 1 { ok = 1 } END { exit !ok }'"
. /opt/xenamp/scenario-churn.sh

# --- 5. the relay beside libxenvchan, in steady state ---------------------------
. /opt/xenamp/scenario-perf.sh

# --- 6. xl destroy fw mid-stream -------------------------------------------------
cmd host m1 echo 1000000 -w 3
check "host:0 connected for the stream" wait_end host 0 Connected 60
sleep 3
check "gntdev mappings match the connected xen ends before the destroy" maps_match
check "stream running before the destroy" sh -c "xenampctl stats | awk '\$2 == \"host:0\" && \$4 > $MSGS { ok = 1 } END { exit !ok }'"
check "xl destroy fw mid-stream" xl destroy fw
check "backend released fw:0" wait_end fw 0 Absent 30
check "backend released fw:1" wait_end fw 1 Absent 10
# The backend must not close host:0 for its peer's death. host's client
# stops by itself once told fw's service is gone (its unbind, below), so
# by now host:0 may be Connected still, or offered again after that
# client's own close: every host:0 line the backend logged since fw:0
# went (its xenstore nodes removed by xl destroy, or the domain's death)
# is the frontend's own close, a new offer or a connection.
host_kept() {
	awk '{ l[NR] = $0 } /end fw:0 gone: / { n = NR }
		END { if (n) for (i = n; i <= NR; i++) print l[i] }' /tmp/backend.log > /tmp/after-destroy.log
	[ -s /tmp/after-destroy.log ] || { echo "no 'end fw:0 gone' line in the backend log"; return 1; }
	cat /tmp/after-destroy.log
	! grep 'end host:0 ' /tmp/after-destroy.log | grep -qvE 'gone: frontend Clos(ing|ed)$|appeared|connected \(' || return 1
	case $(end_state host 0) in
	Connected*|InitWait*) ;;
	*) echo "host:0 is '$(end_state host 0)'"; return 1 ;;
	esac
}
check "host:0 kept: the backend did not close it for fw's death" host_kept
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
# xenamp-load (firmware.xml.in, the guest type from the ELF notes: PV for
# the domU vmlinux) must be one that the real libxl driver accepts:
# define it (dry-run XML), then undefine.
pvh_define() {
	xenamp-load --libvirt "$LV_URI" --name pvh-check --dry-run --no-register \
		--memory 32 --out /tmp/pvh-check.xml "$XENAMP_DOMU_KERNEL" || return 1
	lv define /tmp/pvh-check.xml || { cat /tmp/pvh-check.xml; return 1; }
	lv dumpxml --inactive pvh-check | grep "<type.*machine='xenpv'" || { lv dumpxml --inactive pvh-check; lv undefine pvh-check; return 1; }
	lv undefine pvh-check
}
check "xenamp-load's default template (PV, from the kernel's Xen ELF notes) is accepted by the libxl driver" pvh_define
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
KILLS=${XENAMP_XEN_KILLS:-10}
KRATE=${XENAMP_XEN_KILL_RATE:-100}   # messages/s: the stream outlasts the kills
KSEED=${XENAMP_XEN_KILL_SEED:-$(( $$ * 7 + $(now_s) ))}
RANDOM=$KSEED
echo "  kill stream: seed $KSEED (rerun with XENAMP_XEN_KILL_SEED=$KSEED)"
EXITS0=$(server_exits)
# After the first kill: the first backend offered host:1 for fw2's link
# (libvirt metadata of a domain now gone); the new one has no such link.
first_kill_checks() {
	[ "$1" = 1 ] || return 0
	check "restarted backend removed host:1, which no link names now" \
		sh -c "! xenstore-exists /local/domain/0/backend/rpmsg/$HOST/1 && ! xenstore-exists /local/domain/$HOST/device/rpmsg/1"
	check "... and said so in its log" \
		wait_log "removing rpmsg device 1 of domain $HOST left by an earlier backend" 5
}
KILL_HOOK=first_kill_checks
kill_stream k1 "$KMSGS" "$KILLS" "$KRATE" /tmp/xenamp.conf
KILL_HOOK=
check "fw:1 reconnected too" wait_end fw 1 "Connected xen" 30
check "fw's echo servers kept running (no restart: $(server_exits) exits, $EXITS0 before)" \
	test "$(server_exits)" = "$EXITS0"
check "gntdev mappings of the new backend match its connected xen ends" maps_match
check "dom0fw <-> fw:1 after the kills: 100 messages" \
	env XENAMP_TRANSPORT=local xenamp-echo-client -q -p dom0fw -d 0 -n 100 -w 30
# --- 9b. fw rebooted and crashed mid-stream, restarted by Xen ---------------------
. /opt/xenamp/scenario-restart.sh

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

# --- 13. RPMsg: Linux domUs and the bare-metal echo firmware booted by xenamp-load
. /opt/xenamp/scenario-firmware.sh
. /opt/xenamp/scenario-fwoa.sh   # 14. OpenAMP's demo applications as firmware
summary
