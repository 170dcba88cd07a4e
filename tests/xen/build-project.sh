#!/bin/bash
# Build xenamp out of tree and stage it for the tests/xen images:
#   $STAGE/dom0/opt/xenamp/{bin,sbin,lib,share/xenamp}  what `make install`
#                                           puts there (prefix /opt/xenamp),
#                                           built with libvirt
#   $STAGE/domu/opt/xenamp/{bin,lib}        the echo client and server,
#                                           libxenamp, the libxenvchan
#                                           baseline, matrix-client, and domu-init.sh
#                                           (domu-xenamp.sh)
# Prints the two directories as XENAMP_DOM0_EXTRA=... and XENAMP_DOMU_EXTRA=...
#
# Env:
#   XENAMP_XEN_WORK   (default <this dir>/.work); staging goes to $WORK/stage
#   XENAMP_XEN_BUILD  build directory (default $WORK/build); configured with
#                     --prefix=/opt/xenamp --with-xen --with-libvirt, again
#                     only when these arguments change
# The domU binaries (echo client and server, libxenamp, the baseline) do not
# use libvirt; the build stops if one of them links it.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORK=${XENAMP_XEN_WORK:-$HERE/.work}
BUILD=${XENAMP_XEN_BUILD:-$WORK/build}
STAGE=$WORK/stage

log() { echo "build-project: $*" >&2; }
die() { echo "build-project: ERROR: $*" >&2; exit 1; }

[ -x "$REPO/configure" ] || die "no $REPO/configure: run 'autoreconf -fi' in $REPO first"
CONFIGURE_ARGS=(--prefix=/opt/xenamp --sysconfdir=/opt/xenamp/etc --with-xen=yes --with-libvirt=yes)
mkdir -p "$BUILD"
cd "$BUILD"
if [ ! -f Makefile ] || [ "$(cat .xenamp-configure-args 2>/dev/null)" != "${CONFIGURE_ARGS[*]}" ]; then
  log "configuring in $BUILD: ${CONFIGURE_ARGS[*]}"
  rm -f .xenamp-configure-args
  "$REPO/configure" -q "${CONFIGURE_ARGS[@]}" > configure.out 2>&1 \
    || { tail -n 20 configure.out >&2; die "configure failed (see $BUILD/configure.out; libvirt needs libvirt-dev on the host)"; }
  echo "${CONFIGURE_ARGS[*]}" > .xenamp-configure-args
fi
grep -q '^#define HAVE_XEN 1' config.h || die "the build in $BUILD has no Xen transport (libxen-dev missing?)"
grep -q '^#define HAVE_LIBVIRT 1' config.h || die "the build in $BUILD has no libvirt support (apt-get install libvirt-dev)"
log "building in $BUILD"
make -s -j2 >/dev/null 2>make.err || { tail -n 30 make.err >&2; die "make failed (see $BUILD/make.err)"; }
grep -q '^HAVE_XENVCHAN_TRUE = #' Makefile \
  && die "libxenvchan was not found: the relay's baseline cannot be built (apt-get install libxen-dev)"
grep -q '^HAVE_FIRMWARE_TRUE = #' Makefile \
  && die "the bare-metal firmware was not built (configure: HAVE_FIRMWARE needs an x86-64 gcc that links freestanding images)"
rm -rf "$STAGE"
mkdir -p "$STAGE/inst" "$STAGE/dom0" "$STAGE/domu/opt/xenamp/bin" "$STAGE/domu/opt/xenamp/lib"
make -s install DESTDIR="$STAGE/inst" >/dev/null 2>make-install.err \
  || { tail -n 20 make-install.err >&2; die "make install failed"; }
I=$STAGE/inst/opt/xenamp
mkdir -p "$STAGE/dom0/opt/xenamp"
for d in bin sbin lib share/xenamp; do
  [ -d "$I/$d" ] || continue
  mkdir -p "$STAGE/dom0/opt/xenamp/$(dirname "$d")"
  cp -a "$I/$d" "$STAGE/dom0/opt/xenamp/$(dirname "$d")/"
done
rm -rf "$STAGE/dom0/opt/xenamp/lib/pkgconfig" "$STAGE/dom0/opt/xenamp/lib/"*.la
# The example firmware (make install: lib/xenamp/firmware/*.elf; the
# OpenAMP ones for step 14)
# boots from dom0 as domains of its own; debug sections are not needed there.
for f in hello echo rpmsg-echo matrix_multiply; do
  [ -f "$STAGE/dom0/opt/xenamp/lib/xenamp/firmware/$f.elf" ] \
    || die "make install did not install lib/xenamp/firmware/$f.elf"
done
strip --strip-debug "$STAGE/dom0/opt/xenamp/lib/xenamp/firmware/"*.elf
cp -a "$I/bin/xenamp-echo-client" "$I/bin/xenamp-echo-server" "$STAGE/domu/opt/xenamp/bin/"
# The matrix-multiply demo's client (a check program, so built here) for
# host (step 14, scenario-fwoa.sh), and the OpenAMP firmware it talks to.
make -s tests/integration/matrix-client >/dev/null 2>>make.err \
  || { tail -n 20 make.err >&2; die "make tests/integration/matrix-client failed"; }
cp -a "$BUILD/tests/integration/matrix-client" "$STAGE/domu/opt/xenamp/bin/"
# The relay and libxenvchan measured the same way (step 5,
# scenario-perf.sh): servers in fw, clients in host and dom0.
cp -a "$BUILD/tests/xen/xenamp-vchan-bench" "$STAGE/domu/opt/xenamp/bin/"
cp -a "$BUILD/tests/xen/xenamp-vchan-bench" "$STAGE/dom0/opt/xenamp/bin/"
cp "$HERE/scenario-perf.sh" "$STAGE/dom0/opt/xenamp/"
cp -a "$I/lib/"libxenamp.so* "$STAGE/domu/opt/xenamp/lib/"
# glibc dlopens libgcc_s for pthread_cancel (the echo client uses it); ldd
# does not list it, so the image build would not add it.
gcc_s=$(gcc -print-file-name=libgcc_s.so.1 2>/dev/null || true)
[ -f "$gcc_s" ] || gcc_s=$(ls /lib/x86_64-linux-gnu/libgcc_s.so.1 /usr/lib/x86_64-linux-gnu/libgcc_s.so.1 2>/dev/null | head -n1)
[ -f "$gcc_s" ] || die "libgcc_s.so.1 not found on the host"
cp -L "$gcc_s" "$STAGE/domu/opt/xenamp/lib/libgcc_s.so.1"
cp "$HERE/domu-xenamp.sh" "$STAGE/domu/opt/xenamp/domu-init.sh"
# The Linux rpmsg interfaces (scenario-rpmsgd.sh): xenamp-rpmsgd and the
# tty demo in the domUs (libfuse3 comes with them, found by the image
# build), the <linux/rpmsg.h> test program in both images, the guest
# helper, and the scenario part dom0 sources.
[ -x "$I/sbin/xenamp-rpmsgd" ] \
  || die "xenamp-rpmsgd was not built: libfuse3 is missing (apt-get install libfuse3-dev)"
cp -a "$I/sbin/xenamp-rpmsgd" "$I/bin/xenamp-tty-demo" "$BUILD/tests/xen/rpmsg-chardev-test" \
  "$STAGE/domu/opt/xenamp/bin/"
cp -a "$BUILD/tests/xen/rpmsg-chardev-test" "$STAGE/dom0/opt/xenamp/bin/"
cp "$HERE/domu-rpmsgd.sh" "$STAGE/domu/opt/xenamp/domu-rpmsgd.sh"
cp "$HERE/domu-rpmsgd.sh" "$HERE/scenario-rpmsgd.sh" "$STAGE/dom0/opt/xenamp/"
cp "$HERE/scenario-firmware.sh" "$STAGE/dom0/opt/xenamp/"   # step 13: firmware by xenamp-load
cp "$HERE/scenario-fwoa.sh" "$STAGE/dom0/opt/xenamp/"   # step 14: OpenAMP's demos as firmware
# The backend helpers the scenarios source; the kill stress (local use).
cp "$HERE/scenario-backend.sh" "$HERE/scenario-killstress.sh" "$STAGE/dom0/opt/xenamp/"
# Step 9b of the xenamp scenario (a domU rebooted and crashed mid-stream).
cp "$HERE/scenario-restart.sh" "$STAGE/dom0/opt/xenamp/"
cp "$HERE/domu-churn.sh" "$STAGE/domu/opt/xenamp/"; cp "$BUILD/tests/xen/xs-churn" "$STAGE/domu/opt/xenamp/bin/"; cp "$HERE/scenario-churn.sh" "$STAGE/dom0/opt/xenamp/"
for f in "$STAGE"/domu/opt/xenamp/bin/* "$STAGE"/domu/opt/xenamp/lib/libxenamp.so*; do
  if [ ! -f "$f" ] || [ -L "$f" ]; then continue; fi
  if readelf -d "$f" 2>/dev/null | grep -q 'NEEDED.*libvirt'; then
    die "$f links libvirt, but the domU image has no libvirt (only dom0 does)"
  fi
done
strip --strip-unneeded "$STAGE"/dom0/opt/xenamp/{bin,sbin}/* "$STAGE"/domu/opt/xenamp/bin/* 2>/dev/null || true
log "staged $(du -sh "$STAGE/dom0" | cut -f1) for dom0, $(du -sh "$STAGE/domu" | cut -f1) for the domUs"
echo "XENAMP_DOM0_EXTRA=$STAGE/dom0"
echo "XENAMP_DOMU_EXTRA=$STAGE/domu"
