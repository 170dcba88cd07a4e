#!/usr/bin/env bash
# `make install DESTDIR=...` from the build tree, then check what landed:
# files, sonames, exported symbols, man pages (groff and man parse them
# without a warning), the systemd unit, pkg-config against the DESTDIR,
# and that a program builds from the installed headers and libraries
# alone (one against <xenamp/xenamp.h>, one OpenAMP application against
# xenamp-openamp) and, when the firmware is built, firmware images built
# from the installed SDK (pkg-config xenamp-fw) that xenamp-load --inspect
# sees as bootable PV guests with their resource table. Prints PASS/FAIL
# lines and "N passed, N failed".
set -u
: "${top_builddir:?run through make check (top_builddir unset)}"
: "${top_srcdir:?run through make check (top_srcdir unset)}"

T=$(mktemp -d "${TMPDIR:-/tmp}/xenamp-install.XXXXXX")
D=$T/destdir
pass=0
fail=0
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
check() { local d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
finish() {
	echo "$pass passed, $fail failed"
	if [ "$fail" -eq 0 ] && [ "${KEEP_TMP:-0}" != 1 ]; then rm -rf "$T"; else echo "# kept $T"; fi
	[ "$fail" -eq 0 ]
}
has() { command -v "$1" >/dev/null 2>&1; }

# A make of our own, not the jobserver of the make check that runs us.
MK=(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "${MAKE:-make}" -C "$top_builddir")

if ! "${MK[@]}" -s xa-print-install-dirs >"$T/dirs" 2>"$T/dirs.err"; then
	bad "make xa-print-install-dirs"; cat "$T/dirs.err"; finish; exit
fi
# shellcheck disable=SC1091
. "$T/dirs"

"${MK[@]}" install DESTDIR="$D" >"$T/install.log" 2>&1
rc=$?
check "make install DESTDIR=... exits 0" test $rc -eq 0
[ $rc -eq 0 ] || { tail -n 30 "$T/install.log" | sed 's/^/# /'; finish; exit; }

L=$D$libdir
for f in "$L/libxenamp.so.0" "$L/libxenamp.so" "$L/libxenamp-openamp.so.0" \
	"$L/libxenamp-openamp.so" \
	"$D$includedir/xenamp/xenamp.h" "$D$includedir/xenamp/rpmsg.h" \
	"$D$includedir/xenamp/rsc_table.h" \
	"$D$includedir/xenamp/compat/platform_info.h" \
	"$D$includedir/xenamp/compat/openamp/open_amp.h" \
	"$D$includedir/xenamp/compat/openamp/rpmsg.h" \
	"$D$includedir/xenamp/compat/openamp/rpmsg_virtio.h" \
	"$D$includedir/xenamp/compat/openamp/remoteproc.h" \
	"$D$includedir/xenamp/compat/openamp/rpmsg_retarget.h" \
	"$D$includedir/xenamp/compat/openamp/rpmsg_rpc_client_server.h" \
	"$D$includedir/xenamp/compat/metal/spinlock.h" \
	"$D$includedir/xenamp/compat/metal/alloc.h" \
	"$D$includedir/xenamp/compat/metal/sys.h" \
	"$D$includedir/xenamp/compat/metal/io.h" \
	"$D$includedir/xenamp/compat/metal/list.h" \
	"$L/pkgconfig/xenamp.pc" "$L/pkgconfig/xenamp-openamp.pc" \
	"$D$sbindir/xenamp-backend" "$D$bindir/xenampctl" "$D$bindir/xenamp-load" \
	"$D$bindir/xenamp-echo-server" "$D$bindir/xenamp-echo-client" \
	"$D$bindir/xenamp-rpc-proxy" "$D$mandir/man1/xenamp-rpc-proxy.1" \
	"$D$mandir/man8/xenamp-backend.8" "$D$mandir/man8/xenampctl.8" \
	"$D$mandir/man8/xenamp-load.8" "$D$mandir/man1/xenamp-bench.1" \
	"$D$mandir/man3/libxenamp.3" \
	"$D$systemdsystemunitdir/xenamp-backend.service" \
	"$D$sysconfdir/xenamp/xenamp.conf" \
	"$D$docdir/examples/xenamp.conf" "$D$docdir/examples/host.cfg" \
	"$D$docdir/examples/fw.cfg" "$D$docdir/protocol.md" \
	"$D$docdir/troubleshooting.md" "$D$pkgdatadir/firmware.cfg.in"; do
	check "installed ${f#"$D"}" test -e "$f"
done
check "no libtool archive is needed at run time (.la may exist, .so are real files)" \
	test -f "$(readlink -f "$L/libxenamp.so")"

# Sonames.
soname() { readelf -d "$1" 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p'; }
check "libxenamp soname is libxenamp.so.0" test "$(soname "$L/libxenamp.so")" = libxenamp.so.0
check "libxenamp-openamp soname is libxenamp-openamp.so.0" \
	test "$(soname "$L/libxenamp-openamp.so")" = libxenamp-openamp.so.0
check "libxenamp-openamp depends on libxenamp.so.0" \
	sh -c "readelf -d '$L/libxenamp-openamp.so' | grep -q 'NEEDED.*\\[libxenamp.so.0\\]'"

# Exported symbols: only the public API.
nm -D --defined-only "$L/libxenamp.so" | awk '{print $NF}' | sort >"$T/syms"
nm -D --defined-only "$L/libxenamp-openamp.so" | awk '{print $NF}' | sort >"$T/syms-oa"
grep -Ev '^(rpmsg_|xenamp_|is_rpmsg_)' "$T/syms" >"$T/syms.bad"
check "libxenamp exports only rpmsg_*, is_rpmsg_*, xenamp_* ($(wc -l <"$T/syms") symbols)" \
	test ! -s "$T/syms.bad"
[ -s "$T/syms.bad" ] && sed 's/^/#   unexpected: /' "$T/syms.bad"
for s in rpmsg_create_ept rpmsg_destroy_ept rpmsg_send_offchannel_raw \
	rpmsg_get_tx_payload_buffer rpmsg_send_offchannel_nocopy \
	rpmsg_hold_rx_buffer rpmsg_release_rx_buffer rpmsg_release_tx_buffer \
	rpmsg_get_tx_buffer_size rpmsg_get_rx_buffer_size \
	xenamp_open xenamp_close xenamp_dispatch xenamp_fd xenamp_rpmsg_dev \
	xenamp_strerror_last; do
	check "libxenamp exports $s" grep -qx "$s" "$T/syms"
done
# The partition side carries nothing of dom0's: no backend transport, no
# control-socket client, no libxenctrl (a domU has no privcmd to open).
# nm without -D lists the library's internal symbols too; that it sees
# xa_fe_transport_new proves the symbol table is there to look at.
nm "$L/libxenamp.so" 2>/dev/null | awk '{print $NF}' | sort -u >"$T/syms-all"
check "libxenamp's symbol table is readable (has xa_fe_transport_new)" \
	grep -qx xa_fe_transport_new "$T/syms-all"
grep -E '^(xa_be_|lb_|xb_|xa_ctl_|xa_relay|xa_links)' "$T/syms-all" >"$T/syms-be" || true
check "libxenamp holds no dom0-side symbol ($(wc -l <"$T/syms-be") found)" \
	test ! -s "$T/syms-be"
[ -s "$T/syms-be" ] && sed 's/^/#   dom0 symbol: /' "$T/syms-be"
check "libxenamp does not need libxenctrl" \
	sh -c "! readelf -d '$L/libxenamp.so' | grep -q 'NEEDED.*libxenctrl'"
check "libxenamp-openamp exports only platform_*, rpmsg_virtio_*, rpmsg_rpc_*, rpmsg_set_default_rpc, metal_*, _open/_read/_write/_close" \
	sh -c "! grep -Ev '^(platform_|rpmsg_virtio_|rpmsg_rpc_|rpmsg_set_default_rpc\$|metal_|_open\$|_read\$|_write\$|_close\$)' '$T/syms-oa'"
for s in platform_init platform_create_rpmsg_vdev platform_poll \
	platform_release_rpmsg_vdev platform_cleanup \
	rpmsg_virtio_get_buffer_size rpmsg_virtio_get_tx_buffer_size \
	rpmsg_virtio_get_rx_buffer_size metal_init metal_finish \
	metal_set_log_handler metal_get_log_handler metal_set_log_level \
	metal_get_log_level metal_default_log_handler metal_get_timestamp \
	metal_io_init metal_io_block_read metal_io_block_write \
	rpmsg_rpc_init rpmsg_rpc_release rpmsg_rpc_send rpmsg_set_default_rpc \
	_open _read _write _close rpmsg_rpc_client_init rpmsg_rpc_client_send \
	rpmsg_rpc_client_release rpmsg_rpc_server_init rpmsg_rpc_server_send; do
	check "libxenamp-openamp exports $s" grep -qx "$s" "$T/syms-oa"
done

# Man pages: groff and man render them without a single warning.
for m in "$D$mandir"/man*/xenamp*.[0-9] "$D$mandir"/man*/libxenamp.3; do
	[ -f "$m" ] || continue
	n=${m##*/}
	if has groff; then
		out=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$m" 2>&1)
		check "groff -man -ww parses $n without warnings" test -z "$out"
		[ -z "$out" ] || echo "$out" | sed 's/^/#   /'
	else
		echo "# groff missing (scripts/install-deps installs groff-base): $n not checked"
	fi
	if has man; then
		out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$m" 2>&1 >/dev/null)
		check "man -l renders $n without warnings" test -z "$out"
		[ -z "$out" ] || echo "$out" | sed 's/^/#   /'
	fi
done

# The systemd unit points at the installed binary and configuration.
U=$D$systemdsystemunitdir/xenamp-backend.service
check "unit: ExecStart=$sbindir/xenamp-backend --foreground --config $sysconfdir/xenamp/xenamp.conf" \
	grep -qx "ExecStart=$sbindir/xenamp-backend --foreground --config $sysconfdir/xenamp/xenamp.conf" "$U"
check "unit: no @...@ left" sh -c "! grep -q '@[a-z]*@' '$U'"
for k in Type=simple NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes \
	PrivateTmp=yes DevicePolicy=closed "DeviceAllow=/dev/xen/evtchn rw" \
	"DeviceAllow=/dev/xen/gntdev rw" "DeviceAllow=/dev/xen/privcmd rw" \
	"DeviceAllow=/dev/xen/xenbus rw" RuntimeDirectory=xenamp; do
	check "unit: $k" grep -qx "$k" "$U"
done
if has systemd-analyze; then
	# verify wants the binary at its final path: check only the syntax.
	out=$(systemd-analyze verify "$U" 2>&1 | grep -v -e 'is not executable' \
		-e 'No such file' -e 'Command .* not found' -e 'Failed to prepare' \
		-e 'Unit .* not found' -e "Command 'man " -e 'xenstored.service' -e 'proc-xen.mount' || true)
	check "systemd-analyze verify: no unit syntax errors" test -z "$out"
	[ -z "$out" ] || echo "$out" | sed 's/^/#   /'
fi

# pkg-config against the DESTDIR, and programs built from the install alone.
export PKG_CONFIG_PATH=$L/pkgconfig PKG_CONFIG_SYSROOT_DIR=$D
export PKG_CONFIG_LIBDIR=$L/pkgconfig
flags=$(pkg-config --cflags --libs xenamp 2>"$T/pc.err")
check "pkg-config --cflags --libs xenamp" test $? -eq 0
check "xenamp.pc: -I$D$includedir and -lxenamp" \
	sh -c "echo '$flags' | grep -q -- '-I$D$includedir' && echo '$flags' | grep -q -- '-lxenamp'"
oaflags=$(pkg-config --cflags --libs xenamp-openamp 2>>"$T/pc.err")
check "pkg-config --cflags --libs xenamp-openamp" test $? -eq 0
CC=${CC:-cc}
# The firmware SDK is built freestanding: never with sanitizer flags.
FWCC=$CC
# A sanitizer build installs libraries that need the sanitizer runtime
# first in the process: build the test programs the same way.
SAN=$(sed -n 's/^SAN_CFLAGS = //p' "$top_builddir/Makefile")
CC="$CC $SAN"
cat >"$T/app.c" <<'C'
#include <stdio.h>
#include <xenamp/xenamp.h>
int main(void)
{
	struct xenamp_dev *d;
	struct xenamp_opts o = { .socket_path = "/nonexistent/xenamp.sock",
				 .connect_timeout_ms = 100 };
	if (xenamp_open("nobody", 0, &o, &d) == 0)
		return 1;
	printf("%s\n", xenamp_strerror_last());
	return 0;
}
C
# shellcheck disable=SC2086
$CC -std=gnu11 -Wall -Werror -o "$T/app" "$T/app.c" $flags >"$T/cc.log" 2>&1
check "a program builds against the installed libxenamp (pkg-config)" test $? -eq 0
check "it runs with the installed library and reports the failure in one line" \
	sh -c "LD_LIBRARY_PATH='$L' XENAMP_TRANSPORT=local '$T/app' | grep -q ."
# The OpenAMP application of tests/openamp, unchanged, from the install.
# shellcheck disable=SC2086
$CC -std=gnu11 -Wall -Werror -I"$top_srcdir/tests/openamp" -o "$T/echo-openamp" \
	"$top_srcdir/tests/openamp/echo-openamp.c" $oaflags >>"$T/cc.log" 2>&1
check "an OpenAMP application builds against the installed xenamp-openamp" test $? -eq 0
out=$(env -u XENAMP_PARTITION LD_LIBRARY_PATH="$L" "$T/echo-openamp" 2>&1)
check "it runs and asks for a partition name" sh -c "echo '$out' | grep -q XENAMP_PARTITION"
# The RPC programs (proxy demo, client, server) build from the install too.
for prog in oa-rpc-demo oa-rpc-client oa-rpc-server; do
	# shellcheck disable=SC2086
	$CC -std=gnu11 -Wall -Werror -I"$top_srcdir/tests/openamp" -o "$T/$prog" \
		"$top_srcdir/tests/openamp/$prog.c" $oaflags >>"$T/cc.log" 2>&1
	check "$prog builds against the installed xenamp-openamp" test $? -eq 0
done
[ -s "$T/cc.log" ] && sed 's/^/# cc: /' "$T/cc.log"

# The firmware SDK (only when configure built the firmware): firmware
# images built from the installed library, linker script and headers
# alone, through pkg-config, then inspected as xenamp-load sees them.
# has_line TEXT RE...: TEXT has a line matching each RE.
has_line() {
	local text=$1 re
	shift
	for re in "$@"; do
		printf '%s\n' "$text" | grep -q -- "$re" || return 1
	done
}
fw_sdk_checks() {
	local F=$D$pkglibdir/firmware W=$T/fw fwflags fwlibs out
	for f in "$F/libxenamp-fw.a" "$F/fw.lds" "$F/include/stdio.h" \
		"$F/include/string.h" "$F/include/platform_info.h" \
		"$F/include/openamp/open_amp.h" "$F/include/metal/mutex.h" \
		"$F/include/metal/log.h" "$F/include/xenamp/rpmsg.h" \
		"$F/include/xenamp/fw.h" "$F/include/xenamp/fw_rpmsg.h" \
		"$F/include/xenamp/fw_rsc_table.h" "$L/pkgconfig/xenamp-fw.pc"; do
		check "firmware SDK: installed ${f#"$D"}" test -e "$f"
	done
	check "firmware SDK: the installed metal/mutex.h is the firmware's (no pthread)" \
		sh -c "! grep -q pthread '$F/include/metal/mutex.h'"
	fwflags=$(pkg-config --cflags xenamp-fw 2>>"$T/pc.err") &&
		fwlibs=$(pkg-config --libs xenamp-fw 2>>"$T/pc.err")
	check "pkg-config --cflags, --libs xenamp-fw" test $? -eq 0
	check "xenamp-fw.pc: -I and -L into the install, the linker script, -lxenamp-fw" \
		sh -c "echo '$fwflags' | grep -q -- '-I$F/include' &&
		       echo '$fwlibs' | grep -q -- '-L$F ' && echo '$fwlibs' | grep -q -- '-Wl,-T,fw.lds' &&
		       echo '$fwlibs' | grep -q -- '-lxenamp-fw'"
	check "xenamp-fw.pc names nothing of the source or build tree" \
		sh -c "! echo '$fwflags $fwlibs' | grep -q -e '$top_srcdir' -e '$top_builddir'"
	mkdir -p "$W"
	# OpenAMP's applications, copied out of the tree with their own
	# headers and the resource table: nothing else of the tree is seen.
	cp "$top_srcdir"/src/firmware/examples/openamp/*.[ch] "$W/"
	# A firmware on the SDK's own API, with a table of 64 buffers.
	cat >"$W/native.c" <<'C'
#include <xenamp/fw.h>
#include <xenamp/fw_rpmsg.h>
#include <xenamp/fw_rsc_table.h>
XENAMP_FW_RSC_TABLE_RPMSG(64);
int fw_main(void)
{
	struct rpmsg_device *rdev;

	if (fw_rpmsg_open(0, 1000, &rdev) < 0)
		return 1;
	fw_printf("native: %d\n", fw_rpmsg_poll(rdev, 10));
	return 0;
}
C
	local name nbufs srcs
	while IFS='|' read -r name nbufs srcs; do
		# shellcheck disable=SC2086
		(cd "$W" && $FWCC $fwflags -Wall -Wextra -Werror $srcs $fwlibs -o "$name.elf") \
			>>"$W/cc.log" 2>&1
		check "firmware SDK: $name.elf builds from the install (pkg-config xenamp-fw)" test $? -eq 0
		out=$(LD_LIBRARY_PATH="$L" "$D$bindir/xenamp-load" --inspect "$W/$name.elf" 2>&1)
		check "firmware SDK: xenamp-load --inspect: $name.elf boots as a PV guest" \
			has_line "$out" 'Xen ELF notes: 8 (boots as a PV guest)'
		check "firmware SDK: $name.elf has the RPMsg resource table ($nbufs buffers)" \
			has_line "$out" '^Resource table: section .* \.resource_table' \
			'id 7 (rpmsg), notifyid 0, dfeatures 0x1 (NS)' "buf-count $nbufs (vring num)"
	done <<'LIST'
rpmsg-echo|256|rpmsg-echo.c rsc_table.c
matrix_multiply|256|matrix_multiply.c rsc_table.c
native|64|native.c
LIST
	[ -s "$W/cc.log" ] && sed 's/^/# fw cc: /' "$W/cc.log"
	# One application file, two builds: the same rpmsg-echo.c also builds
	# as a process against the installed xenamp-openamp.
	# shellcheck disable=SC2086
	$CC -std=gnu11 -Wall -Werror -o "$W/rpmsg-echo-local" "$W/rpmsg-echo.c" $oaflags \
		>"$W/cc-local.log" 2>&1
	check "the same rpmsg-echo.c builds as a process against the installed xenamp-openamp" \
		test $? -eq 0
	[ -s "$W/cc-local.log" ] && sed 's/^/# cc: /' "$W/cc-local.log"
}
if [ "${have_firmware:-no}" = yes ]; then
	fw_sdk_checks
else
	echo "# firmware not built (configure: Xen firmware (PV) no): SDK not checked"
	check "no firmware SDK installed without the firmware" \
		test ! -e "$L/pkgconfig/xenamp-fw.pc"
fi

finish
