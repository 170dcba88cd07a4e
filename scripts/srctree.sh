# shellcheck shell=bash
# Sourced by scripts/demo and scripts/test-all (not run on its own).
#
# Both build out of tree, in _build/<name>. Autotools refuse that ("source
# directory already configured; run make distclean there first") once the
# source tree itself has been configured in place, e.g. by a hand build
# with ./configure in the top directory. srctree_make_clean brings the
# source tree back to that clean state, and says so, when the in-place
# configuration is xenamp's own: config.status written by this package's
# configure. `make distclean` then removes only what configure and make
# generated in the source tree (objects, Makefiles, config.h,
# config.status); sources, _build/ and everything git tracks stay. Anything
# else (a config.status that is not xenamp's, or a distclean that fails) is
# left alone and reported with what to do, and the caller stops.
#
# Requires: $top (the source tree, absolute), set by the caller. Returns 0 when the source tree
# is clean for out-of-tree builds, 1 (after a message on stderr) when not.
# shellcheck disable=SC2154 # $top: set by the sourcing script
srctree_make_clean() {
	local who=${1:-$(basename "$0")} log
	[ -f "$top/config.status" ] || return 0
	if ! (cd "$top" && ./config.status --version 2>/dev/null) | head -n 1 |
		grep -q '^xenamp config\.status'; then
		echo "$who: $top/config.status is not xenamp's; move it away (out-of-tree builds need a source tree without it)" >&2
		return 1
	fi
	echo "$who: the source tree was configured in place (./configure in $top);"
	echo "$who: running 'make distclean' there so that _build/ can be configured:"
	echo "$who: this removes the in-place build products only; build by hand in _build/default (README) to keep both"
	log=$top/_build/distclean-srctree.log
	mkdir -p "$top/_build"
	# A Makefile is what distclean needs; config.status writes it again
	# if it is gone.
	if { [ -f "$top/Makefile" ] || (cd "$top" && ./config.status); } >"$log" 2>&1 &&
	   make -C "$top" distclean >>"$log" 2>&1 && [ ! -f "$top/config.status" ]; then
		return 0
	fi
	echo "$who: 'make distclean' in $top failed (log: $log); remove config.status and what configure generated there, then run again" >&2
	return 1
}
