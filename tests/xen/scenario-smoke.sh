#!/bin/sh
# Smoke scenario for tests/xen: proves the harness itself. Runs in dom0 as
# /opt/xenamp/scenario.sh (busybox sh) once the toolstack is up.
. /opt/xenamp/scenario-lib.sh

check "xl list shows Domain-0" sh -c 'xl list | grep -q "^Domain-0 "'
check "xl configs present" test -f "$XENAMP_XL_CONFIG_DIR/host.cfg" -a -f "$XENAMP_XL_CONFIG_DIR/fw.cfg"

for d in host fw; do
	t=$(uptime_s)
	check "xl create $d" xenamp_create "$d"
	echo "  (xl create $d: ${t}s -> $(uptime_s)s dom0 uptime)"
done
for d in host fw; do
	check "$d wrote data/xenamp-ready" wait_ready "$d" 90
done
echo "  (both domUs ready at $(uptime_s)s dom0 uptime)"
check "domU host read its own name from xenstore" wait_guest_log host "domain 'host' \\(domid [0-9]+\\) up"

check "xl destroy fw" xl destroy fw
check "fw is gone" sh -c '! xl domid fw >/dev/null 2>&1 && ! xl list | grep -q "^fw "'
check "host still running" domain_exists host
# Orderly shutdown: the guest kernel runs /sbin/poweroff, which signals the
# domU's /init.
check "xl shutdown host (the guest powers itself off)" timeout 60 xl shutdown -w host
check "host is gone" sh -c '! xl domid host >/dev/null 2>&1'

summary
