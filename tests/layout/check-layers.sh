#!/bin/sh
# Check every #include of a source tree against the layer table.
#
#   check-layers.sh [-r ROOT] [-R RULES]
#
# Prints one line per violation, "FILE:LINE: why", and exits 1 when there
# is any, 0 otherwise. Violations:
#   - an include of one of our headers across an edge RULES does not allow
#     ("forbidden include "backend/relay.h": frontend -> backend");
#   - a <...> system header in src/core or src/frontend/core outside
#     RULES' core-system list;
#   - a "..." include that resolves to no file of the tree;
#   - a file in a folder RULES has no line for.
# RULES may also hold "known: FILE HEADER  reason" lines: that violation is
# then reported as tolerated, not counted; a known: line that matches
# nothing is itself a violation, so the list cannot go stale.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rules=$here/layers.rules

while [ $# -gt 0 ]; do
	case $1 in
	-r) root=$(cd "$2" && pwd); shift 2 ;;
	-R) rules=$2; shift 2 ;;
	*) echo "usage: $0 [-r ROOT] [-R RULES]" >&2; exit 2 ;;
	esac
done

edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
sh "$here/include-graph.sh" -r "$root" -R "$rules" --edges >"$edges"

sed -e 's/#.*//' "$rules" | awk -v edges="$edges" '
	# The table: allowed[from SUBSEP to], the core C library set, and
	# the known (tolerated) violations.
	/^core-system:/ { for (i = 2; i <= NF; i++) coresys[$i] = 1; next }
	/^known:/ { k = $2 " " $3; known[k] = 1; nknown++; next }
	/^[a-z][a-z0-9_\/]*:/ {
		from = $1; sub(/:$/, "", from)
		allowed[from, from] = 1
		for (i = 2; i <= NF; i++) allowed[from, $i] = 1
		next
	}
	END {
		FS = "\t"
		while ((getline l < edges) > 0) {
			split(l, e, "\t")
			file = e[1]; line = e[2]; kind = e[3]
			from = e[4]; to = e[5]; hdr = e[6]
			why = ""
			if (kind == "norule") {
				if (!(file in ruleless))
					why = "folder " from " has no line in tests/layout/layers.rules"
				ruleless[file] = 1
			} else if (kind == "unresolved")
				why = "include " hdr " names no file of the tree"
			else if (kind == "sys") {
				h = substr(hdr, 2, length(hdr) - 2)
				if ((from == "core" || from == "frontend/core") && !(h in coresys))
					why = "OS header " hdr " in src/" from " (core may use only: " \
					      coresys_list() ")"
			} else if (!((from, to) in allowed))
				why = "forbidden include " hdr ": " from " -> " to
			if (why == "")
				continue
			if ((file " " hdr) in known) {
				used[file " " hdr] = 1
				printf "%s:%s: tolerated (known in layers.rules): %s\n", file, line, why
				continue
			}
			printf "%s:%s: %s\n", file, line, why
			bad++
		}
		for (k in known)
			if (!(k in used)) {
				printf "layers.rules: known: %s matches nothing: remove it\n", k
				bad++
			}
		exit bad > 0
	}
	function coresys_list(   s, h, n, i, j, a) {
		n = 0
		for (h in coresys) a[++n] = h
		# insertion sort: stable output for the message
		for (i = 2; i <= n; i++) {
			h = a[i]
			for (j = i - 1; j > 0 && a[j] > h; j--) a[j + 1] = a[j]
			a[j + 1] = h
		}
		s = ""
		for (i = 1; i <= n; i++) s = s (i > 1 ? " " : "") a[i]
		return s
	}
'
