#!/usr/bin/env bash
# ThreadSanitizer over libxenamp: builds the tree with -fsanitize=thread in
# its own directory, links tests/integration/mt-stress.c (S sender threads,
# a dispatcher thread and an endpoint create/destroy thread on one device)
# against that libxenamp, and runs it against the (TSan-built) backend and
# echo server. Fails on any "WARNING: ThreadSanitizer" line in any log.
#
# Not part of make check (it configures and builds a second tree); a phase
# of scripts/test-all:
#   bash SRC/tests/integration/tsan.sh [BUILD_DIR]   (default /tmp/xenamp-tsan)
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-${XENAMP_TSAN_BUILD:-/tmp/xenamp-tsan}}
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
echo "# TSan build in $BUILD"
if [ ! -f "$BUILD/Makefile" ]; then
	(cd "$BUILD" && "$SRC/configure" CFLAGS='-fsanitize=thread -O1 -g' \
		LDFLAGS=-fsanitize=thread >configure.log 2>&1) ||
		{ echo "FAIL: configure (see $BUILD/configure.log)"; echo "0 passed, 1 failed"; exit 1; }
fi
make -C "$BUILD" -j"$(nproc 2>/dev/null || echo 2)" src/frontend/libxenamp.la \
	src/backend/xenamp-backend src/tools/xenamp-echo-server src/tools/xenampctl \
	>"$BUILD/make.log" 2>&1 ||
	{ echo "FAIL: build (see $BUILD/make.log)"; tail -n 20 "$BUILD/make.log"; echo "0 passed, 1 failed"; exit 1; }
(cd "$BUILD" && ./libtool --mode=link --tag=CC ${CC:-gcc} -fsanitize=thread -O1 -g -pthread \
	-I"$SRC/include" -o tests/integration/mt-stress "$SRC/tests/integration/mt-stress.c" \
	src/frontend/libxenamp.la >>make.log 2>&1) ||
	{ echo "FAIL: mt-stress build"; tail -n 20 "$BUILD/make.log"; echo "0 passed, 1 failed"; exit 1; }

export top_builddir=$BUILD top_srcdir=$SRC
. "$SRC/tests/integration/lib.sh"
export TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
MT=$BUILD/tests/integration/mt-stress
SENDERS=${XENAMP_TSAN_SENDERS:-4}
N=${XENAMP_TSAN_MSGS:-2000}

start_backend "$LINK_HOST_FW" || { bad "backend starts"; finish; exit 1; }
bg "$ECHO_SERVER" --partition fw -q >"$T/server.log" 2>&1
SERVER=$LAST_PID
"$MT" -p host -s "$SENDERS" -n "$N" >"$T/mt-stress.log" 2>&1
rc=$?
cat "$T/mt-stress.log" | grep '^mt-stress' | sed 's/^/# /'
check "mt-stress exits 0" test $rc -eq 0
check "every echo came back to its thread, in order" \
	grep -q "^mt-stress senders=$SENDERS messages=$((SENDERS * N)) received=$((SENDERS * N)) errors=0" "$T/mt-stress.log"
# a second round with the echo server restarted (reconnect paths)
stop_pid "$SERVER"
bg "$ECHO_SERVER" --partition fw -q >>"$T/server.log" 2>&1
SERVER=$LAST_PID
"$MT" -p host -s "$SENDERS" -n $((N / 4)) >"$T/mt-stress2.log" 2>&1
check "second round after a server restart exits 0" test $? -eq 0
stop_pid "$SERVER"
stop_pid "$BACKEND_PID"
for f in mt-stress mt-stress2 server backend; do
	n=$(grep -c 'WARNING: ThreadSanitizer' "$T/$f.log")
	check "no ThreadSanitizer warning in $f ($n)" test "$n" -eq 0
	[ "$n" -eq 0 ] || grep -A 30 'WARNING: ThreadSanitizer' "$T/$f.log" | head -n 80 | sed 's/^/# /'
done
finish
