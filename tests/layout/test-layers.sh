#!/bin/sh
# `make check`: every #include of src/ and include/ follows the layer table
# (tests/layout/layers.rules; docs/design.md, "Layering").
#
# First a self-test: check-layers.sh runs on a synthetic tree that breaks
# each rule once, and must name every faulty FILE:LINE and edge, and must
# pass a tree that breaks none -- so this test cannot pass because the
# checker went blind. Then the real tree.
set -u

here=$(cd "$(dirname "$0")" && pwd)
src=${top_srcdir:-$(cd "$here/../.." && pwd)}
check=$here/check-layers.sh
pass=0 fail=0

ok()  { pass=$((pass + 1)); echo "PASS: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The real table without its tolerated exceptions, which name real files.
grep -v '^known:' "$here/layers.rules" >"$tmp/rules"

# put FILE LINE...: write FILE under the synthetic tree, one line each.
put() {
	f=$tmp/tree/$1; shift
	mkdir -p "$(dirname "$f")"
	printf '%s\n' "$@" >"$f"
}

# The clean part: every kind of allowed include, including a relative one
# and a public header spelled with <...>.
put src/core/vring.h '#include <stdint.h>' '#include <stdatomic.h>'
put src/core/vring.c '#include <string.h>' '#include "vring.h"' \
	'#include <xenamp/rsc_table.h>'
put src/common/state.h '#include "core/vring.h"'
put src/frontend/transport/fe_transport.h '#include "common/state.h"'
put src/frontend/device.c '#include <pthread.h>' \
	'#include "frontend/transport/fe_transport.h"' '#include <xenamp/rpmsg.h>'
put src/backend/transport/be_transport.h '#include "common/state.h"'
put src/backend/relay.h '#include "backend/transport/be_transport.h"'
put src/loader/main.c '#include "config.h"' '#include "common/state.h"'
put src/tools/bench/bench.c '#include "bench.h"' '#include "core/vring.h"'
put src/tools/bench/bench.h '#include <stdio.h>'
put include/xenamp/rpmsg.h '#include <stddef.h>'
put include/xenamp/rsc_table.h '#include <stdint.h>'

out=$(sh "$check" -r "$tmp/tree" -R "$tmp/rules" 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ -z "$out" ]; then
	ok "self-test: a tree within the rules passes silently"
else
	bad "self-test: a tree within the rules failed (rc $rc): $out"
fi

# The faulty part: one file per rule, the fault on a known line.
put src/core/bad_up.c '/* core reaching up */' '#include "common/state.h"'
put src/core/bad_os.c '#include <stddef.h>' '#include <stdint.h>' \
	'#include <pthread.h>'
put src/frontend/core/bad_os.c '#include <string.h>' '#include <stdio.h>'
put src/frontend/core/bad_up.c '#include "frontend/transport/fe_transport.h"'
put src/frontend/bad_side.c '#include "backend/relay.h"'
put src/backend/bad_side.c '' '#include "frontend/transport/fe_transport.h"'
put src/frontend/transport/bad_up.c '#include "../device.c"'
put src/backend/transport/bad_up.h '#include "backend/relay.h"'
put src/common/bad_pub.c '#include <xenamp/rpmsg.h>'
put src/tools/bench/bad_tool.c '#include "backend/relay.h"'
put src/loader/bad_missing.c '#include "loader/nowhere.h"'
put src/platform/old.c '#include <stdio.h>'

out=$(sh "$check" -r "$tmp/tree" -R "$tmp/rules" 2>&1)
rc=$?
if [ $rc -eq 1 ]; then
	ok "self-test: a tree that breaks the rules fails (rc 1)"
else
	bad "self-test: a tree that breaks the rules gave rc $rc"
fi
while IFS='|' read -r what want; do
	if printf '%s\n' "$out" | grep -qxF -- "$want"; then
		ok "self-test: reports $what"
	else
		bad "self-test: does not report $what: want \"$want\" in:
$out"
	fi
done <<'EOF'
core including common|src/core/bad_up.c:2: forbidden include "common/state.h": core -> common
an OS header in core|src/core/bad_os.c:3: OS header <pthread.h> in src/core (core may use only: errno.h float.h iso646.h limits.h stdalign.h stdarg.h stdatomic.h stdbool.h stddef.h stdint.h stdnoreturn.h string.h)
an OS header in the driver core|src/frontend/core/bad_os.c:2: OS header <stdio.h> in src/frontend/core (core may use only: errno.h float.h iso646.h limits.h stdalign.h stdarg.h stdatomic.h stdbool.h stddef.h stdint.h stdnoreturn.h string.h)
the driver core including a transport|src/frontend/core/bad_up.c:1: forbidden include "frontend/transport/fe_transport.h": frontend/core -> frontend/transport
frontend including backend|src/frontend/bad_side.c:1: forbidden include "backend/relay.h": frontend -> backend
backend including frontend|src/backend/bad_side.c:2: forbidden include "frontend/transport/fe_transport.h": backend -> frontend/transport
a transport including its library (relative path)|src/frontend/transport/bad_up.c:1: forbidden include "../device.c": frontend/transport -> frontend
a transport including its daemon|src/backend/transport/bad_up.h:1: forbidden include "backend/relay.h": backend/transport -> backend
common including a public header|src/common/bad_pub.c:1: forbidden include <xenamp/rpmsg.h>: common -> include/xenamp
a tool subfolder including the backend|src/tools/bench/bad_tool.c:1: forbidden include "backend/relay.h": tools -> backend
an include that names no file|src/loader/bad_missing.c:1: include "loader/nowhere.h" names no file of the tree
a folder without a rule|src/platform/old.c:1: folder platform has no line in tests/layout/layers.rules
EOF
n=$(printf '%s\n' "$out" | grep -c .)
if [ "$n" -eq 12 ]; then
	ok "self-test: exactly the 12 faults, nothing else"
else
	bad "self-test: $n lines for 12 faults:
$out"
fi

# A "known:" line tolerates exactly its violation, and goes stale loudly.
{ cat "$tmp/rules"; echo 'known: src/core/bad_os.c <pthread.h>  test'
  echo 'known: src/core/gone.c <stdio.h>  test'; } >"$tmp/rules-known"
out=$(sh "$check" -r "$tmp/tree" -R "$tmp/rules-known" 2>&1)
if printf '%s\n' "$out" | grep -q '^src/core/bad_os.c:3: tolerated' &&
   printf '%s\n' "$out" | grep -qxF 'layers.rules: known: src/core/gone.c <stdio.h> matches nothing: remove it'; then
	ok "self-test: known: tolerates its line and reports a stale one"
else
	bad "self-test: known: lines not handled:
$out"
fi

# The graph marks the forbidden edges.
if sh "$here/include-graph.sh" -r "$tmp/tree" -R "$tmp/rules" --dot |
	grep -q '"frontend" -> "backend" .*color=red'; then
	ok "self-test: the graph draws frontend -> backend in red"
else
	bad "self-test: the graph does not mark frontend -> backend"
fi

# Call cycles between folders, from the symbols of built objects
# (check-calls.sh). Self-test: folders a and b call each other, c calls a.
cc=${CC:-cc}
build=${top_builddir:-}
if command -v "$cc" >/dev/null 2>&1; then
	o=$tmp/objs
	mkdir -p "$o/src/a" "$o/src/b/.libs" "$o/src/c"
	printf 'void b_f(void);\nvoid a_f(void) { b_f(); }\n' >"$tmp/a.c"
	printf 'void a_f(void);\nvoid b_f(void) { a_f(); }\n' >"$tmp/b.c"
	printf 'void a_f(void);\nvoid c_f(void) { a_f(); }\n' >"$tmp/c.c"
	$cc -c -o "$o/src/a/x.o" "$tmp/a.c" &&
	$cc -c -o "$o/src/b/.libs/y.o" "$tmp/b.c" &&
	$cc -c -o "$o/src/c/z.o" "$tmp/c.c"
	out=$(sh "$here/check-calls.sh" -b "$o" 2>&1)
	rc=$?
	if [ $rc -eq 1 ] &&
	   printf '%s\n' "$out" | grep -qxF 'call cycle between folders {a, b}:' &&
	   printf '%s\n' "$out" | grep -qxF '  a -> b: src/a/x.o calls b_f (defined in src/b/.libs/y.o)' &&
	   printf '%s\n' "$out" | grep -qxF '  b -> a: src/b/.libs/y.o calls a_f (defined in src/a/x.o)' &&
	   ! printf '%s\n' "$out" | grep -q 'c ->'; then
		ok "self-test: the call cycle a <-> b is reported with its witnesses, c is not"
	else
		bad "self-test: call cycle a <-> b not reported as expected (rc $rc):
$out"
	fi
	if [ -n "$build" ] && [ -d "$build/src" ]; then
		if out=$(sh "$here/check-calls.sh" -b "$build" -s "$src" 2>&1); then
			ok "no call cycle between the folders of the built objects"
		else
			bad "call cycles between folders:
$out"
		fi
	else
		echo "SKIP: no build tree (\$top_builddir) for the call-cycle check"
	fi
else
	echo "SKIP: no C compiler ($cc) for the call-cycle checks"
fi

# The real tree.
if out=$(sh "$check" -r "$src" 2>&1); then
	ok "the tree follows tests/layout/layers.rules"
	[ -z "$out" ] || printf '%s\n' "$out"
else
	bad "includes that cross a forbidden edge (fix the include, or the design first):
$out"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
