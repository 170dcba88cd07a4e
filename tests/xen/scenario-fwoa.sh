# shellcheck shell=dash
# Step 14 of scenario-xenamp.sh, sourced after step 13 (scenario-firmware.sh
# leaves no backend and no domU running), installed as
# /opt/xenamp/scenario-fwoa.sh: the two OpenAMP demo applications of
# src/firmware/examples/openamp, built unchanged with the firmware SDK
# (docs/firmware.md, "The SDK"), booted as bare-metal PV domains and
# driven from a Linux domU.
#
#   backend:    its own, /tmp/xenamp-fwoa.conf: link host-mfw (host:0 <->
#               matrix-fw:0); the echo firmware's link comes from
#               xenamp-load (control request link-add)
#   oa-echo:    xenamp-load --xl oa-echo --link host-oaefw --peer host:1
#               rpmsg-echo.elf (PV from its Xen ELF notes)
#   matrix-fw:  xl create xen-configs/matrix-fw.cfg, kernel= the installed
#               matrix_multiply.elf, on_poweroff="preserve" so that xl
#               shows why it stopped
#   host:       xenamp-echo-client on device 1, matrix-client on device 0
#               (commands "echo" and "matrix" of domu-xenamp.sh)
#
# The echo application stops when its client's endpoint goes away (a
# name-service destroy), so it serves one client: the announcement is
# checked in the backend's log (debug level), not with xenampctl
# endpoints, which lists a service only while both ends are connected.
#
# The backend is stopped and every domain is gone at the end: nothing
# after this step depends on them.
# Uses the helpers of scenario-xenamp.sh (ctl, wait_end, cmd, result,
# maps_match, wait_log, backend_up, wait_shutdown) and scenario-lib.sh.

# wait_gone NAME [TIMEOUT_S]: until Xen has no domain NAME
wait_gone() {
	local _lim
	_lim=$(( $(now_s) + ${2:-30} ))
	while domain_exists "$1"; do
		if [ "$(now_s)" -ge "$_lim" ]; then
			echo "$1 still exists after ${2:-30} s:"
			xl list "$1"
			guest_log "$1" | tail -n 10
			return 1
		fi
		sleep 0.5
	done
}

OA_ECHO_ELF=$X/lib/xenamp/firmware/rpmsg-echo.elf
OA_MATRIX_ELF=$X/lib/xenamp/firmware/matrix_multiply.elf
OA_MSGS=${XENAMP_XEN_OA_MSGS:-500}
OA_PRODUCTS=${XENAMP_XEN_OA_PRODUCTS:-50}
T14=$(uptime_s)
cat > /tmp/xenamp-fwoa.conf <<EOF
[backend]
socket = $XENAMP_SOCKET
max-pages = 256
# debug: the backend logs each name-service message it relays (the
# firmware's announcement, the client's withdrawal), a handful here.
log-level = debug

[link host-mfw]
end-a = host:0
end-b = matrix-fw:0
buf-size = 512
buf-count = 256
EOF
$BACKEND -f -c /tmp/xenamp-fwoa.conf >> /tmp/backend.log 2>&1 &
BPID=$!
check "backend started for the OpenAMP firmware (link host-mfw: host:0 <-> matrix-fw:0)" backend_up
# host builds while the echo firmware boots.
xenamp_create_bg host

# --- rpmsg-echo.elf, booted by xenamp-load
check "xenamp-load --inspect: rpmsg-echo.elf (OpenAMP's echo application) is a PV image" \
	sh -c "xenamp-load --inspect '$OA_ECHO_ELF' > /tmp/oa-echo-inspect.txt 2>&1 &&
		grep -qx 'Xen ELF notes: [0-9]* (boots as a PV guest)' /tmp/oa-echo-inspect.txt ||
		{ cat /tmp/oa-echo-inspect.txt; exit 1; }"
load_oa_echo() {
	local _rc
	xenamp-load --xl oa-echo --out /tmp/oa-echo.cfg --force --memory 8 \
		--link host-oaefw --peer host:1 "$OA_ECHO_ELF" 2> /tmp/load-oa-echo.err
	_rc=$?
	cat /tmp/load-oa-echo.err
	return $_rc
}
check "xenamp-load --xl oa-echo rpmsg-echo.elf: link host-oaefw registered, xl create run" load_oa_echo
check "... guest type from the ELF notes and xl info: pv" \
	grep -qF "xenamp-load: oa-echo: guest type pv (image: pv; host: pv, from xl info: virt_caps)" /tmp/load-oa-echo.err
check "... link host-oaefw (host:1 <-> oa-echo:0, 256 x 512, from the resource table) added" \
	grep -qF "link host-oaefw (end-a host:1, end-b oa-echo:0, buf-size 512, buf-count 256) registered with xenamp-backend: added" /tmp/load-oa-echo.err
OE=$(domid_of oa-echo)
check "oa-echo:0 connected over xen (domid $OE)" wait_end oa-echo 0 "Connected xen xen domid $OE" 60
check "oa-echo's console: main() started (the application's printf)" \
	wait_guest_log oa-echo "^rpmsg-echo: starting application\$" 10
check "oa-echo's console: endpoint rpmsg-echo served at 1024, payload 496 (rpmsg_virtio_get_buffer_size)" \
	wait_guest_log oa-echo "^rpmsg-echo: serving rpmsg-echo at address 1024, payload up to 496 bytes\$" 20
check "xl create host (in the background)" xenamp_create_wait host
check "host ready" wait_ready host 120
cmd host oe1 echo "$OA_MSGS" -d 1
R=$(result host oe1 180)
echo "  host echo client <-> oa-echo (OpenAMP rpmsg-echo.c as firmware): $R"
case $R in
"rc=0 "*"received $OA_MSGS, mismatches 0"*) pass "host:1 <-> oa-echo: $OA_MSGS messages of mixed sizes echoed intact" ;;
*) fail "host:1 <-> oa-echo: $R"; tail -n 30 /tmp/backend.log; guest_log oa-echo | tail -n 20 ;;
esac
check "name service: oa-echo:0's rpmsg-echo announcement relayed to host:1" \
	wait_log "link host-oaefw: oa-echo:0 announced service 'rpmsg-echo' at 1024\$" 10
check "name service: host:1's client withdrew its rpmsg-echo endpoint (destroy relayed)" \
	wait_log "link host-oaefw: host:1 withdrew service 'rpmsg-echo' at [0-9]+\$" 10
# The client's endpoint destroy reaches the firmware as a name-service
# destroy: the application's unbind callback ends its loop, main returns
# 0 and the domain powers off (xenamp-load's on_poweroff = "destroy").
check "oa-echo's console: the client's endpoint went away (ns unbind callback)" \
	wait_guest_log oa-echo "^rpmsg-echo: the remote endpoint went away\$" 20
check "oa-echo counted $OA_MSGS echoes, no send error" \
	wait_guest_log oa-echo "^rpmsg-echo: echoed $OA_MSGS messages, 0 send errors\$" 20
check "oa-echo: main returned 0, the runtime powers off" \
	wait_guest_log oa-echo "^xenamp-fw: fw_main returned 0: power off\$" 20
check "oa-echo is gone (powered off, on_poweroff = destroy)" wait_gone oa-echo 30
check "backend released oa-echo:0" wait_end oa-echo 0 Absent 30
check "no grant of oa-echo left mapped in the backend" maps_match
echo "  oa-echo's console (xenconsoled's guest log):"
guest_log oa-echo | sed 's/^/  [oa-echo] /'

# --- matrix_multiply.elf, booted from xen-configs/matrix-fw.cfg
check "xl create matrix-fw (xen-configs/matrix-fw.cfg, kernel = the installed matrix_multiply.elf)" \
	xl create "$XENAMP_XL_CONFIG_DIR/matrix-fw.cfg" "kernel=\"$OA_MATRIX_ELF\"" 'on_poweroff="preserve"'
MF=$(domid_of matrix-fw)
check "matrix-fw:0 connected over xen (domid $MF)" wait_end matrix-fw 0 "Connected xen xen domid $MF" 60
check "matrix-fw's console: rpmsg-openamp-demo-channel served at 1024" \
	wait_guest_log matrix-fw "^matrix_multiply: serving rpmsg-openamp-demo-channel at address 1024\$" 20
cmd host om1 matrix "$OA_PRODUCTS"
R=$(result host om1 120)
echo "  host matrix-client <-> matrix-fw: $R"
case $R in
"rc=0 "*"products $OA_PRODUCTS, mismatches 0, bad lengths 0"*) pass "host:0 <-> matrix-fw: $OA_PRODUCTS products (sizes 1..6), every element checked" ;;
*) fail "host:0 <-> matrix-fw: $R"; tail -n 30 /tmp/backend.log; guest_log matrix-fw | tail -n 20 ;;
esac
check "name service: matrix-fw:0's rpmsg-openamp-demo-channel announcement relayed to host:0" \
	wait_log "link host-mfw: matrix-fw:0 announced service 'rpmsg-openamp-demo-channel' at 1024\$" 10
check "matrix-fw saw the demo's shutdown message" \
	wait_guest_log matrix-fw "^matrix_multiply: shutdown message is received\.\$" 20
check "matrix-fw counted $OA_PRODUCTS products, nothing refused" \
	wait_guest_log matrix-fw "^matrix_multiply: $OA_PRODUCTS products, 0 requests refused, 0 send errors\$" 20
check "matrix-fw: main returned 0, the runtime powers off" \
	wait_guest_log matrix-fw "^xenamp-fw: fw_main returned 0: power off\$" 20
check "matrix-fw shut down with reason poweroff (xl list: s, no c)" wait_shutdown matrix-fw "s-" 30
echo "  matrix-fw's console (xenconsoled's guest log):"
guest_log matrix-fw | sed 's/^/  [matrix-fw] /'
check "xl destroy matrix-fw" xl destroy matrix-fw
check "backend released matrix-fw:0" wait_end matrix-fw 0 Absent 30
check "no grant of matrix-fw left mapped in the backend" maps_match
echo "  (step 14 took $(awk -v a="$T14" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }') s)"
kill "$BPID"
check "backend stopped" sh -c "n=0; while kill -0 $BPID 2>/dev/null; do sleep 0.2; n=\$((n+1)); [ \$n -lt 50 ] || exit 1; done"
xl destroy host 2>/dev/null
wait "$BPID" 2>/dev/null
xl destroy oa-echo 2>/dev/null
xl destroy matrix-fw 2>/dev/null
