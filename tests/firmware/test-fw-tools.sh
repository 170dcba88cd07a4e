#!/bin/sh
# The firmware images seen from the host's tools:
#  - xenamp-load --inspect shows the Xen ELF notes of the echo firmware
#    (text and JSON) and takes its RPMsg link from its resource table;
#  - the protocol core compiled freestanding for the firmware (src/core
#    objects, *.fwo) calls nothing but the short list of string functions
#    the runtime provides (nm -u).
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

# undefined symbols of the freestanding core objects
allowed=' memcpy memset memmove memcmp strlen strnlen '
for o in "$B"/src/core/*.fwo; do
	[ -f "$o" ] || { bad "no freestanding core objects in $B/src/core"; break; }
	for s in $(nm -u "$o" | awk '{ print $2 }'); do
		case $allowed in
		*" $s "*) ;;
		*) bad "${o##*/} needs $s (allowed:$allowed)" ;;
		esac
	done
	ok "${o##*/}: undefined symbols within the list ($(nm -u "$o" | awk '{ printf "%s ", $2 }'))"
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
