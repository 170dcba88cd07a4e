#!/bin/sh
# No call cycle between folders (docs/design.md, "Layering"), from the
# built objects: folder A calls folder B when an object built from A's
# sources has an undefined symbol that an object of B defines.
#
#   check-calls.sh [-b BUILDDIR] [-s SRCDIR] [--edges]
#
# Objects are found under BUILDDIR/src (default: $top_builddir); each one
# belongs to the folder it was built in (the build uses subdir-objects;
# libtool's .libs/ is looked through). A symbol defined in more than one
# folder is ambiguous and ignored (main, say). With SRCDIR, objects of a
# folder that no longer exists in SRCDIR/src are left out (stale objects
# of an incremental build after a move). Prints each cycle as
#   call cycle: A -> B -> A
#     A -> B: src/A/x.o calls sym (defined in src/B/y.o)
# with one witness per edge, and exits 1; 0 when there is none. --edges
# prints the folder call graph ("A B N", N symbols) instead.
set -eu

build=${top_builddir:-.}
srcdir=
mode=check
while [ $# -gt 0 ]; do
	case $1 in
	-b) build=$2; shift 2 ;;
	-s) srcdir=$2; shift 2 ;;
	--edges) mode=edges; shift ;;
	*) echo "usage: $0 [-b BUILDDIR] [-s SRCDIR] [--edges]" >&2; exit 2 ;;
	esac
done
NM=${NM:-nm}
[ -d "$build/src" ] || { echo "$0: no $build/src (build first)" >&2; exit 2; }

# "OBJ FOLDER TYPE SYMBOL" for every global symbol of every object.
syms() {
	(cd "$build" && find src -name '*.o' | LC_ALL=C sort) |
	while read -r o; do
		d=$(dirname "$o"); d=${d%/.libs}
		[ -z "$srcdir" ] || [ -d "$srcdir/$d" ] || continue
		d=${d#src/}
		$NM -P -g "$build/$o" 2>/dev/null |
		awk -v o="$o" -v d="$d" '{ print o, d, $2, $1 }'
	done
}

syms | awk -v mode="$mode" '
	$3 == "U" || $3 == "w" || $3 == "v" { use[++nu] = $0; next }
	{
		# a definition; remember every folder that defines the symbol
		if (!(($4, $2) in deffold)) { deffold[$4, $2] = 1; nf[$4]++ }
		defin[$4] = $2; defobj[$4] = $1
	}
	END {
		for (i = 1; i <= nu; i++) {
			split(use[i], u, " ")
			s = u[4]; a = u[2]
			if (nf[s] != 1 || defin[s] == a) continue
			b = defin[s]
			if (!((a, b) in n)) {
				wit[a, b] = u[1] " calls " s " (defined in " defobj[s] ")"
				node[a] = 1; node[b] = 1
				succ[a] = succ[a] " " b
			}
			n[a, b]++
		}
		if (mode == "edges") {
			for (k in n) { split(k, p, SUBSEP); print p[1], p[2], n[k] }
			exit 0
		}
		# reach[x, y]: y reachable from x (a handful of folders: a plain
		# fixed point is enough).
		for (k in n) reach[k] = 1
		do {
			changed = 0
			for (k in reach) {
				split(k, p, SUBSEP)
				m = split(succ[p[2]], t, " ")
				for (j = 1; j <= m; j++)
					if (!((p[1], t[j]) in reach)) { reach[p[1], t[j]] = 1; changed = 1 }
			}
		} while (changed)
		# the folders in name order, for stable output
		nn = 0
		for (x in node) {
			for (j = nn; j > 0 && order[j] > x; j--) order[j + 1] = order[j]
			order[j + 1] = x; nn++
		}
		bad = 0
		for (i = 1; i <= nn; i++) {
			x = order[i]
			if (!((x, x) in reach) || (x in done)) continue
			# the folders on a cycle through x, printed once per cycle
			# (strongly connected component)
			line = ""; ev = ""
			for (j = 1; j <= nn; j++)
				if ((y = order[j]) == x || (((x, y) in reach) && ((y, x) in reach))) {
					done[y] = 1; comp[y] = x
					line = line (line == "" ? "" : ", ") y
				}
			for (k in n) {
				split(k, p, SUBSEP)
				if (comp[p[1]] == x && comp[p[2]] == x)
					ev = ev "  " p[1] " -> " p[2] ": " wit[k] "\n"
			}
			printf "call cycle between folders {%s}:\n%s", line, ev
			bad++
		}
		exit bad > 0
	}'
