# shellcheck shell=dash
# Step 13 of scenario-xenamp.sh, sourced at its end (after step 12; no
# backend running, no domU left), installed as
# /opt/xenamp/scenario-firmware.sh: the bare-metal echo firmware of
# src/firmware booted by xenamp-load, beside the Linux domUs.
#
#   backend:  started again with link host-fw (host:1 <-> fw:0, Linux
#             <-> Linux) and dom0-fw (dom0lnx:0 <-> fw:1, keeps fw's
#             second echo server connected and quiet); the firmware's link
#             comes from xenamp-load (control request link-add)
#   echo-fw:  xenamp-load --xl echo-fw --link host-efw --peer host:0
#             echo.elf: PV from its Xen ELF notes, link host:0 <-> echo-fw:0
#   host:     echo clients on device 0 (the firmware) and 1 (Linux fw)
#   dom0:     a local partition dom0fw, the firmware's peer once host's
#             link is removed (the echo firmware serves device 0 only, so
#             one peer at a time)
#
# Printed, not asserted: the image size, the time from xenamp-load (xl
# create) to the first echoed message, round trips host <-> firmware
# beside host <-> Linux fw in the same boot.
# Last, the backend SIGKILLed and restarted (several times, at random
# points) during a paced stream host <-> firmware: the firmware keeps its
# region and reconnects to each new backend (same ring-refs, new port,
# docs/protocol.md "Backend restart"); 0 lost, 0 duplicated, no reboot.
# Uses the helpers of scenario-xenamp.sh (ctl, wait_end, cmd, result,
# maps_match, wait_log, backend_up) and scenario-lib.sh.

EFW_ELF=$X/lib/xenamp/firmware/echo.elf
cat > /tmp/xenamp-fw.conf <<EOF
[backend]
socket = $XENAMP_SOCKET
max-pages = 256
log-level = info

[link host-fw]
end-a = host:1
end-b = fw:0
buf-size = 512
buf-count = 256

[link dom0-fw]
end-a = dom0lnx:0
end-b = fw:1
buf-size = 512
buf-count = 64
EOF
$BACKEND -f -c /tmp/xenamp-fw.conf >> /tmp/backend.log 2>&1 &
BPID=$!
check "backend started again (host-fw: host:1 <-> fw:0; the firmware's link comes from xenamp-load)" backend_up
# The Linux domUs build while the firmware boots.
xenamp_create_bg host
xenamp_create_bg fw

echo "  firmware image: $(wc -c < "$EFW_ELF") bytes on disk ($EFW_ELF, debug sections stripped)"
xenamp-load --inspect "$EFW_ELF" > /tmp/efw-inspect.txt 2>&1
sed -n '/^Xen ELF notes/,/^Resource table/p' /tmp/efw-inspect.txt | sed '$d; s/^/    /'
# program header lines: "  #  LOAD  offset vaddr paddr filesz memsz flags"
_f=0 _m=0
while read -r _i _t _o _v _p _fs _ms _fl; do
	[ "$_t" = LOAD ] || continue
	_f=$((_f + $_fs)) _m=$((_m + $_ms))
done < /tmp/efw-inspect.txt
echo "  firmware PT_LOAD segments: $_f bytes from the file, $_m bytes in memory (text, data and bss)"
check "xenamp-load --inspect: echo.elf is a PV image (its Xen ELF notes)" \
	grep -qx 'Xen ELF notes: [0-9]* (boots as a PV guest)' /tmp/efw-inspect.txt

# load_efw LINK PEER: xenamp-load --xl echo-fw (config in /tmp, 8 MiB like
# xen-configs/echo-fw.cfg), its stderr in /tmp/load-efw.err
load_efw() {
	local _rc
	xenamp-load --xl echo-fw --out /tmp/echo-fw.cfg --force --memory 8 \
		--link "$1" --peer "$2" "$EFW_ELF" 2> /tmp/load-efw.err
	_rc=$?
	cat /tmp/load-efw.err
	return $_rc
}
T13=$(uptime_s)
check "xenamp-load --xl echo-fw echo.elf: config written, link host-efw registered, xl create run" \
	load_efw host-efw host:0
check "xenamp-load took the guest type from the ELF notes and xl info: pv" \
	grep -qF "xenamp-load: echo-fw: guest type pv (image: pv; host: pv, from xl info: virt_caps)" /tmp/load-efw.err
check "the generated config boots it as PV" grep -qx 'type = "pv"' /tmp/echo-fw.cfg
check "xenamp-load registered link host-efw (host:0 <-> echo-fw:0, 256 x 512)" \
	grep -qF "link host-efw (end-a host:0, end-b echo-fw:0, buf-size 512, buf-count 256) registered with xenamp-backend: added" /tmp/load-efw.err
EF=$(domid_of echo-fw)
check "echo-fw:0 connected over xen (domid $EF)" wait_end echo-fw 0 "Connected xen xen domid $EF" 60
echo "  (echo-fw connected $(awk -v a="$T13" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }') s after xenamp-load, the Linux domUs booting meanwhile)"
check "echo-fw's console: device 0 connected (its own line)" \
	wait_guest_log echo-fw "^xenamp-fw: rpmsg: device 0 connected to domain 0 \\(71 pages, 256 buffers of 512 bytes each way" 10
check "echo-fw's console: rpmsg-echo announced" \
	wait_guest_log echo-fw "^echo: rpmsg-echo announced at address 1024" 20
check "xenstore: echo-fw's frontend dir lists 71 grant refs and its event channel" \
	sh -c "[ \"\$(xenstore-read /local/domain/$EF/device/rpmsg/0/num-pages)\" = 71 ] && xenstore-read /local/domain/$EF/device/rpmsg/0/ring-ref70 && xenstore-read /local/domain/$EF/device/rpmsg/0/event-channel"
for d in host fw; do
	check "xl create $d (in the background)" xenamp_create_wait "$d"
	check "$d ready" wait_ready "$d" 120
done
HOST=$(domid_of host)
FW=$(domid_of fw)
check "fw:0 connected over xen (link host-fw, domid $FW)" wait_end fw 0 "Connected xen xen domid $FW" 60

# --- host <-> firmware: MSGS echoes of mixed sizes, every byte checked
cmd host f1 echo "$MSGS"
R=$(result host f1 180)
echo "  host echo client <-> echo-fw: $R"
case $R in
"rc=0 "*"received $MSGS, mismatches 0"*) pass "host <-> echo-fw (bare-metal firmware booted by xenamp-load): $MSGS messages of mixed sizes echoed intact" ;;
*) fail "host <-> echo-fw: $R"; tail -n 30 /tmp/backend.log; guest_log echo-fw | tail -n 20 ;;
esac
check "name service: echo-fw:0's rpmsg-echo create seen by the backend" \
	sh -c 'xenampctl endpoints | grep -q "echo-fw:0 .*rpmsg-echo" || { xenampctl endpoints; exit 1; }'
check "echo-fw counted them on its console" wait_guest_log echo-fw "^echo: $MSGS messages echoed\$" 20

# --- round trips, one message in flight (xenamp-echo-client --ping),
# 64 bytes: host <-> firmware, then host <-> Linux fw, same boot, same
# client. Printed, not asserted (TCG).
PINGS=${XENAMP_XEN_PINGS:-200}
cmd host p1 echo "$PINGS" -s 64 --ping
RP1=$(result host p1 120)
cmd host p2 echo "$PINGS" -s 64 --ping -d 1
RP2=$(result host p2 120)
echo "  round trips host <-> echo-fw (firmware): $RP1"
echo "  round trips host <-> fw (Linux, xenamp-echo-server): $RP2"
case $RP1$RP2 in
"rc=0 "*"received $PINGS, mismatches 0"*"rtt"*"rc=0 "*"received $PINGS, mismatches 0"*"rtt"*)
	pass "round trips measured to the firmware and to the Linux fw ($PINGS pings of 64 bytes each)"
	awk -v a="$RP1" -v b="$RP2" 'BEGIN {
		sub(/.*rtt min\/avg\/max /, "", a); sub(/ us.*/, "", a); split(a, x, "/");
		sub(/.*rtt min\/avg\/max /, "", b); sub(/ us.*/, "", b); split(b, y, "/");
		printf "  round trip (TCG, not asserted): Linux<->firmware avg %d us (min %d, max %d), Linux<->Linux-fw avg %d us (min %d, max %d), ratio %.2f\n",
			x[2], x[1], x[3], y[2], y[1], y[3], (y[2] > 0) ? x[2] / y[2] : 0 }' ;;
*) fail "round trips: $RP1 / $RP2" ;;
esac

# --- xl destroy of the firmware mid-stream
host0_in() { xenampctl stats 2>/dev/null | awk '$2 == "host:0" { print $4; exit }'; }
cmd host m2 echo 1000000 -w 3
check "host:0 connected for the stream" wait_end host 0 Connected 60
base=$(host0_in)
sleep 3
# stream_grew BASE: host:0 sent more than 20 messages since BASE
stream_grew() { _n=$(host0_in); echo "host:0 sent ${_n:-0}, ${1:-0} 3 s before"; [ "${_n:-0}" -gt $((${1:-0} + 20)) ]; }
check "stream to the firmware running" stream_grew "$base"
check "gntdev mappings match the connected xen ends before the destroy" maps_match
check "xl destroy echo-fw mid-stream" xl destroy echo-fw
check "backend released echo-fw:0" wait_end echo-fw 0 Absent 30
check "backend log: the end is gone" wait_log "link host-efw: end echo-fw:0 gone" 20
check "no grant of echo-fw left mapped in the backend (/proc/$BPID/maps)" maps_match
check "echo-fw's rpmsg nodes removed from xenstore" \
	sh -c "! xenstore-exists /local/domain/0/backend/rpmsg/$EF"
R=$(result host m2 120)
echo "  interrupted host stream: $R"
case $R in
"rc=6 "*"service went away (unbind)"*) pass "host's unbind callback ran when the firmware was destroyed" ;;
*) fail "host's unbind callback ran when the firmware was destroyed: $R" ;;
esac
cmd host u1 echo 100 -d 1
R=$(result host u1 120)
case $R in
"rc=0 "*"received 100, mismatches 0"*) pass "host:1 <-> fw (Linux) unaffected by the firmware's destroy: 100 messages" ;;
*) fail "host:1 <-> fw after the firmware's destroy: $R" ;;
esac

# --- boot it again: traffic resumes
T0=$(uptime_s)
check "xenamp-load --xl echo-fw again (the backend still has link host-efw)" load_efw host-efw host:0
check "... link host-efw: exists" grep -qF "registered with xenamp-backend: exists" /tmp/load-efw.err
EF=$(domid_of echo-fw)
check "new echo-fw:0 connected (domid $EF)" wait_end echo-fw 0 "Connected xen xen domid $EF" 60
echo "  (the new echo-fw connected $(awk -v a="$T0" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }') s after xenamp-load)"
cmd host r2 echo "$MSGS"
R=$(result host r2 180)
echo "  host echo client <-> new echo-fw: $R"
case $R in
"rc=0 "*"received $MSGS, mismatches 0"*) pass "traffic resumes: $MSGS messages host <-> rebooted firmware intact" ;;
*) fail "traffic resumes after the firmware's reboot: $R"; tail -n 30 /tmp/backend.log ;;
esac

# --- a dom0 local partition talks to the firmware: the firmware serves
# device 0 only, so host's link is removed and dom0fw becomes its peer.
check "xl destroy echo-fw" xl destroy echo-fw
check "backend released echo-fw:0" wait_end echo-fw 0 Absent 30
check "xenampctl --force link-remove host-efw (host:0 may not have left Connected yet)" xenampctl --force link-remove host-efw
T0=$(uptime_s)
check "xenamp-load --xl echo-fw --link dom0-efw --peer dom0fw" load_efw dom0-efw dom0fw
XENAMP_TRANSPORT=local xenamp-echo-client -q -p dom0fw -n 1 -s 32 -w 90 > /tmp/efw-first.out 2>&1
rc=$?
T1=$(uptime_s)
check "dom0fw's first message to the new firmware echoed ($(cat /tmp/efw-first.out))" \
	sh -c "[ $rc = 0 ] && grep -q 'received 1, mismatches 0' /tmp/efw-first.out"
awk -v a="$T0" -v b="$T1" 'BEGIN { printf "  time from xenamp-load (xl create) to the first echoed message (TCG, not asserted): %.2f s\n", b - a }'
check "dom0 local partition dom0fw <-> echo-fw: 200 messages of mixed sizes echoed" \
	env XENAMP_TRANSPORT=local xenamp-echo-client -q -p dom0fw -n 200 -w 30
XENAMP_TRANSPORT=local xenamp-echo-client -q -p dom0fw -n "$PINGS" -s 64 --ping -w 30 > /tmp/efw-ping.out 2>&1
echo "  round trips dom0 local partition <-> echo-fw (not asserted): $(cat /tmp/efw-ping.out)"
check "dom0fw:0 connected over the local transport" sh -c "xenampctl stats | awk '\$2 == \"dom0fw:0\" && \$10 >= 1 { ok = 1 } END { exit !ok }'"
check "xl destroy echo-fw" xl destroy echo-fw
check "backend released echo-fw:0" wait_end echo-fw 0 Absent 30
check "gntdev mappings of the backend match its connected xen ends" maps_match

# --- the backend SIGKILLed and restarted during a stream to the firmware
# The firmware boots once more, peer host:0 again (dom0fw's link removed).
# The backend is restarted first (an orderly stop) with link host-efw in
# its configuration, as every backend restarted below: a link of
# xenamp-load lives only as long as the backend that got it, and the
# backend that force-removed host-efw did not offer host:0 again when
# xenamp-load added it back (a tests/xen run: the client's open timed
# out). Like
# step 9: kill k falls at a random point of the k-th of FKILLS+2 slices of
# a paced stream, the next backend starts after a random 0..1.5 s; the
# echo client checks reply i against message i (lost, duplicated or
# reordered is a mismatch); the firmware must not reboot (one boot banner
# more on its console than before) and logs each reconnection.
FKMSGS=${XENAMP_XEN_FW_KILL_MSGS:-3000}
FKILLS=${XENAMP_XEN_FW_KILLS:-3}
FKRATE=${XENAMP_XEN_FW_KILL_RATE:-100}
{ cat /tmp/xenamp-fw.conf; printf '\n[link host-efw]\nend-a = host:0\nend-b = echo-fw:0\nbuf-size = 512\nbuf-count = 256\n'; } > /tmp/xenamp-fw-kill.conf
efw_banners() { guest_log echo-fw | grep -c '^xenamp-fw: booted'; }
efw_reconnects() { guest_log echo-fw | grep -c '^xenamp-fw: rpmsg: device 0 reconnected to domain 0 '; }
# efw_connects P:D: how many times the backends so far logged end P:D connected
efw_connects() { grep -c "end $1 connected" /tmp/backend.log; }
# efw_wait COUNT_FN N TIMEOUT_S: until COUNT_FN prints N or more
efw_wait() {
	local _lim
	_lim=$(( $(now_s) + $3 ))
	while [ "$($1)" -lt "$2" ]; do
		[ "$(now_s)" -lt "$_lim" ] || { echo "$1: $($1), not $2, after $3 s"; tail -n 10 /tmp/backend.log; guest_log echo-fw | tail -n 10; return 1; }
		sleep 0.2
	done
	echo "$1: $($1)"
}
efw_host0() { efw_connects host:0; }
efw_efw0() { efw_connects echo-fw:0; }
# efw_relayed N TIMEOUT_S: until the running backend took N messages from host:0
efw_relayed() {
	local _lim
	_lim=$(( $(now_s) + $2 ))
	until [ "$(host0_in)" -ge "$1" ] 2>/dev/null; do
		[ "$(now_s)" -lt "$_lim" ] || { echo "backend took only $(host0_in) messages from host:0 in $2 s"; return 1; }
		sleep 0.2
	done
	echo "backend took $(host0_in) messages from host:0"
}
check "xenampctl --force link-remove dom0-efw" xenampctl --force link-remove dom0-efw
kill "$BPID"
wait "$BPID" 2>/dev/null
$BACKEND -f -c /tmp/xenamp-fw-kill.conf >> /tmp/backend.log 2>&1 &
BPID=$!
check "backend restarted with link host-efw in its configuration" backend_up
B0=$(efw_banners)
check "xenamp-load --xl echo-fw --link host-efw --peer host:0 (for the kills; the link exists)" load_efw host-efw host:0
EF=$(domid_of echo-fw)
check "echo-fw:0 connected (domid $EF)" wait_end echo-fw 0 "Connected xen xen domid $EF" 60
check "echo-fw booted once more (console banners $B0 -> $((B0 + 1)))" efw_wait efw_banners $((B0 + 1)) 30
check "host:0 offered again (InitWait)" wait_end host 0 InitWait 60
R0=$(efw_reconnects)
base=$(host0_in)
TAKEN=$((0 - ${base:-0}))
cmd host fk echo "$FKMSGS" -w 60 --rate "$FKRATE"
check "host:0 connected for the stream to the firmware" wait_end host 0 Connected 60
slice=$((FKMSGS / (FKILLS + 2)))
k=1
while [ $k -le "$FKILLS" ]; do
	at=$((k * slice + RANDOM % slice - TAKEN))
	[ $at -ge 50 ] || at=50
	pause=$((RANDOM % 4))
	check "fw kill $k: this backend took $at more messages from host:0" efw_relayed $at 60
	last=$(host0_in)
	hc=$(efw_host0) ec=$(efw_efw0)
	kill -KILL "$BPID"
	wait "$BPID" 2>/dev/null
	TAKEN=$((TAKEN + ${last:-0}))
	echo "  fw kill $k at $(uptime_s)s: $TAKEN messages of the stream taken from host:0 so far; next backend in $pause/2 s"
	[ $pause -eq 0 ] || sleep "$((pause / 2)).$((pause % 2 * 5))"
	$BACKEND -f -c /tmp/xenamp-fw-kill.conf >> /tmp/backend.log 2>&1 &
	BPID=$!
	check "fw kill $k: backend SIGKILLed and started again" backend_up
	check "fw kill $k: host:0 reconnected" efw_wait efw_host0 $((hc + 1)) 60
	check "fw kill $k: echo-fw:0 reconnected (backend log)" efw_wait efw_efw0 $((ec + 1)) 60
	check "fw kill $k: echo-fw logged its reconnection" efw_wait efw_reconnects $((R0 + k)) 30
	k=$((k + 1))
done
R=$(result host fk 240)
echo "  host echo client <-> echo-fw across $FKILLS backend kills: $R"
case $R in
"rc=0 "*"sent $FKMSGS, received $FKMSGS, mismatches 0"*)
	pass "$FKMSGS messages host <-> echo-fw across $FKILLS backend kills: each reply once, in order, intact (0 lost, 0 duplicated)" ;;
*) fail "messages host <-> echo-fw across backend kills: $R"; tail -n 30 /tmp/backend.log; guest_log echo-fw | tail -n 20 ;;
esac
check "echo-fw did not reboot across the kills (boot banners: $(efw_banners), $((B0 + 1)) expected)" \
	test "$(efw_banners)" = $((B0 + 1))
# efw_recon_ok: one reconnection line per kill, and no line of a link given up
efw_recon_ok() {
	local _n _g
	_n=$(($(efw_reconnects) - R0))
	_g=$(guest_log echo-fw | grep -cE '^(xenamp-fw: rpmsg: device 0: (no xenamp-backend|xenamp-backend refused|the restarted)|echo: the link is gone)')
	echo "reconnections logged: $_n of $FKILLS kills; links given up: $_g"
	[ "$_n" = "$FKILLS" ] && [ "$_g" = 0 ]
}
check "echo-fw logged one reconnection per kill and never gave up its link" efw_recon_ok
check "gntdev mappings of the last backend match its connected xen ends" maps_match
check "xl destroy echo-fw" xl destroy echo-fw
check "backend released echo-fw:0" wait_end echo-fw 0 Absent 30

# The firmware's console, its four boots (xenconsoled appends them to one
# log); the counter line printed every 100 messages only where it is last.
echo "  echo-fw's console (xenconsoled's guest log, four boots):"
guest_log echo-fw | awk '/^echo: [0-9]+ messages echoed$/ { last = $0; next }
	{ if (last != "") print last; last = ""; print } END { if (last != "") print last }' |
	sed 's/^/  [echo-fw] /'
echo "  (step 13 took $(awk -v a="$T13" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }') s)"
kill "$BPID"
wait "$BPID" 2>/dev/null
xl destroy host 2>/dev/null
xl destroy fw 2>/dev/null
