#!/usr/bin/env bash
# scripts/demo and scripts/test-all after a hand build configured in the
# source tree (`autoreconf -fi; ./configure; make` in the top directory).
# Autotools refuse an out-of-tree configure next to that; both scripts
# must clean the source tree (scripts/srctree.sh), say so, and work.
#
# In a scratch copy of this tree's git-tracked files (as they are in the
# working tree):
#   1. autoreconf -fi, ./configure in place, build xenamp-load in place;
#   2. scripts/demo 3: says it cleans the source tree, exits 0, runs the
#      demo; afterwards no config.status and no in-place program in the
#      top directory, and no tracked file changed;
#   3. ./configure in place again, then scripts/test-all with only its
#      build phase: exits 0 (after the same cleaning);
#   4. a config.status that is not xenamp's: scripts/test-all refuses,
#      names the file, exits non-zero and leaves the file alone.
# Prints PASS/FAIL lines and "N passed, N failed"; exit 0, 1 on failure,
# 77 when this is not a git checkout. Takes a full build (a few minutes).
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
export JOBS=${JOBS:-$(nproc)} XENAMP_SKIP_DEPS=1
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "PASS $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

if ! git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	echo "SKIP: $top is not a git checkout"
	exit 77
fi
scratch=$(mktemp -d "${TMPDIR:-/tmp}/xenamp-intree.XXXXXX") || exit 99
trap 'rm -rf "$scratch"' EXIT
src=$scratch/src
mkdir -p "$src"
git -C "$top" ls-files -z >"$scratch/files"
tar -C "$top" --null --ignore-failed-read -T "$scratch/files" -cf - 2>/dev/null |
	tar -C "$src" -xf - || { echo "FAIL: copying the tree"; exit 1; }
sums() { (cd "$src" && xargs -0 sha1sum -- <"$scratch/files" 2>/dev/null); }

# 1. the hand build, in place
if (cd "$src" && autoreconf -fi && ./configure && make -j"$JOBS" src/loader/xenamp-load) \
	>"$scratch/hand.log" 2>&1 && [ -f "$src/config.status" ]; then
	ok "hand build configured in the source tree"
else
	bad "hand build in place: $(tail -n 5 "$scratch/hand.log")"
	echo "$pass passed, $fail failed"
	exit 1
fi
sums >"$scratch/sums.before"

# 2. scripts/demo
(cd "$src" && scripts/demo 3) >"$scratch/demo.log" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q "^demo: done" "$scratch/demo.log"; then
	ok "scripts/demo after an in-place configure: exit 0, demo ran"
else
	bad "scripts/demo after an in-place configure: exit $rc: $(tail -n 8 "$scratch/demo.log")"
fi
if grep -q "^demo: the source tree was configured in place" "$scratch/demo.log" &&
   grep -q "make distclean" "$scratch/demo.log"; then
	ok "scripts/demo says it runs make distclean in the source tree"
else
	bad "scripts/demo did not say what it did to the source tree"
fi
if [ ! -e "$src/config.status" ] && [ ! -e "$src/src/loader/xenamp-load" ] &&
   [ -x "$src/_build/default/src/backend/xenamp-backend" ]; then
	ok "source tree cleaned, build in _build/default"
else
	bad "after scripts/demo: config.status or an in-place program is left, or no _build/default"
fi
sums >"$scratch/sums.after"
if cmp -s "$scratch/sums.before" "$scratch/sums.after"; then
	ok "no tracked file changed"
else
	bad "tracked files changed: $(diff "$scratch/sums.before" "$scratch/sums.after" | head -n 4)"
fi

# 3. scripts/test-all, build phase
(cd "$src" && ./configure) >"$scratch/conf2.log" 2>&1 || bad "second in-place configure"
(cd "$src" && XENAMP_PHASES=build scripts/test-all) >"$scratch/test-all.log" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q "^test-all: the source tree was configured in place" "$scratch/test-all.log" &&
   grep -q "^== build: ok" "$scratch/test-all.log" && [ ! -e "$src/config.status" ]; then
	ok "scripts/test-all (build phase) after an in-place configure: cleaned, built"
else
	bad "scripts/test-all after an in-place configure: exit $rc: $(tail -n 8 "$scratch/test-all.log")"
fi

# 4. a config.status that is not ours stays, and the script stops
printf '#!/bin/sh\necho "other config.status 1.0"\n' >"$src/config.status"
chmod +x "$src/config.status"
(cd "$src" && XENAMP_PHASES=build scripts/test-all) >"$scratch/foreign.log" 2>&1
rc=$?
if [ $rc != 0 ] && grep -q "config.status is not xenamp's" "$scratch/foreign.log" &&
   grep -q "other config.status" "$src/config.status"; then
	ok "a foreign config.status: test-all stops, names it, leaves it"
else
	bad "a foreign config.status: exit $rc: $(tail -n 4 "$scratch/foreign.log")"
fi

echo "$pass passed, $fail failed"
[ $fail = 0 ]
