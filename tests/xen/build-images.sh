#!/bin/bash
# Build the boot images for tests/xen from the packages that
# fetch-packages.sh unpacked:
#   $WORK/xen.elf          the hypervisor (Debian's xen-4.17-amd64.gz, gunzipped:
#                          QEMU's multiboot loader wants a plain ELF)
#   $WORK/dom0-kernel      Debian's kernel, booted as dom0 (decompressed, see
#                          XENAMP_XEN_KERNEL_FORMAT)
#   $WORK/dom0.cpio.gz     dom0 initramfs: busybox, the Xen toolstack and its
#                          libraries, libvirtd with the libxl driver and
#                          virsh, xen modules, the xl configs from
#                          xen-configs/, the domU kernel (with a resource
#                          table, for xenamp-load) and initramfs, the
#                          scenario, and $XENAMP_DOM0_EXTRA
#   $WORK/domu.cpio.gz     domU initramfs: busybox, xenstore-utils, the frontend
#                          modules, and $XENAMP_DOMU_EXTRA
#
# Env:
#   XENAMP_XEN_CACHE     unpacked packages (default <this dir>/.cache)
#   XENAMP_XEN_WORK      output directory (default <this dir>/.work)
#   XENAMP_DOM0_EXTRA    directory copied into the dom0 image root (its ELF
#                        files get their shared libraries added); a top-level
#                        scenario.sh in it becomes the scenario
#   XENAMP_DOMU_EXTRA    directory copied into the domU image root; put the
#                        guest hook at opt/xenamp/domu-init.sh
#   XENAMP_SCENARIO      scenario file (wins over $XENAMP_DOM0_EXTRA/scenario.sh;
#                        default: scenario-smoke.sh)
#   XENAMP_DOM0_MODULES, XENAMP_DOMU_MODULES
#                        extra kernel modules (names, space separated)
#   XENAMP_XEN_KERNEL_FORMAT  vmlinux (default: the kernel decompressed to a
#                        plain ELF, for dom0 and the domUs: Xen and xl create
#                        then skip an xz decompression that takes seconds
#                        under emulation) or bzimage
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=${XENAMP_XEN_CACHE:-$HERE/.cache}
TREE=$CACHE/root
WORK=${XENAMP_XEN_WORK:-$HERE/.work}
DOM0_EXTRA=${XENAMP_DOM0_EXTRA:-}
DOMU_EXTRA=${XENAMP_DOMU_EXTRA:-}
SCENARIO=${XENAMP_SCENARIO:-}
DOM0_MODULES="xen-privcmd xen-evtchn xenfs xen-gntdev xen-gntalloc ${XENAMP_DOM0_MODULES:-}"
DOMU_MODULES="xen-evtchn xen-gntalloc ${XENAMP_DOMU_MODULES:-}"
KERNEL_FORMAT=${XENAMP_XEN_KERNEL_FORMAT:-vmlinux}
LIBDIR=usr/lib/x86_64-linux-gnu
XENBIN=usr/lib/xen-4.17/bin

log() { echo "build-images: $*" >&2; }
die() { echo "build-images: ERROR: $*" >&2; exit 1; }

# --- inputs --------------------------------------------------------------------
[ -f "$TREE/.xenamp-fetched" ] \
  || die "no unpacked Debian packages in $TREE: run tests/xen/fetch-packages.sh first (same XENAMP_XEN_CACHE)"
for t in cpio gzip ldd od grep; do
  command -v "$t" >/dev/null || die "host tool '$t' missing (apt-get install cpio gzip libc-bin coreutils grep)"
done
kvers=("$TREE"/lib/modules/*)
[ ${#kvers[@]} = 1 ] && [ -d "${kvers[0]}" ] \
  || die "expected exactly one kernel in $TREE/lib/modules, found: ${kvers[*]##*/} (rerun fetch-packages.sh with XENAMP_XEN_REFRESH=1)"
KVER=${kvers[0]##*/}
KMOD=$TREE/lib/modules/$KVER
KERNEL=$TREE/boot/vmlinuz-$KVER
[ -f "$KERNEL" ] || die "kernel $KERNEL missing from the unpacked packages"
for d in DOM0_EXTRA DOMU_EXTRA; do
  v=${!d}
  if [ -n "$v" ]; then
    [ -d "$v" ] || die "XENAMP_${d} is set to '$v', which is not a directory"
    printf -v "$d" '%s' "$(cd "$v" && pwd)"
  fi
done
if [ -z "$SCENARIO" ]; then
  if [ -n "$DOM0_EXTRA" ] && [ -f "$DOM0_EXTRA/scenario.sh" ]; then
    SCENARIO=$DOM0_EXTRA/scenario.sh
  else
    SCENARIO=$HERE/scenario-smoke.sh
  fi
fi
[ -f "$SCENARIO" ] || die "scenario '$SCENARIO' not found"
# The xl configs of the two test domains; the domU kernel and initramfs are
# installed at the paths they name.
CFGS=("$REPO/xen-configs/host.cfg" "$REPO/xen-configs/fw.cfg")
for c in "${CFGS[@]}"; do
  [ -f "$c" ] || die "xl config $c missing (the test boots the domains host and fw from xen-configs/)"
done

mkdir -p "$WORK/cache"
WORK=$(cd "$WORK" && pwd)

# --- helpers -------------------------------------------------------------------
is_elf() { [ "$(od -An -tx1 -N4 "$1" 2>/dev/null | tr -d ' \n')" = 7f454c46 ]; }

# new_root DIR: an empty merged-/usr tree with busybox and its applets.
new_root() {
  local r=$1 a
  rm -rf "$r"
  mkdir -p "$r"/{usr/bin,usr/lib64,$LIBDIR,etc/xenamp,proc,sys,dev,run,tmp,root,var/log,var/lib,opt/xenamp,boot}
  ln -s usr/bin "$r/bin"
  ln -s usr/bin "$r/sbin"
  ln -s bin "$r/usr/sbin"
  ln -s usr/lib "$r/lib"
  ln -s usr/lib64 "$r/lib64"
  ln -s ../run "$r/var/run"
  ln -s ../run/lock "$r/var/lock"
  cp "$TREE/bin/busybox" "$r/usr/bin/busybox"
  for a in $("$TREE/bin/busybox" --list); do
    [ "$a" = busybox ] || [ -e "$r/usr/bin/$a" ] || ln -s busybox "$r/usr/bin/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\n' > "$r/etc/passwd"
  printf 'root:x:0:\n' > "$r/etc/group"
}

# from_tree ROOT REL...: copy files of the unpacked packages to the same path.
from_tree() {
  local r=$1 rel; shift
  for rel in "$@"; do
    [ -e "$TREE/$rel" ] || die "$TREE/$rel missing from the unpacked packages"
    mkdir -p "$r/$(dirname "$rel")"
    rm -f "$r/$rel"
    cp -L --preserve=mode "$TREE/$rel" "$r/$rel"
  done
}

# add_libs ROOT SEARCH_EXTRA FILE...: copy the shared libraries (and the ELF
# interpreter) that ldd resolves for each dynamic ELF FILE into ROOT. The
# unpacked Debian libraries win over the host's; SEARCH_EXTRA (a directory
# already copied into ROOT, or empty) is searched after them and its own files
# are not copied again.
add_libs() {
  local r=$1 extra=$2 f out line name path ldpath dest
  shift 2
  ldpath=$TREE/$LIBDIR:$TREE/lib/x86_64-linux-gnu
  if [ -n "$extra" ]; then
    ldpath+=:$extra/opt/xenamp/lib:$extra/usr/local/lib:$extra/$LIBDIR:$extra/usr/lib
  fi
  for f in "$@"; do
    is_elf "$f" || continue
    if ! out=$(LD_LIBRARY_PATH=$ldpath ldd "$f" 2>&1); then
      case $out in
        *"not a dynamic executable"*|*"statically linked"*) continue ;;
      esac
      die "ldd $f failed: $out"
    fi
    if grep -q 'not found' <<<"$out"; then
      die "$f needs shared libraries found neither in the unpacked Debian packages ($TREE) nor on the host:
$(grep 'not found' <<<"$out")
Install them on the host (apt-get install ...) or put them into the extra directory's $LIBDIR."
    fi
    while read -r line; do
      case $line in
        *' => '/*) name=${line%% *}; path=${line#* => }; path=${path% (*}
                   dest=$r/$LIBDIR/$name ;;
        /*' ('*)   path=${line% (*}; dest=$r$path ;;      # the ELF interpreter
        *) continue ;;
      esac
      [ -n "$extra" ] && [ "${path#"$extra"/}" != "$path" ] && continue
      [ -e "$dest" ] && continue
      mkdir -p "$(dirname "$dest")"
      cp -L "$path" "$dest" || die "cannot copy library $path (needed by $f)"
    done <<<"$out"
  done
}

# add_lib_by_name ROOT SONAME: a library loaded with dlopen (ldd cannot see it).
add_lib_by_name() {
  local r=$1 n=$2 p
  [ -e "$r/$LIBDIR/$n" ] && return 0
  for p in "$TREE/$LIBDIR/$n" "$TREE/lib/x86_64-linux-gnu/$n" \
           "$(ldconfig -p | awk -v n="$n" '$1 == n && /x86-64/ { print $NF; exit }')"; do
    if [ -n "$p" ] && [ -e "$p" ]; then
      cp -L "$p" "$r/$LIBDIR/$n"
      return 0
    fi
  done
  die "library $n not found in $TREE or on the host (apt-get install libgcc-s1)"
}

# add_extra ROOT DIR: copy DIR's contents into ROOT (keeping ROOT's directory
# symlinks such as bin -> usr/bin), then the libraries of its ELF files.
add_extra() {
  local r=$1 x=$2
  [ -n "$x" ] || return 0
  tar -C "$x" --exclude=./scenario.sh -cf - . \
    | tar -C "$r" --keep-directory-symlink --no-same-owner -xf - \
    || die "copying $x into the image failed"
  local files=()
  while IFS= read -r -d '' f; do
    is_elf "$f" && files+=("$f")
  done < <(find "$x" -type f -print0)
  ((${#files[@]} == 0)) || add_libs "$r" "$x" "${files[@]}"
  log "added $(find "$x" -type f | wc -l) files from $x (${#files[@]} ELF)"
}

# Module lookup: name (with - or _) -> path relative to $KMOD.
declare -A MODPATH=()
while IFS= read -r -d '' p; do
  n=${p##*/}; n=${n%%.ko*}; n=${n//-/_}
  MODPATH[$n]=${p#"$KMOD"/}
done < <(find "$KMOD" -name '*.ko*' -print0)

# add_modules ROOT NAME...: copy modules and their dependencies (from the
# .modinfo "depends=" field); write their load order to ROOT/etc/xenamp/modules.
add_modules() {
  local r=$1 m
  shift
  local -A seen=()
  local order=()
  visit() {
    local n=${1//-/_} rel deps d
    [ -n "${seen[$n]:-}" ] && return 0
    seen[$n]=1
    rel=${MODPATH[$n]:-}
    [ -n "$rel" ] || die "kernel module '$1' not found under $KMOD"
    case $rel in *.ko) ;; *) die "module $rel is compressed; this harness only loads plain .ko files" ;; esac
    deps=$(tr '\0' '\n' < "$KMOD/$rel" | sed -n 's/^depends=//p' | head -n1)
    for d in ${deps//,/ }; do visit "$d"; done
    order+=("$rel")
  }
  for m in "$@"; do visit "$m"; done
  : > "$r/etc/xenamp/modules"
  for rel in "${order[@]}"; do
    mkdir -p "$r/lib/modules/$KVER/$(dirname "$rel")"
    cp "$KMOD/$rel" "$r/lib/modules/$KVER/$rel"
    echo "$rel" >> "$r/etc/xenamp/modules"
  done
}

# mkcpio DIR OUT [RAW...]: newc archive of DIR, owned by root, gzip-compressed.
# The files RAW (paths relative to DIR, e.g. the 66 MB domU vmlinux) go
# uncompressed into a first cpio segment instead (with their parent
# directories): the kernel unpacks concatenated archives, and copying is much
# cheaper than gunzip under emulation.
mkcpio() {
  local d=$1 out=$2 f p
  shift 2
  local raw=() excl=()
  for f in "$@"; do
    p=$(dirname "$f")
    while [ "$p" != . ] && [ "$p" != / ]; do raw+=("./$p"); p=$(dirname "$p"); done
  done
  for f in "$@"; do raw+=("./$f"); excl+=(! -path "./$f"); done
  : > "$out.tmp"
  if ((${#raw[@]})); then
    (cd "$d" && printf '%s\0' "${raw[@]}" | LC_ALL=C sort -zu \
       | cpio --null -o -H newc -R 0:0 --quiet) >> "$out.tmp" \
      || die "creating the uncompressed part of $out failed"
  fi
  (cd "$d" && find . -mindepth 1 "${excl[@]}" -print0 | LC_ALL=C sort -z \
     | cpio --null -o -H newc -R 0:0 --quiet) | gzip -1 >> "$out.tmp" \
    || die "creating $out failed"
  mv "$out.tmp" "$out"
}

# extract_vmlinux BZIMAGE OUT: like Linux's scripts/extract-vmlinux: find a
# compressed stream's magic, decompress from there, keep the first result
# that is an ELF file. Prints the compressor used.
extract_vmlinux() {
  local img=$1 out=$2 tmp=$2.tmp spec tool magic cmd pos
  for spec in 'xz|\xfd7zXZ\x00|xz -dc --single-stream' 'zstd|\x28\xb5\x2f\xfd|zstd -dcq' \
              'gzip|\x1f\x8b\x08|gzip -dc' 'lz4|\x02\x21\x4c\x18|lz4 -dcq' 'bzip2|BZh|bzip2 -dcq'; do
    IFS='|' read -r tool magic cmd <<<"$spec"
    command -v "$tool" >/dev/null || continue
    for pos in $(LC_ALL=C grep -obUaP "$magic" "$img" | cut -d: -f1 | head -n 8); do
      { tail -c "+$((pos + 1))" "$img" | $cmd > "$tmp"; } 2>/dev/null || true
      if is_elf "$tmp"; then
        mv "$tmp" "$out"
        echo "$tool"
        return 0
      fi
    done
  done
  rm -f "$tmp"
  return 1
}

# le32 N...: N as 4 little-endian bytes each, on stdout.
le32() {
  local v
  for v in "$@"; do
    # shellcheck disable=SC2059
    printf "\\x$(printf %02x $((v & 255)))\\x$(printf %02x $((v >> 8 & 255)))\\x$(printf %02x $((v >> 16 & 255)))\\x$(printf %02x $((v >> 24 & 255)))"
  done
}

# rsc_table NUM: an OpenAMP resource table (include/xenamp/rsc_table.h) with
# one RPMsg vdev (virtio id 7, name service feature) whose two vrings have
# NUM buffers each, on stdout.
rsc_table() {
  le32 1 1 0 0 20                      # ver, num, reserved[2], offset[0]
  le32 3 7 2 1 0 0                     # RSC_VDEV, id, notifyid, dfeatures (NS), gfeatures, config_len
  le32 $((2 << 8))                     # status 0, num_of_vrings 2, reserved[2]
  le32 0xffffffff 4096 "$1" 0 0        # vring 0: da (any), align, num, notifyid, reserved
  le32 0xffffffff 4096 "$1" 1 0        # vring 1
}

# --- hypervisor and dom0 kernel ------------------------------------------------
if [ ! -s "$WORK/xen.elf" ] || [ "$TREE/boot/xen-4.17-amd64.gz" -nt "$WORK/xen.elf" ]; then
  gzip -dc "$TREE/boot/xen-4.17-amd64.gz" > "$WORK/xen.elf.tmp" || die "gunzip of xen-4.17-amd64.gz failed"
  mv "$WORK/xen.elf.tmp" "$WORK/xen.elf"
fi

# --- kernel for dom0 and the domUs ------------------------------------------------
DOMU_KERNEL=$KERNEL
if [ "$KERNEL_FORMAT" = vmlinux ]; then
  cached=$WORK/cache/vmlinux-$KVER
  if [ -s "$cached" ] && [ "$cached" -nt "$KERNEL" ]; then
    DOMU_KERNEL=$cached
  elif how=$(extract_vmlinux "$KERNEL" "$cached"); then
    log "domU kernel: decompressed $KERNEL ($how) to a plain vmlinux ELF"
    DOMU_KERNEL=$cached
  else
    log "WARNING: could not decompress $KERNEL to a vmlinux ELF; dom0 and the domUs boot the bzImage (slower)"
  fi
fi

rm -f "$WORK/dom0-kernel" "$WORK/vmlinuz-dom0"
ln "$DOMU_KERNEL" "$WORK/dom0-kernel" 2>/dev/null || cp "$DOMU_KERNEL" "$WORK/dom0-kernel"

# --- domU image ----------------------------------------------------------------
R=$WORK/domu-root
new_root "$R"
from_tree "$R" usr/bin/xenstore
for t in read write ls list exists rm watch chmod; do ln -s xenstore "$R/usr/bin/xenstore-$t"; done
add_libs "$R" "" "$R/usr/bin/xenstore"
add_modules "$R" $DOMU_MODULES
cp "$HERE/init-domu" "$R/init"
chmod 755 "$R/init"
add_extra "$R" "$DOMU_EXTRA"
mkcpio "$R" "$WORK/domu.cpio.gz"

# --- dom0 image ----------------------------------------------------------------
R=$WORK/dom0-root
new_root "$R"
XEN_TOOLS=(xl xenstored xenconsoled xen-init-dom0 xenconsole libxl-save-helper xenstore-control lsevtchn)
from_tree "$R" usr/bin/xenstore "${XEN_TOOLS[@]/#/$XENBIN/}" etc/xen/xl.conf
for t in read write ls list exists rm watch chmod; do ln -s xenstore "$R/usr/bin/xenstore-$t"; done
add_libs "$R" "" "$R/usr/bin/xenstore" "${XEN_TOOLS[@]/#/$R/$XENBIN/}"
add_lib_by_name "$R" libgcc_s.so.1   # glibc dlopens it for pthread_cancel (libxl)
add_modules "$R" $DOM0_MODULES
cp "$HERE/init-dom0" "$R/init"
chmod 755 "$R/init"
# xen-configs/ (xl configs, xenamp.conf; not the *.in templates) into
# /etc/xenamp, and the domU kernel and initramfs at the paths that
# host.cfg and fw.cfg name.
for c in "$REPO"/xen-configs/*; do
  case $c in *.in) continue ;; esac
  if [ -f "$c" ]; then cp "$c" "$R/etc/xenamp/"; fi
done
domu_paths=() raw_paths=()
for c in "${CFGS[@]}"; do
  for key in kernel ramdisk; do
    p=$(sed -n "s/^[[:space:]]*${key}[[:space:]]*=[[:space:]]*\"\([^\"]*\)\".*/\1/p" "$c" | head -n1)
    [ -n "$p" ] || die "$c has no $key=\"...\" line"
    [ "${p#/}" != "$p" ] || die "$c: $key path '$p' is not absolute"
    mkdir -p "$R$(dirname "$p")"
    if [ "$key" = kernel ]; then cp "$DOMU_KERNEL" "$R$p"; else cp "$WORK/domu.cpio.gz" "$R$p"; fi
    if [ "$c" = "${CFGS[0]}" ]; then domu_paths+=("$p"); fi
    if [ "$key" = kernel ]; then raw_paths+=("${p#/}"); fi
  done
done
# The domU kernel doubles as the "firmware" that xenamp-load boots through
# libvirt in the scenario: xenamp-load wants an ELF with a .resource_table
# whose RPMsg vdev gives the link's buffer count. The section is not
# allocated, so Xen's loader ignores it and xl boots the same file.
rsc_table 256 > "$WORK/cache/rsc_table.bin"
mapfile -t raw_paths < <(printf '%s\n' "${raw_paths[@]}" | sort -u)
for p in "${raw_paths[@]}"; do
  objcopy --add-section .resource_table="$WORK/cache/rsc_table.bin" \
    --set-section-flags .resource_table=contents,readonly "$R/$p" \
    || die "objcopy could not add a .resource_table section to the domU kernel $R/$p (apt-get install binutils)"
done
# libvirt's libxl driver: libvirtd (Debian 12 has no modular virtxend) loads
# connection-driver/libvirt_driver_libxl.so; the other drivers are left out.
LV_DRIVER=$LIBDIR/libvirt/connection-driver/libvirt_driver_libxl.so
from_tree "$R" usr/sbin/libvirtd usr/bin/virsh "$LV_DRIVER"
mkdir -p "$R/usr/share/libvirt"
# The driver must name the host CPU after a model of libvirt's CPU map, or
# it does not start ("Cannot find suitable CPU model"). QEMU's TCG has no
# VME, which even the smallest x86 model (486: fpu, pse, vme) wants, so the
# image's copy of that model does without it.
cp -r "$TREE/usr/share/libvirt/cpu_map" "$R/usr/share/libvirt/"
sed -i "/<feature name='vme'\/>/d" "$R/usr/share/libvirt/cpu_map/x86_486.xml"
grep -q "name='vme'" "$R/usr/share/libvirt/cpu_map/x86_486.xml" \
  && die "could not drop vme from libvirt's CPU model 486 ($R/usr/share/libvirt/cpu_map/x86_486.xml)"
add_libs "$R" "" "$R/usr/sbin/libvirtd" "$R/usr/bin/virsh" "$R/$LV_DRIVER"
# These 68 MB (most of it ICU's data, which libxml2 needs) stay in the
# gzip'd part, although gunzip makes dom0 boot about 4 s later: in the
# uncompressed part they no longer fit dom0's rootfs, a tmpfs of half the
# memory that the kernel and the initrd leave ("Initramfs unpacking failed:
# write error").
mkdir -p "$R"/etc/libvirt/libxl "$R"/var/lib/libvirt/libxl "$R"/var/log/libvirt/libxl
cat > "$R/etc/libvirt/libvirtd.conf" <<'EOF'
# tests/xen: libvirtd in dom0, for its libxl driver only. Clients are root
# on the local socket; no polkit in the image.
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:stderr"
EOF
cp "$HERE/domu-libvirt.xml.in" "$R/etc/xenamp/domu-libvirt.xml.in"
printf 'XENAMP_DOMU_KERNEL=%s\nXENAMP_DOMU_RAMDISK=%s\n' "${domu_paths[0]}" "${domu_paths[1]}" \
  > "$R/etc/xenamp/test.env"
cp "$HERE/scenario-lib.sh" "$R/opt/xenamp/scenario-lib.sh"
cp "$SCENARIO" "$R/opt/xenamp/scenario.sh"
chmod 755 "$R/opt/xenamp/scenario.sh"
add_extra "$R" "$DOM0_EXTRA"
mkcpio "$R" "$WORK/dom0.cpio.gz" "${raw_paths[@]}"

sz() { du -h --apparent-size "$1" | cut -f1; }
log "built in $WORK: xen.elf $(sz "$WORK/xen.elf"), dom0-kernel $(sz "$WORK/dom0-kernel"), dom0.cpio.gz $(sz "$WORK/dom0.cpio.gz"), domu.cpio.gz $(sz "$WORK/domu.cpio.gz"); domU kernel ${DOMU_KERNEL##*/}; scenario $SCENARIO"
