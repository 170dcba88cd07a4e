#!/bin/sh
# xenamp-load tests: generate the ELF corpus (gen-corpus.py), then
#  - every malformed file: exit code, ONE stderr line of the form
#    "xenamp-load: FILE: offset 0xNN: fault" holding the expected text
#    (from the corpus manifest), nothing on stdout; also with --json;
#  - the valid files: decoded fields through --inspect --json;
#  - the command line and the --xl boot target (dry run, and a stub xl).
# Prints one line per case and "N passed, N failed"; exits 1 on failure.
#
# Environment: top_srcdir, top_builddir (make check exports both);
# XENAMP_LOAD overrides the binary, PYTHON the interpreter; XENAMP_HAVE_LIBVIRT
# (yes|no) says whether that binary has libvirt (default: from config.h).
set -u

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$here/../..}
top_builddir=${top_builddir:-$top_srcdir}
LOAD=${XENAMP_LOAD:-$top_builddir/src/loader/xenamp-load}
PY=${PYTHON:-python3}
TEMPLATE=$top_srcdir/xen-configs/firmware.cfg.in

if ! command -v "$PY" >/dev/null 2>&1; then
	echo "SKIP: $PY not found"
	exit 77
fi
if [ ! -x "$LOAD" ]; then
	echo "FAIL: $LOAD not built"
	exit 1
fi

work=$top_builddir/tests/loader/test-loader.tmp
rm -rf "$work"
mkdir -p "$work" || exit 99
corpus=$work/corpus
if ! "$PY" "$top_srcdir/tests/loader/gen-corpus.py" "$corpus"; then
	echo "FAIL: gen-corpus.py"
	exit 1
fi

pass=0
fail=0
ok() { pass=$((pass + 1)); printf "PASS %s\n" "$*"; }
bad() { fail=$((fail + 1)); printf "FAIL %s\n" "$*"; }

# run ARGS...: sets rc, leaves stdout in $work/out and stderr in $work/err
run() {
	"$LOAD" "$@" >"$work/out" 2>"$work/err"
	rc=$?
}

# ------------------------------------------------------------ malformed files
tab=$(printf '\t')
check_fault() { # case code substring [extra options]
	f=$corpus/$1
	want_code=$2
	sub=$3
	label="$1${4:+ $4}"
	# shellcheck disable=SC2086
	run --inspect ${4:-} "$f"
	nl=$(wc -l <"$work/err" | tr -d ' ')
	line=$(cat "$work/err")
	if [ "$rc" != "$want_code" ]; then
		bad "$label: exit $rc, want $want_code: $line"
	elif [ "$nl" != 1 ]; then
		bad "$label: $nl lines on stderr, want 1: $line"
	elif [ -s "$work/out" ]; then
		bad "$label: unexpected output on stdout"
	else
		case $line in
		"xenamp-load: $f: offset 0x"*)
			case $line in
			*"$sub"*)
				ok "$label: exit $rc: ${line#"xenamp-load: $f: "}" ;;
			*)
				bad "$label: error line '$line' lacks '$sub'" ;;
			esac ;;
		*)
			bad "$label: error line '$line' is not 'xenamp-load: FILE: offset 0xNN: fault'" ;;
		esac
	fi
}

while IFS="$tab" read -r name code sub; do
	[ "$code" = 0 ] && continue
	check_fault "$name" "$code" "$sub"
	check_fault "$name" "$code" "$sub" --json
done <"$corpus/manifest.tsv"

# ------------------------------------------------------------ valid files
# jget FILE.json a.b.0.c  -> the value (JSON for objects, lists, booleans)
jget() {
	"$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    d = d[int(k)] if isinstance(d, list) else d[k]
print(json.dumps(d) if isinstance(d, (dict, list, bool)) or d is None else d)
' "$1" "$2"
}

# check LABEL JSONFILE PATH EXPECTED
check() {
	got=$(jget "$2" "$3" 2>&1)
	if [ "$got" = "$4" ]; then
		ok "$1: $3 = $4"
	else
		bad "$1: $3 = '$got', want '$4'"
	fi
}

# ELF64: .text at 0xb0 (after the ELF header and two program headers),
# .resource_table at 0x2b0 (688); see gen-corpus.py.
v64=$corpus/valid-elf64.elf
j=$work/valid-elf64.json
"$LOAD" --inspect --json "$v64" >"$j" 2>"$work/err"
rc=$?
if [ "$rc" = 0 ] && [ ! -s "$work/err" ]; then ok "valid-elf64.elf: --inspect --json exit 0"
else bad "valid-elf64.elf: exit $rc: $(cat "$work/err")"; fi
L=valid-elf64.elf
check $L "$j" elf.class ELF64
check $L "$j" elf.endianness little
check $L "$j" elf.machine x86-64
check $L "$j" elf.type EXEC
check $L "$j" elf.entry 1048576
check $L "$j" segments.0.type LOAD
check $L "$j" segments.0.offset 176
check $L "$j" segments.0.vaddr 1048576
check $L "$j" segments.0.filesz 512
check $L "$j" segments.0.memsz 768
check $L "$j" segments.0.flags R-X
check $L "$j" segments.1.type GNU_STACK
check $L "$j" resource_table.section_index 2
check $L "$j" resource_table.offset 688
check $L "$j" resource_table.addr 1081344
check $L "$j" resource_table.ver 1
check $L "$j" resource_table.num 5
check $L "$j" resource_table.entries.0.type carveout
check $L "$j" resource_table.entries.0.offset 36
check $L "$j" resource_table.entries.0.file_offset 724
check $L "$j" resource_table.entries.0.len 34603009
check $L "$j" resource_table.entries.0.name fw-mem
check $L "$j" resource_table.entries.1.type devmem
check $L "$j" resource_table.entries.1.da 150994944
check $L "$j" resource_table.entries.1.name uart0
check $L "$j" resource_table.entries.2.type trace
check $L "$j" resource_table.entries.2.len 4096
check $L "$j" resource_table.entries.2.name trace0
check $L "$j" resource_table.entries.3.type vdev
check $L "$j" resource_table.entries.3.id 7
check $L "$j" resource_table.entries.3.dfeatures 1
check $L "$j" resource_table.entries.3.features '["VIRTIO_RPMSG_F_NS"]'
check $L "$j" resource_table.entries.3.config_len 4
check $L "$j" resource_table.entries.3.config "aa bb cc dd"
check $L "$j" resource_table.entries.3.num_of_vrings 2
check $L "$j" resource_table.entries.3.vrings.0.da 65536
check $L "$j" resource_table.entries.3.vrings.0.align 4096
check $L "$j" resource_table.entries.3.vrings.0.num 16
check $L "$j" resource_table.entries.3.vrings.1.da 81920
check $L "$j" resource_table.entries.3.vrings.1.notifyid 2
check $L "$j" resource_table.entries.4.type vendor
check $L "$j" resource_table.entries.4.type_id 130
check $L "$j" resource_table.entries.4.len 16
check $L "$j" resource_table.entries.4.data "01 02 03 04 05 06 07 08"
check $L "$j" link.vdev_entry 3
check $L "$j" link.buf_count 16
check $L "$j" link.buf_size 512
check $L "$j" link.buf_size_source default
# 1 (table) + 2 + 2 (rings of 16 with 4096 alignment) + 4 (2 x 16 x 512 bytes)
check $L "$j" link.min_region_pages 9
check $L "$j" domain.carveout_bytes 34603009
check $L "$j" domain.memory_mib 34

v32=$corpus/valid-elf32.elf
j=$work/valid-elf32.json
"$LOAD" --inspect --json "$v32" >"$j" 2>"$work/err"
rc=$?
if [ "$rc" = 0 ] && [ ! -s "$work/err" ]; then ok "valid-elf32.elf: --inspect --json exit 0"
else bad "valid-elf32.elf: exit $rc: $(cat "$work/err")"; fi
L=valid-elf32.elf
check $L "$j" elf.class ELF32
check $L "$j" elf.machine ARM
check $L "$j" elf.entry 536870913
check $L "$j" segments.0.type LOAD
check $L "$j" segments.0.paddr 536870912
check $L "$j" segments.0.filesz 128
check $L "$j" resource_table.num 2
check $L "$j" resource_table.entries.0.name ram
check $L "$j" resource_table.entries.1.features '[]'
check $L "$j" resource_table.entries.1.vrings.0.num 32
check $L "$j" resource_table.entries.1.vrings.1.align 16
check $L "$j" link.buf_count 32
check $L "$j" link.buf_size 512
check $L "$j" domain.memory_mib 32

j=$work/valid-elf32-buf.json
"$LOAD" --inspect --json --buf-size 1024 "$v32" >"$j" 2>"$work/err"
L="valid-elf32.elf --buf-size 1024"
check "$L" "$j" link.buf_size 1024
check "$L" "$j" link.buf_size_source --buf-size

# Xen ELF notes (PT_NOTE segment over a .note.Xen section, gen-corpus.py)
for c in "xen-pv pv [\"pv\"]" "xen-linux pv [\"pv\", \"pvh\"]" "xen-pvh pvh [\"pvh\"]" \
	 "xen-cut-note null []" "valid-elf64 null []"; do
	n=${c%% *}; rest=${c#* }; g=${rest%% *}; as=${rest#* }
	j=$work/$n.json
	"$LOAD" --inspect --json "$corpus/$n.elf" >"$j" 2>"$work/err"
	check "$n.elf" "$j" xen_guest "$g"
	check "$n.elf" "$j" xen_bootable "$as"
done
check xen-pv.elf "$work/xen-pv.json" xen_notes.6.type ENTRY
check xen-pv.elf "$work/xen-pv.json" xen_notes.6.value 1048576
check xen-pvh.elf "$work/xen-pvh.json" xen_not_pv 'no XEN_VERSION note "xen-3.0"'
check xen-cut-note.elf "$work/xen-cut-note.json" xen_not_pv \
	"the ELF note at file offset 0x478 does not fit in its PT_NOTE segment"
run --inspect "$corpus/xen-linux.elf"
if [ "$rc" = 0 ] && grep -qxF "Xen ELF notes: 4 (boots as a PV or PVH guest)" "$work/out" &&
   grep -qxF '  GUEST_OS           "linux"' "$work/out" &&
   grep -qxF "  PHYS32_ENTRY       0x1000000" "$work/out"; then
	ok "xen-linux.elf: --inspect text shows the notes and both guest types"
else
	bad "xen-linux.elf: --inspect text (exit $rc): $(grep -A6 'Xen ELF' "$work/out")"
fi
run --inspect "$v64"
if [ "$rc" = 0 ] && grep -qxF "Xen ELF notes: 0 (not a bootable Xen image)" "$work/out" &&
   grep -qxF "  not PV: no Xen ELF notes" "$work/out"; then
	ok "valid-elf64.elf: --inspect text says it is not a bootable Xen image"
else
	bad "valid-elf64.elf: --inspect Xen notes: $(grep -A3 'Xen ELF' "$work/out")"
fi

# text output
run --inspect "$v64"
if [ "$rc" = 0 ] && grep -q "buf-count 16 (vring num), buf-size 512 (default)" "$work/out" &&
   grep -q "vring 1: da 0x00014000 align 4096 num 16 notifyid 2" "$work/out" &&
   grep -q "memory 34 MiB" "$work/out"; then
	ok "valid-elf64.elf: --inspect text"
else
	bad "valid-elf64.elf: --inspect text (exit $rc)"
fi

# ------------------------------------------------------------ command line
expect() { # label want-rc substring-of-stderr (may be empty)
	if [ "$rc" = "$2" ] && grep -qF -- "$3" "$work/err"; then
		ok "$1: exit $rc"
	else
		bad "$1: exit $rc, want $2 and '$3': $(head -n 2 "$work/err")"
	fi
}
run;                                   expect "no arguments" 2 "give one action"
run --inspect;                         expect "--inspect without FILE" 2 "missing FILE"
run --inspect "$v64" "$v32";           expect "two files" 2 "exactly one FILE"
run --inspect --buf-size 100 "$v64";   expect "--buf-size 100" 2 "multiple of 16"
run --inspect --bogus "$v64";          expect "unknown option" 2 "bad option"
run --xl fw --json "$v64";             expect "--json with --xl" 2 "--json goes with --inspect"
run --xl 'a/b' --dry-run "$v64";       expect "bad domain name" 2 "a name is"
run --inspect "$work/nonexistent.elf"; expect "missing file" 1 "cannot open"
run --help
if [ "$rc" = 0 ] && grep -q "^Exit status:" "$work/out" && grep -q "  9  boot failure" "$work/out"; then
	ok "--help: exit 0, lists the exit codes"
else
	bad "--help (exit $rc)"
fi

# ------------------------------------------------------------ --xl
# The Xen boot targets take the guest type from the image's Xen ELF notes
# (corpus xen-*.elf) and what the host runs: a stub xl answers `xl info`
# with virt_caps $STUB_CAPS (default: those of tests/xen, no HAP; empty:
# no virt_caps line, as without Xen) and records the arguments of
# `xl create`.
xpv=$corpus/xen-pv.elf
stub=$work/xl-stub
{
	echo '#!/bin/sh'
	echo 'case $1 in'
	echo 'info) [ -z "${STUB_CAPS-x}" ] || printf "xen_version : 4.17.7\nvirt_caps : %s\n" "${STUB_CAPS-pv hvm gnttab-v1 gnttab-v2}" ;;'
	echo "*) echo \"\$@\" >\"$work/xl-args\" ;;"
	echo 'esac'
} >"$stub"
chmod +x "$stub"
XENAMP_XL=$stub; export XENAMP_XL
kernel=$(cd "$corpus" && pwd -P)/xen-pv.elf
cfg=$work/fw1.cfg
run --xl fw1 --dry-run --out "$cfg" --template "$TEMPLATE" "$xpv"
expect "--xl dry run" 0 "wrote $cfg"
for want in 'name = "fw1"' 'type = "pv"' 'memory = 34' "kernel = \"$kernel\"" 'extra = ""' \
	    'buf-count 16 (vring num), buf-size 512 bytes'; do
	if grep -qF -- "$want" "$cfg" 2>/dev/null; then ok "fw1.cfg has: $want"
	else bad "fw1.cfg lacks: $want"; fi
done
if grep -q '@[A-Z_]*@' "$cfg"; then bad "fw1.cfg: placeholder left"; else ok "fw1.cfg: no placeholder left"; fi
if grep -qxF "xenamp-load: fw1: guest type pv (image: pv; host: pv, from xl info: virt_caps)" "$work/err"; then
	ok "--xl says the guest type and why"
else
	bad "--xl guest type line: $(cat "$work/err")"
fi

run --xl fw1 --dry-run --out "$cfg" --template "$TEMPLATE" "$xpv"
expect "--xl existing config without --force" 9 "use --force"
run --xl fw1 --dry-run --force --memory 64 --extra "console=hvc0 quiet" --out "$cfg" --template "$TEMPLATE" "$xpv"
expect "--xl --force --memory --extra" 0 "wrote"
if grep -qF 'memory = 64' "$cfg" && grep -qF 'extra = "console=hvc0 quiet"' "$cfg"; then
	ok "fw1.cfg: --memory and --extra applied"
else
	bad "fw1.cfg: --memory / --extra not applied"
fi
run --xl fw1 --dry-run --extra 'a"b' --out "$work/q.cfg" --template "$TEMPLATE" "$xpv"
expect "--extra with a quote" 9 "--extra contains"

run --xl fw3 --dry-run --out - --template "$TEMPLATE" "$xpv"
if [ "$rc" = 0 ] && grep -qF 'name = "fw3"' "$work/out" && grep -qF 'memory = 34' "$work/out"; then
	ok "--xl --out - writes the config to stdout"
else
	bad "--xl --out - (exit $rc)"
fi
run --xl fw3 --out - --template "$TEMPLATE" "$xpv"
expect "--out - without --dry-run" 2 "needs --dry-run"

printf 'name = "@NAME@"\nfoo = @NOPE@\n' >"$work/bad.cfg.in"
run --xl fw4 --dry-run --out "$work/fw4.cfg" --template "$work/bad.cfg.in" "$xpv"
expect "template with an unknown placeholder" 9 "line 2: unknown placeholder @NOPE@"
if [ -e "$work/fw4.cfg" ]; then bad "fw4.cfg written despite the bad template"; else ok "fw4.cfg not written"; fi

run --xl fw5 --dry-run --out "$work/fw5.cfg" --template "$TEMPLATE" "$corpus/vring-num3.elf"
expect "--xl on a malformed firmware" 8 "not a power of two"
if [ -e "$work/fw5.cfg" ]; then bad "fw5.cfg written for a malformed firmware"; else ok "fw5.cfg not written"; fi

# Not bootable: exit 10, ONE line naming the file and the reason, no
# config written, xl create not run.
# xl_refused LABEL FILE LINE-AFTER-"xenamp-load: FILE: "
xl_refused() {
	rm -f "$work/xl-args" "$work/nx.cfg"
	run --xl nx --out "$work/nx.cfg" --template "$TEMPLATE" "$2"
	nl=$(wc -l <"$work/err" | tr -d ' ')
	if [ "$rc" = 10 ] && [ "$nl" = 1 ] && [ "$(cat "$work/err")" = "xenamp-load: $2: $3" ] &&
	   [ ! -e "$work/nx.cfg" ] && [ ! -e "$work/xl-args" ]; then
		ok "$1: exit 10, one line: $3"
	else
		bad "$1: exit $rc, $nl lines, want 10 and '$3': $(cat "$work/err")"
	fi
}
xl_refused "--xl, ELF without Xen notes" "$v64" \
	"not a bootable Xen image: not PV: no Xen ELF notes; not PVH: no XEN_ELFNOTE_PHYS32_ENTRY note"
xl_refused "--xl, ELF32 Arm" "$v32" \
	"not a bootable Xen image: not PV: a PV guest is an ELF64 x86-64 image; not PVH: a PVH guest is an x86 image"
xl_refused "--xl, a Xen note cut by its segment" "$corpus/xen-cut-note.elf" \
	"not a bootable Xen image: the ELF note at file offset 0x478 does not fit in its PT_NOTE segment"
xl_refused "--xl, PVH-only image on a host without HAP" "$corpus/xen-pvh.elf" \
	"boots only as a PVH guest, which this host does not run (xl info: virt_caps; PVH needs HVM with HAP or shadow paging)"
STUB_CAPS="hvm hap"; export STUB_CAPS
xl_refused "--xl, PV image on a host without PV" "$xpv" \
	"boots only as a PV guest, which this host does not run (xl info: virt_caps)"
unset STUB_CAPS

# xl_type LABEL FILE CAPS TYPE: the type line of the generated config
xl_type() {
	STUB_CAPS=$3; export STUB_CAPS
	run --xl ty --dry-run --out - --template "$TEMPLATE" "$2"
	unset STUB_CAPS
	if [ "$rc" = 0 ] && grep -qxF "type = \"$4\"" "$work/out"; then
		ok "$1: type = \"$4\""
	else
		bad "$1: exit $rc, $(grep '^type' "$work/out") $(cat "$work/err")"
	fi
}
xl_type "PV image, host with HAP" "$xpv" "pv hvm hap shadow" pv
xl_type "PVH image, host with HAP" "$corpus/xen-pvh.elf" "pv hvm hap" pvh
xl_type "Linux-like image (PV and PVH), host without HAP" "$corpus/xen-linux.elf" "pv hvm" pv
xl_type "Linux-like image (PV and PVH), host with HAP" "$corpus/xen-linux.elf" "pv hvm hap" pv
xl_type "Linux-like image (PV and PVH), host without PV" "$corpus/xen-linux.elf" "hvm hap" pvh
xl_type "Linux-like image, xl info says nothing (no Xen)" "$corpus/xen-linux.elf" "" pv
xl_type "PVH image, xl info says nothing" "$corpus/xen-pvh.elf" "" pvh

run --xl fw2 --out "$work/fw2.cfg" --template "$TEMPLATE" "$xpv"
expect "--xl runs xl create" 0 "wrote $work/fw2.cfg"
if [ "$(cat "$work/xl-args" 2>/dev/null)" = "create $work/fw2.cfg" ]; then
	ok "xl called as: xl create $work/fw2.cfg"
else
	bad "xl called as: '$(cat "$work/xl-args" 2>/dev/null)'"
fi
XENAMP_XL=false
run --xl fw6 --out "$work/fw6.cfg" --template "$TEMPLATE" "$xpv"
expect "xl create failing" 9 "failed with exit status 1"
XENAMP_XL=$work/no-such-xl
run --xl fw7 --out "$work/fw7.cfg" --template "$TEMPLATE" "$xpv"
expect "xl missing" 9 "cannot run"
XENAMP_XL=$stub

# ------------------------------------------------------------ example firmware
# src/tools/xenamp-echo-fw: the echo service with a .resource_table
fw=${XENAMP_ECHO_FW:-$top_builddir/src/tools/xenamp-echo-fw}
BACKEND=$top_builddir/src/backend/xenamp-backend
CTL=$top_builddir/src/tools/xenampctl
ECHO_CLIENT=$top_builddir/src/tools/xenamp-echo-client
j=$work/echo-fw.json
"$LOAD" --inspect --json "$fw" >"$j" 2>"$work/err"
rc=$?
if [ "$rc" = 0 ] && [ ! -s "$work/err" ]; then ok "xenamp-echo-fw: --inspect --json exit 0"
else bad "xenamp-echo-fw: --inspect exit $rc: $(cat "$work/err")"; fi
L=xenamp-echo-fw
check $L "$j" resource_table.num 2
check $L "$j" resource_table.entries.0.type carveout
check $L "$j" resource_table.entries.0.len 1048576
check $L "$j" resource_table.entries.1.type vdev
check $L "$j" resource_table.entries.1.id 7
check $L "$j" resource_table.entries.1.features '["VIRTIO_RPMSG_F_NS"]'
check $L "$j" resource_table.entries.1.num_of_vrings 2
check $L "$j" resource_table.entries.1.vrings.0.num 256
check $L "$j" resource_table.entries.1.vrings.1.align 4096
check $L "$j" link.buf_count 256
check $L "$j" link.buf_size 512
check $L "$j" domain.memory_mib 32
run --inspect "$fw"
if [ "$rc" = 0 ] && grep -q "id 7 (rpmsg), notifyid 0, dfeatures 0x1 (NS)" "$work/out" &&
   grep -q "buf-count 256 (vring num), buf-size 512 (default)" "$work/out"; then
	ok "xenamp-echo-fw: --inspect text"
else
	bad "xenamp-echo-fw: --inspect text (exit $rc)"
fi

# ------------------------------------------------------------ boot options
# Whether this xenamp-load has libvirt comes from the build's config.h, not
# from the loader's own answers: each build must give its own right answer.
# A build without libvirt refuses --libvirt as soon as it reads it (exit 9),
# before any check of the other options.
if [ -n "${XENAMP_HAVE_LIBVIRT:-}" ]; then
	have_lv=$XENAMP_HAVE_LIBVIRT
elif [ -f "$top_builddir/config.h" ]; then
	if grep -q '^#define HAVE_LIBVIRT 1' "$top_builddir/config.h"; then have_lv=yes; else have_lv=no; fi
else
	echo "FAIL: no $top_builddir/config.h; set XENAMP_HAVE_LIBVIRT=yes|no"
	exit 1
fi
run --libvirt test:///default "$v64"
if [ "$have_lv" = yes ]; then
	expect "--libvirt without --name" 2 "needs --name"
else
	expect "--libvirt without --name, built without libvirt" 9 "built without libvirt"
fi
run --xl fw --name x --dry-run "$v64";   expect "--name with --xl" 2 "--name goes with --libvirt"
run --inspect --peer host "$v64";        expect "--peer with --inspect" 2 "go with a boot target"
run --local fw --peer 'a b' "$fw";       expect "--peer bad" 2 "want PARTITION[:DEVNO]"
run --local fw --out x.cfg "$fw";        expect "--local --out" 2 "do not apply to --local"
run --local fw --socket "$work/none.sock" "$v32"
expect "--local of an Arm ELF" 9 "runs programs of this machine only"

# --local, dry run: the command, and what would be registered
run --local fw --dry-run --socket "$work/none.sock" --extra "-q" "$fw"
fwabs=$(cd "$(dirname "$fw")" && pwd -P)/$(basename "$fw")
if [ "$rc" = 0 ] && grep -qxF "XENAMP_PARTITION=fw XENAMP_SOCKET=$work/none.sock XENAMP_TRANSPORT=local $fwabs -q" "$work/out" &&
   grep -qF "would register link fw (end-a host, end-b fw:0, buf-size 512, buf-count 256)" "$work/err"; then
	ok "--local --dry-run: command and registration"
else
	bad "--local --dry-run (exit $rc): $(cat "$work/out" "$work/err")"
fi
run --local fw --socket "$work/none.sock" "$fw"
expect "--local without a backend" 9 "no xenamp-backend at $work/none.sock"

# --local with a backend: registered (dynamic link), started, echoes
if [ -x "$BACKEND" ] && [ -x "$CTL" ] && [ -x "$ECHO_CLIENT" ]; then
	S=$work/be.sock
	printf '[backend]\ndynamic-links = 2\n[link other]\nend-a = dsp\nend-b = dsp2\n' >"$work/be.conf"
	"$BACKEND" -f -c "$work/be.conf" -s "$S" >"$work/be.log" 2>&1 &
	be_pid=$!
	i=0; while [ ! -S "$S" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	"$LOAD" --local fw --link echo --peer host --socket "$S" --extra -q "$fw" >"$work/fw.out" 2>"$work/fw.err" &
	fw_pid=$!
	# fw_state: "LINK STATE" of end fw:0, from xenampctl --json status
	fw_state() {
		"$CTL" -s "$S" --json status 2>/dev/null | "$PY" -c '
import json, sys
for l in json.load(sys.stdin)["links"]:
    for e in l["ends"]:
        if e["partition"] == "fw" and e["devno"] == 0:
            print(l["name"], e["state"])'
	}
	i=0
	while [ "$(fw_state)" != "echo Connected" ] && [ $i -lt 100 ]; do
		sleep 0.05; i=$((i + 1))
	done
	if grep -qF "link echo (end-a host, end-b fw:0, buf-size 512, buf-count 256) registered with xenamp-backend: added" "$work/fw.err" &&
	   [ "$(fw_state)" = "echo Connected" ]; then
		ok "--local: link echo added to the backend, partition fw Connected"
	else
		bad "--local: $(cat "$work/fw.err") / $(fw_state)"
	fi
	if XENAMP_PARTITION=host "$ECHO_CLIENT" -S "$S" -n 20 -q >"$work/ec.out" 2>&1; then
		ok "--local: host echoes through fw: $(tail -n 1 "$work/ec.out")"
	else
		bad "--local: echo client: $(cat "$work/ec.out")"
	fi
	run --local fw2 --link echo2 --peer host --socket "$S" "$fw"
	expect "--local: host:0 already taken" 9 "end host:0 already belongs to link echo"
	# --xl registers too (stub xl); the same link again is "exists"
	# --xl boots a Xen image: xen-pv-256.elf carries the same link
	# parameters as xenamp-echo-fw (256 buffers of 512 bytes)
	x256=$corpus/xen-pv-256.elf
	run --xl fw --link echo --socket "$S" --out "$work/fwx.cfg" --template "$TEMPLATE" "$x256"
	expect "--xl registers: same link exists" 0 "registered with xenamp-backend: exists"
	run --xl fw3 --peer dsp3 --socket "$S" --out "$work/fw3x.cfg" --template "$TEMPLATE" "$x256"
	expect "--xl registers a second dynamic link" 0 "registered with xenamp-backend: added"
	run --xl fw5 --peer dsp5 --socket "$S" --out "$work/fw5x.cfg" --template "$TEMPLATE" "$x256"
	expect "--xl: third dynamic link refused (dynamic-links = 2)" 9 "raise dynamic-links"
	run --xl fw4 --no-register --socket "$S" --out "$work/fw4x.cfg" --template "$TEMPLATE" "$x256"
	expect "--xl --no-register" 0 "--no-register"
	kill "$fw_pid" 2>/dev/null; wait "$fw_pid" 2>/dev/null
	kill "$be_pid" 2>/dev/null; wait "$be_pid" 2>/dev/null
else
	bad "--local with a backend: backend, xenampctl or echo client not built"
fi

# ------------------------------------------------------------ --libvirt
XTPL=$top_srcdir/xen-configs/firmware.xml.in
# the Xen twin of xenamp-echo-fw (Xen PV notes, the same link parameters)
x256=$corpus/xen-pv-256.elf
x256abs=$(cd "$corpus" && pwd -P)/xen-pv-256.elf
if [ "$have_lv" = yes ]; then
	run --libvirt test:///default --name fwlv --link echo --peer host:1 --dry-run \
		--socket "$work/none.sock" --template "$XTPL" "$x256"
	if [ "$rc" = 0 ] && grep -qF '<name>fwlv</name>' "$work/out" &&
	   grep -qF "<kernel>$x256abs</kernel>" "$work/out" &&
	   grep -qF "<type arch='x86_64' machine='xenpv'>linux</type>" "$work/out" &&
	   grep -qF '<xenamp:link xmlns:xenamp="https://xenamp.example/ns/1" name="echo" peer="host:1" devno="0" buf-size="512" buf-count="256"/>' "$work/out" &&
	   ! grep -q '@[A-Z_]*@' "$work/out"; then
		ok "--libvirt --dry-run prints the domain XML with the xenamp metadata"
	else
		bad "--libvirt --dry-run (exit $rc): $(cat "$work/err")"
	fi
	# test:///default lives in xenamp-load's own process: define + start work
	run --libvirt test:///default --name fwlv --socket "$work/none.sock" --template "$XTPL" "$x256"
	if [ "$rc" = 0 ] && grep -q "<domain type='xen' id='[0-9]*'>" "$work/out" &&
	   grep -qF '<name>fwlv</name>' "$work/out" &&
	   grep -qF 'xenamp:link' "$work/out" &&
	   grep -qF "xenamp-load: fwlv: defined and started on test:///default" "$work/err" &&
	   grep -qF "warning: link fwlv not registered: no xenamp-backend" "$work/err"; then
		ok "--libvirt test:///default: defined and started, domain XML printed"
	else
		bad "--libvirt test:///default (exit $rc): $(cat "$work/err")"
	fi
	# test:///default runs os_type xen (PV) guests, not xenpvh
	run --libvirt test:///default --name fwpvh --socket "$work/none.sock" --template "$XTPL" "$corpus/xen-pvh.elf"
	if [ "$rc" = 10 ] && [ "$(cat "$work/err")" = "xenamp-load: $corpus/xen-pvh.elf: boots only as a PVH guest, which this host does not run (test:///default: capabilities; PVH needs HVM with HAP or shadow paging)" ]; then
		ok "--libvirt: a PVH-only image on a URI without xenpvh: exit 10, one line"
	else
		bad "--libvirt PVH-only on test:///default: exit $rc: $(cat "$work/err")"
	fi
	run --libvirt test:///default --name fwnx --dry-run --template "$XTPL" "$v64"
	expect "--libvirt --dry-run, ELF without Xen notes" 10 "not a bootable Xen image: not PV: no Xen ELF notes"
	run --libvirt test:///default --name 'fw&' "$x256"
	expect "--libvirt bad --name" 2 "a name is"
	run --libvirt nosuch:///x --name fwlv --socket "$work/none.sock" --template "$XTPL" "$x256"
	expect "--libvirt bad URI" 9 "cannot connect to nosuch:///x"
else
	# Every --libvirt request is refused with the same line, whatever
	# else the command line holds, and nothing is printed on stdout.
	run --libvirt test:///default --name fwlv --dry-run --template "$XTPL" "$x256"
	expect "--libvirt --dry-run, built without libvirt" 9 "this xenamp-load was built without libvirt"
	if [ ! -s "$work/out" ]; then ok "--libvirt, built without libvirt: nothing on stdout"
	else bad "--libvirt, built without libvirt: stdout: $(head -n 2 "$work/out")"; fi
fi

echo "$pass passed, $fail failed"
if [ "$fail" -ne 0 ]; then
	echo "corpus and outputs kept in $work"
	exit 1
fi
rm -rf "$work"
exit 0
