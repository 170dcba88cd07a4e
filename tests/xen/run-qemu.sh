#!/bin/bash
# Boot the images that build-images.sh made: Xen 4.17 under QEMU (TCG), Debian's
# kernel as PV dom0 with dom0.cpio.gz. dom0's /init runs the scenario and
# prints "XENAMP-SCENARIO-EXIT <status>"; this script streams the serial
# console to stdout and to a log file, and exits with that status.
#
# Exit status: the scenario's; 124 on timeout; 125 if QEMU ended (or Xen or
# the dom0 kernel panicked) without the marker line; 126 for a setup error here.
#
# Env:
#   XENAMP_XEN_WORK      the images (default <this dir>/.work)
#   XENAMP_XEN_TIMEOUT   seconds before QEMU is killed (default 600)
#   XENAMP_XEN_LOG       serial log (default $XENAMP_XEN_WORK/serial.log)
#   XENAMP_XEN_MEM       QEMU memory in MiB (default 1024)
#   XENAMP_XEN_SMP       QEMU CPUs (default 2)
#   XENAMP_DOM0_MEM      dom0_mem for Xen (default 512M)
#   XENAMP_XEN_CMDLINE_EXTRA, XENAMP_DOM0_CMDLINE_EXTRA  appended to the Xen
#                        and dom0 kernel command lines (e.g. "loglvl=all",
#                        "loglevel=7" -- dom0 boots with "quiet" otherwise)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=${XENAMP_XEN_WORK:-$HERE/.work}
TIMEOUT=${XENAMP_XEN_TIMEOUT:-600}
MEM=${XENAMP_XEN_MEM:-1024}
SMP=${XENAMP_XEN_SMP:-2}
DOM0_MEM=${XENAMP_DOM0_MEM:-512M}
XEN_CMDLINE="dom0_mem=$DOM0_MEM,max:$DOM0_MEM console=com1 com1=115200 noreboot bootscrub=0 ${XENAMP_XEN_CMDLINE_EXTRA:-}"
# Besides console and init: skip work that is slow under emulation and
# useless here (crypto self-tests, zeroing every allocation, LSMs, serial probing).
DOM0_CMDLINE="console=hvc0 rdinit=/init quiet cryptomgr.notests init_on_alloc=0 audit=0 apparmor=0 mitigations=off 8250.nr_uarts=0 random.trust_cpu=on ${XENAMP_DOM0_CMDLINE_EXTRA:-}"
MARKER=XENAMP-SCENARIO-EXIT

log() { echo "run-qemu: $*" >&2; }
die() { echo "run-qemu: ERROR: $*" >&2; exit 126; }

[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "XENAMP_XEN_TIMEOUT must be a number of seconds, not '$TIMEOUT'"
command -v qemu-system-x86_64 >/dev/null \
  || die "qemu-system-x86_64 not found: apt-get install qemu-system-x86 (tests/xen/fetch-packages.sh does it as root)"
[ -d "$WORK" ] || die "no work directory $WORK: run tests/xen/build-images.sh first"
WORK=$(cd "$WORK" && pwd)
for f in xen.elf dom0-kernel dom0.cpio.gz; do
  [ -s "$WORK/$f" ] || die "$WORK/$f missing: run tests/xen/build-images.sh first (same XENAMP_XEN_WORK)"
done
LOG=${XENAMP_XEN_LOG:-$WORK/serial.log}
mkdir -p "$(dirname "$LOG")"
: > "$LOG" || die "cannot write the log file $LOG"

qpid='' tpid=''
cleanup() {
  [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null && kill -KILL "$qpid" 2>/dev/null
  [ -n "$tpid" ] && kill "$tpid" 2>/dev/null
  return 0
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# QEMU's multiboot loader takes "file args" modules separated by commas, so
# run from $WORK and use plain relative names (paths could hold spaces or commas).
cd "$WORK"
start=$SECONDS
log "booting Xen under QEMU (TCG, ${MEM} MiB, ${SMP} CPUs, timeout ${TIMEOUT} s), serial log: $LOG"
qemu-system-x86_64 \
  -accel tcg,tb-size=128 -cpu qemu64,+svm -m "$MEM" -smp "$SMP" \
  -nographic -no-reboot -nodefaults -serial stdio -monitor none \
  -kernel xen.elf -append "$XEN_CMDLINE" \
  -initrd "dom0-kernel $DOM0_CMDLINE,dom0.cpio.gz" \
  </dev/null >>"$LOG" 2>&1 &
qpid=$!
# Live view on stdout, without the serial console's CRs and terminal escapes
# (SeaBIOS clears the screen); $LOG keeps the raw bytes.
tail -n +1 -f --pid="$qpid" "$LOG" | sed -u 's/\r//g; s/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g' &
tpid=$!

outcome='' marker_at='' panic_at=''
PANIC_RE='^(\[ *[0-9]+\.[0-9]+\] )?(Kernel panic - not syncing|Attempted to kill init)|^\(XEN\) (\[[^]]*\] )?(Panic on CPU|Hardware Dom0 crashed)'
while :; do
  if ! kill -0 "$qpid" 2>/dev/null; then outcome=exited; break; fi
  now=$((SECONDS - start))
  if [ -z "$marker_at" ] && grep -aq "$MARKER [0-9]" "$LOG"; then marker_at=$now; fi
  # Xen's and dom0's own lines only, anchored: a domU's console, which a
  # scenario may print (prefixed "[NAME] "), can show a panic on purpose
  # (tests/xen step 9b panics fw's kernel).
  if [ -z "$marker_at" ] && [ -z "$panic_at" ] \
     && grep -aqE "$PANIC_RE" "$LOG"; then
    panic_at=$now
  fi
  # After the marker, dom0 powers off; give QEMU a moment to exit by itself.
  if [ -n "$marker_at" ] && [ $((now - marker_at)) -ge 10 ]; then outcome=killed-after-marker; break; fi
  if [ -n "$panic_at" ] && [ $((now - panic_at)) -ge 3 ]; then outcome=panic; break; fi
  if [ "$now" -ge "$TIMEOUT" ]; then outcome=timeout; break; fi
  sleep 0.5
done
[ "$outcome" = exited ] || { kill -KILL "$qpid" 2>/dev/null || true; }
wait "$qpid" 2>/dev/null || true
qpid=
wait "$tpid" 2>/dev/null || true
tpid=
elapsed=$((SECONDS - start))
echo

code=$(grep -aoE "$MARKER [0-9]+" "$LOG" | tail -n1 | cut -d' ' -f2 || true)
case $outcome in
  timeout)
    if [ -z "$code" ]; then
      log "ERROR: timeout: no '$MARKER' line after ${TIMEOUT} s, QEMU killed. The boot or the scenario hung; see $LOG (raise XENAMP_XEN_TIMEOUT if the machine is just slow)."
      exit 124
    fi ;;
  panic)
    log "ERROR: Xen or the dom0 kernel panicked after ${panic_at} s (no '$MARKER' line); QEMU killed. See $LOG."
    exit 125 ;;
  killed-after-marker)
    log "note: QEMU did not exit within 10 s of the marker (dom0 poweroff); killed it" ;;
esac
if [ -z "$code" ]; then
  log "ERROR: QEMU exited after ${elapsed} s without a '$MARKER' line: Xen, the dom0 kernel or dom0's /init failed before the scenario ended. See $LOG."
  exit 125
fi
if [ "$code" = 0 ]; then
  log "scenario passed (status 0) in ${elapsed} s of QEMU wall time"
else
  log "ERROR: scenario failed with status $code after ${elapsed} s; serial log: $LOG"
fi
exit "$code"
