#!/bin/bash
# Fetch and unpack the Debian 12 packages that tests/xen boots: the Xen 4.17
# hypervisor, the Debian kernel (dom0 and domU), busybox-static, the Xen
# toolstack with its libraries, and libvirt's daemon with its libxl driver.
# Nothing is installed on the host: the .debs are
# unpacked with `dpkg -x` into $XENAMP_XEN_CACHE/root.
#
# Idempotent: once $XENAMP_XEN_CACHE/root/.xenamp-fetched exists and names
# the same package list (a hash of PKGS below), it does nothing (no apt query
# at all, so it works offline). A cache made from another list is fetched
# again. XENAMP_XEN_REFRESH=1 forces a new download (e.g. after Debian moved
# to a new kernel ABI).
#
# Env: XENAMP_XEN_CACHE (default: <this dir>/.cache), XENAMP_XEN_REFRESH.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${XENAMP_XEN_CACHE:-$HERE/.cache}
ROOT=$CACHE/root
STAMP=$ROOT/.xenamp-fetched

log() { echo "fetch-packages: $*" >&2; }
die() { echo "fetch-packages: ERROR: $*" >&2; exit 1; }

# Packages whose content the images use (see docs in tests/xen/README.md).
PKGS=(
  xen-hypervisor-4.17-amd64
  busybox-static
  xen-utils-4.17 xen-utils-common xenstore-utils libxen-dev
  libxenmisc4.17 libxencall1 libxendevicemodel1 libxenevtchn1
  libxenforeignmemory1 libxengnttab1 libxenhypfs1 libxenstore4
  libxentoolcore1 libxentoollog1 libyajl2
  # libvirt's libxl driver for dom0: libvirtd (Debian 12 ships no modular
  # virtxend), the driver module, virsh and the library. Only unpacked, so
  # libvirt-daemon's dependency on the QEMU driver is not pulled in.
  libvirt0 libvirt-daemon libvirt-daemon-driver-xen libvirt-clients
)
# The stamp records this hash: a cache fetched for another list is stale.
LIST_HASH=$(printf '%s\n' "${PKGS[@]}" | sha256sum | cut -c1-16)
# Host tools the harness runs (package:command).
HOST_PKGS=(qemu-system-x86:qemu-system-x86_64 cpio:cpio xz-utils:xz)

# --- host prerequisites ------------------------------------------------------
missing=()
for pc in "${HOST_PKGS[@]}"; do
  p=${pc%%:*} c=${pc#*:}
  if ! dpkg -s "$p" >/dev/null 2>&1 || ! command -v "$c" >/dev/null 2>&1; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then
    die "host packages missing: ${missing[*]}; install them: sudo apt-get install -y ${missing[*]}"
  fi
  log "installing host packages: ${missing[*]}"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
    apt-get update >&2 || die "apt-get update failed (is Debian's mirror reachable?)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2 \
      || die "apt-get install ${missing[*]} failed"
  fi
fi

# --- cached? -------------------------------------------------------------------
if [ "${XENAMP_XEN_REFRESH:-0}" != 1 ] && [ -f "$STAMP" ]; then
  if grep -qx "list=$LIST_HASH" "$STAMP"; then
    log "using cached packages in $CACHE ($(head -n1 "$STAMP"))"
    exit 0
  fi
  log "the cache in $CACHE was fetched for another package list; fetching again"
fi

# --- resolve the kernel that linux-image-amd64 depends on ----------------------
updated=0
apt_update_once() {
  if [ "$updated" = 0 ]; then
    log "running apt-get update"
    apt-get update >&2 || die "apt-get update failed (is Debian's mirror reachable? are you root?)"
    updated=1
  fi
}
resolve_kernel() {
  apt-cache depends linux-image-amd64 2>/dev/null \
    | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}
KPKG=$(resolve_kernel || true)
if [ -z "$KPKG" ]; then
  apt_update_once
  KPKG=$(resolve_kernel || true)
fi
[ -n "$KPKG" ] || die "cannot resolve the kernel package behind linux-image-amd64 (apt-cache depends linux-image-amd64 shows no linux-image-<version> dependency)"
log "kernel package: $KPKG"
ALL=("$KPKG" "${PKGS[@]}")

# --- download ----------------------------------------------------------------
mkdir -p "$CACHE"
DEBS=$CACHE/debs
rm -rf "$DEBS.tmp"
mkdir -p "$DEBS.tmp"
download() {
  (cd "$DEBS.tmp" && apt-get download -o APT::Sandbox::User=root "${ALL[@]}" >&2)
}
if ! download; then
  log "apt-get download failed; refreshing package lists and retrying"
  apt_update_once
  download || die "apt-get download ${ALL[*]} failed in $DEBS.tmp (check the mirror in /etc/apt/sources.list*; the packages come from bookworm and bookworm-security)"
fi
rm -rf "$DEBS"
mv "$DEBS.tmp" "$DEBS"

# --- unpack ------------------------------------------------------------------
rm -rf "$ROOT.tmp"
mkdir -p "$ROOT.tmp"
for deb in "$DEBS"/*.deb; do
  dpkg -x "$deb" "$ROOT.tmp" || die "dpkg -x $deb failed"
done
# Sanity: the files the image builder needs.
for f in boot/xen-4.17-amd64.gz bin/busybox usr/lib/xen-4.17/bin/xl \
         usr/lib/xen-4.17/bin/xenstored usr/bin/xenstore-read usr/sbin/libvirtd \
         usr/bin/virsh usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_libxl.so; do
  [ -e "$ROOT.tmp/$f" ] || die "unpacked packages lack $f (Debian changed the layout?)"
done
ls "$ROOT.tmp"/boot/vmlinuz-* >/dev/null 2>&1 || die "unpacked packages lack boot/vmlinuz-*"
{
  echo "kernel=$KPKG fetched=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "list=$LIST_HASH"
  for deb in "$DEBS"/*.deb; do echo "$(dpkg-deb -f "$deb" Package)=$(dpkg-deb -f "$deb" Version)"; done
} > "$ROOT.tmp/.xenamp-fetched"
rm -rf "$ROOT"
mv "$ROOT.tmp" "$ROOT"
log "unpacked $(ls "$DEBS" | wc -l) packages ($(du -sh "$DEBS" | cut -f1)) into $ROOT"
