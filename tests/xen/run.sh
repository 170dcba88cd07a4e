#!/bin/bash
# tests/xen entry point (CI): fetch the Debian packages (cached), build the
# boot images, boot Xen + dom0 under QEMU and run a scenario in dom0.
#
#   tests/xen/run.sh [SCENARIO]
#
# SCENARIO: a shell script run by dom0's busybox sh once the toolstack is up
# (default: $XENAMP_SCENARIO, else scenario-xenamp.sh with the project built
# by build-project.sh; with XENAMP_DOM0_EXTRA or XENAMP_DOMU_EXTRA set:
# $XENAMP_DOM0_EXTRA/scenario.sh, else tests/xen/scenario-smoke.sh).
# Exit status: the scenario's (see run-qemu.sh for 124/125/126).
# All env vars of fetch-packages.sh, build-images.sh and
# run-qemu.sh apply; see tests/xen/README.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -gt 1 ]; then
  echo "usage: $0 [SCENARIO]" >&2
  exit 2
fi
if [ $# = 1 ]; then
  [ -f "$1" ] || { echo "run.sh: ERROR: scenario '$1' not found" >&2; exit 2; }
  XENAMP_SCENARIO=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
  export XENAMP_SCENARIO
fi

t0=$SECONDS
"$HERE/fetch-packages.sh"
# The project itself (build-project.sh), unless the caller brings its own
# image content; then the xenamp scenario is the default.
if [ -z "${XENAMP_DOM0_EXTRA:-}${XENAMP_DOMU_EXTRA:-}" ]; then
  # Captured first: inside eval "$(...)" a failed build would go unseen
  # and the images would be built without xenamp.
  staged=$("$HERE/build-project.sh") || { echo "run.sh: the project build failed (above)" >&2; exit 1; }
  eval "$(printf '%s\n' "$staged" | grep -E '^XENAMP_DOM[0U]_EXTRA=')"
  export XENAMP_DOM0_EXTRA XENAMP_DOMU_EXTRA
  : "${XENAMP_SCENARIO:=$HERE/scenario-xenamp.sh}"
  export XENAMP_SCENARIO
fi
# libxenvchan's client side maps grants in a domU (the baseline);
# xenamp-rpmsgd serves its devices through CUSE (cuse, with fuse).
export XENAMP_DOMU_MODULES="${XENAMP_DOMU_MODULES:-xen-gntdev cuse}"
# Step 11 (scenario-rpmsgd.sh) adds one to two minutes under TCG to a
# scenario that took up to 380 s on a busy machine.
export XENAMP_XEN_TIMEOUT="${XENAMP_XEN_TIMEOUT:-900}"
t1=$SECONDS
"$HERE/build-images.sh"
t2=$SECONDS
rc=0
"$HERE/run-qemu.sh" || rc=$?
t3=$SECONDS
echo "run.sh: timings: fetch + project build $((t1 - t0)) s, image build $((t2 - t1)) s, qemu $((t3 - t2)) s, total $((t3 - t0)) s; exit status $rc" >&2

# Closing line for CI: the scenario's own "N passed, N failed" line, or a
# failure if the run ended without one (harness failure) or with a bad status.
LOG=${XENAMP_XEN_LOG:-${XENAMP_XEN_WORK:-$HERE/.work}/serial.log}
summary=$(tr -d '\r' < "$LOG" 2>/dev/null | grep -aE '^[0-9]+ passed, [0-9]+ failed' | tail -n1 || true)
if [ -z "$summary" ]; then
  summary="0 passed, 1 failed"
elif [ "$rc" != 0 ] && [ "$(echo "$summary" | cut -d' ' -f3)" = 0 ]; then
  summary="$(echo "$summary" | cut -d' ' -f1) passed, 1 failed"
fi
echo "xen: $summary"
exit "$rc"
