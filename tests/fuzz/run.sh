#!/usr/bin/env bash
# Build every libFuzzer target of tests/fuzz with clang and run each one.
#
# Usage: tests/fuzz/run.sh [SECONDS [TARGET...]]
#
#   SECONDS  time per target (default 60). 0 builds the targets and runs
#            each once over its seed corpus only (a quick regression run).
#   TARGET   vring rsc elf ctl conf rpmsg (default: all)
#
# Works from a fresh clone: the project sources a target needs are
# compiled directly with the target (no configure, no automake); the
# config.h some of them include is a stub written into the build
# directory. Each target starts from a scratch copy of its seed corpus
# (tests/fuzz/corpus/<target>, written by make-seeds.py), so the tree is
# never modified. Prints per target
#     fuzz <name>: N execs, 0 crashes
# and a final "N passed, N failed" line; exits non-zero when a target
# fails to build or crashes (the reproducer is kept in the build
# directory, and the log tail is printed).
#
# Environment:
#   CC                clang to use (default: clang)
#   FUZZ_BUILD_DIR    where binaries, work corpora and logs go
#                     (default: _build/fuzz at the top of the tree)
#   FUZZ_MERGE=1      after the run, merge the new inputs into the seed
#                     corpus in the tree (minimised with -merge=1)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
secs=${1:-60}
shift $(( $# > 0 ? 1 : 0 ))
all_targets="vring rsc elf ctl conf rpmsg"
targets=${*:-$all_targets}
CC=${CC:-clang}
build=${FUZZ_BUILD_DIR:-$top/_build/fuzz}

case $secs in
''|*[!0-9]*) echo "usage: $0 [SECONDS [TARGET...]]" >&2; exit 2 ;;
esac

mkdir -p "$build" || exit 1
build=$(cd "$build" && pwd)

# The stub config.h (ctl.c, fw_image.c and inspect.c include <config.h>).
cat >"$build/config.h" <<'EOF'
/* Stub written by tests/fuzz/run.sh: the fuzz build runs without configure. */
#define PACKAGE "xenamp"
#define PACKAGE_NAME "xenamp"
#define PACKAGE_VERSION "fuzz"
#define PACKAGE_STRING "xenamp fuzz"
#define VERSION "fuzz"
EOF

CFLAGS_FUZZ="-std=gnu11 -g -O1 -Wall -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
CPPFLAGS_FUZZ="-I$top/include -I$top/src -I$build"

core_srcs() { ls "$top"/src/core/*.c; }

# pkg-config flags, with the plain -l fallbacks of configure.ac.
pc() {
	local pkg=$1 fallback=$2
	if pkg-config --exists "$pkg" 2>/dev/null; then
		pkg-config --cflags --libs "$pkg"
	else
		echo "$fallback"
	fi
}

# Sources and libraries per target.
target_srcs() {
	case $1 in
	vring|rsc|rpmsg) core_srcs ;;
	elf) core_srcs; echo "$top/src/loader/fw_image.c" "$top/src/loader/inspect.c" "$top/src/loader/xen_notes.c" ;;
	ctl) core_srcs; echo "$top/src/backend/ctl.c" "$top/src/backend/relay.c" \
		"$top/src/backend/registry.c" "$top/src/backend/end_device.c" \
		"$top/src/backend/conf.c" "$top/src/backend/log.c" \
		"$top/src/common/partition_name.c" "$top/src/common/state.c" \
		"$top/src/common/xa_time.c" "$top/src/common/refusal.c" ;;
	conf) core_srcs; echo "$top/src/backend/conf.c" "$top/src/backend/log.c" \
		"$top/src/common/partition_name.c" ;;
	esac
}

target_libs() {
	case $1 in
	elf) pc libelf -lelf; pc json-c "-ljson-c -I/usr/include/json-c" ;;
	ctl) pc json-c "-ljson-c -I/usr/include/json-c"; pc inih -linih ;;
	conf) pc inih -linih ;;
	esac
}

# libFuzzer options per target: the ELF and config loaders want longer
# inputs than libFuzzer's default guess from the corpus.
target_opts() {
	case $1 in
	vring|elf) echo "-max_len=8192" ;;
	conf) echo "-max_len=2048" ;;
	*) echo "-max_len=4096" ;;
	esac
}

pass=0
fail=0
status=0

for t in $targets; do
	case " $all_targets " in
	*" $t "*) ;;
	*) echo "fuzz $t: unknown target (have: $all_targets)"; fail=$((fail + 1)); status=1; continue ;;
	esac
	src="$here/fuzz_$t.c"
	bin="$build/fuzz_$t"
	log="$build/$t.log"
	# shellcheck disable=SC2046
	if ! $CC $CFLAGS_FUZZ $CPPFLAGS_FUZZ -o "$bin" "$src" $(target_srcs "$t") \
		$(target_libs "$t") >"$build/$t.build.log" 2>&1; then
		echo "fuzz $t: build FAILED; last lines of $build/$t.build.log:"
		tail -n 20 "$build/$t.build.log" | sed 's/^/   | /'
		fail=$((fail + 1))
		status=1
		continue
	fi

	work="$build/work/$t"
	rm -rf "$work" "$build/artifacts/$t"
	mkdir -p "$work" "$build/artifacts/$t"
	if [ -d "$here/corpus/$t" ]; then
		cp -R "$here/corpus/$t/." "$work/"
	fi
	if [ "$secs" -eq 0 ]; then
		run_opts="-runs=0"
	else
		run_opts="-max_total_time=$secs"
	fi
	# shellcheck disable=SC2046
	(cd "$build/artifacts/$t" && "$bin" $run_opts $(target_opts "$t") \
		-timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$build/artifacts/$t/" "$work") >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	execs=${execs:-0}
	artifact=$(ls "$build/artifacts/$t" 2>/dev/null | grep -E '^(crash|leak|timeout|oom)-' | head -n 1)
	if [ $rc -eq 0 ] && [ -z "$artifact" ]; then
		echo "fuzz $t: $execs execs, 0 crashes"
		pass=$((pass + 1))
		if [ "${FUZZ_MERGE:-0}" = 1 ] && [ "$secs" -gt 0 ]; then
			mkdir -p "$here/corpus/$t"
			"$bin" -merge=1 $(target_opts "$t") "$here/corpus/$t" "$work" \
				>"$build/$t.merge.log" 2>&1
		fi
	else
		echo "fuzz $t: $execs execs, 1 crash (exit $rc; reproducer: ${artifact:+$build/artifacts/$t/$artifact}; log: $log)"
		grep -E 'ERROR: |SUMMARY: |^ +#[0-9]+ .*\.c:[0-9]+' "$log" | head -n 20 | sed 's/^/   | /'
		fail=$((fail + 1))
		status=1
	fi
done

echo "$pass passed, $fail failed"
exit $status
