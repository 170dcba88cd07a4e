#!/bin/sh
# The firmware images seen from the host's tools:
#  - xenamp-load --inspect shows the Xen ELF notes of the echo firmware
#    (text and JSON) and takes its RPMsg link from its resource table;
#  - the cores compiled freestanding for the firmware (the protocol core,
#    src/core, and the RPMsg driver core, src/frontend/core: *.fwo) call
#    nothing but the short list of string functions the runtime provides
#    (nm -u): the driver core reaches its environment only through the
#    table of src/frontend/core/fe_env.h, never by a symbol.
#  - OpenAMP's echo and matrix-multiply applications, built as firmware
#    from their unchanged source, are bootable PV images with a resource
#    table, main called by the SDK's start file, nothing undefined.
# Needs $top_builddir (TESTS_ENVIRONMENT).
set -u
B=${top_builddir:-.}
LOAD=$B/src/loader/xenamp-load
ECHO=$B/src/firmware/examples/echo/echo.elf
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

out=$("$LOAD" --inspect "$ECHO" 2>&1) || bad "--inspect exit $?: $out"
for want in 'Xen ELF notes: 8 (boots as a PV guest)' '  GUEST_OS           "xenamp-fw"' \
	'  XEN_VERSION        "xen-3.0"' '  LOADER             "generic"' \
	'  VIRT_BASE          0x200000' '  HYPERCALL_PAGE     0x200000' \
	'buf-count 256 (vring num), buf-size 512 (default), min region 71 pages of 4 KiB'; do
	if printf '%s\n' "$out" | grep -qF -- "$want"; then ok "--inspect shows: $want"
	else bad "--inspect lacks: $want"; printf '%s\n' "$out"; fi
done
entry=$(printf '%s\n' "$out" | sed -n 's/.*entry \(0x[0-9a-f]*\),.*/\1/p')
if printf '%s\n' "$out" | grep -q "^  ENTRY  *$entry\$"; then ok "ENTRY note is the ELF entry ($entry)"
else bad "ENTRY note is not the ELF entry ($entry)"; fi
json=$("$LOAD" --inspect --json "$ECHO" 2>&1) || bad "--inspect --json exit $?"
if printf '%s\n' "$json" | grep -q '"xen_guest":"pv"' &&
   printf '%s\n' "$json" | tr -d ' \n' | grep -q '"type":"LOADER","type_id":8,"value":"generic"'; then
	ok "--inspect --json: xen_guest pv, LOADER generic"
else bad "--inspect --json: $json"; fi

# Undefined symbols of the freestanding core objects: each may need the
# symbols other core objects define, and all of them together only the
# string functions below (the list docs/firmware.md gives).
strfns=' memcpy memset memcmp strnlen '
objs=$(ls "$B"/src/core/*.fwo "$B"/src/frontend/core/*.fwo 2>/dev/null)
for want in vring rpmsg_wire addr_alloc xa_error region rpmsg_virtio rpmsg; do
	if printf '%s\n' $objs | grep -q "/$want\.fwo\$"; then ok "core object $want.fwo built"
	else bad "no freestanding core object $want.fwo"; fi
done
defined=" $(nm --defined-only -g $objs | awk 'NF == 3 { printf "%s ", $3 }')"
left=""
for s in $(nm -u $objs | awk 'NF == 2 { print $2 }' | sort -u); do
	case "$defined" in *" $s "*) continue ;; esac
	left="$left$s "
	case "$strfns" in
	*" $s "*) ;;
	*) bad "the cores need $s (allowed:$strfns)" ;;
	esac
done
ok "the cores together need only: $left"

# OpenAMP's applications built as firmware from their unchanged source
# (src/firmware/examples/openamp): bootable PV images whose start file
# (fw_crt_main, from libxenamp-fw.a) calls main, over the firmware's
# platform layer, with the resource table of XENAMP_FW_RSC_TABLE_RPMSG.
for app in rpmsg-echo matrix_multiply; do
	elf=$B/src/firmware/examples/openamp/$app.elf
	out=$("$LOAD" --inspect "$elf" 2>&1) || bad "--inspect $app.elf exit $?: $out"
	for want in 'Xen ELF notes: 8 (boots as a PV guest)' \
		'id 7 (rpmsg), notifyid 0, dfeatures 0x1 (NS)' \
		'buf-count 256 (vring num), buf-size 512 (default)'; do
		if printf '%s\n' "$out" | grep -qF -- "$want"; then ok "$app.elf: --inspect shows: $want"
		else bad "$app.elf: --inspect lacks: $want"; printf '%s\n' "$out"; fi
	done
	syms=$(nm "$elf" | awk 'NF == 3 { print $3 }')
	for s in main fw_main platform_init platform_create_rpmsg_vdev platform_poll \
		platform_release_rpmsg_vdev platform_cleanup printf xenamp_fw_resource_table; do
		if printf '%s\n' "$syms" | grep -qx "$s"; then ok "$app.elf defines $s"
		else bad "$app.elf lacks $s"; fi
	done
	if [ -z "$(nm -u "$elf")" ]; then ok "$app.elf: no undefined symbol"
	else bad "$app.elf: undefined: $(nm -u "$elf" | tr '\n' ' ')"; fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
