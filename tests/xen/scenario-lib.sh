# shellcheck shell=dash
# (busybox ash; "local" is supported)
# Helpers for tests/xen scenarios; installed in the dom0 image as
# /opt/xenamp/scenario-lib.sh. Source it from a scenario (busybox sh):
#   . /opt/xenamp/scenario-lib.sh
# Every assertion prints one line, "PASS: <what>" or "FAIL: <what>" (followed by
# the failing command's output, indented); `summary` prints
# "N passed, N failed" and returns non-zero if anything failed.

XENAMP_PASSED=0
XENAMP_FAILED=0
# The domU kernel and initramfs inside dom0 (the paths xen-configs/*.cfg name).
: "${XENAMP_DOMU_KERNEL:=/boot/vmlinuz-xenamp-guest}"
: "${XENAMP_DOMU_RAMDISK:=/boot/initrd.img-xenamp-guest}"
# The xl configs from the tree's xen-configs/ directory.
: "${XENAMP_XL_CONFIG_DIR:=/etc/xenamp}"

pass() { XENAMP_PASSED=$((XENAMP_PASSED + 1)); echo "PASS: $*"; }
fail() { XENAMP_FAILED=$((XENAMP_FAILED + 1)); echo "FAIL: $*"; }

# check "description" command [args...]: run the command, PASS if it exits 0.
check() {
	local _what=$1 _rc
	shift
	if "$@" > /tmp/xenamp-check.out 2>&1; then
		pass "$_what"
	else
		_rc=$?
		fail "$_what (exit status $_rc: $*)"
		sed 's/^/    /' /tmp/xenamp-check.out
	fi
}

# summary: print the totals line; status 0 only if nothing failed (and
# something was checked).
summary() {
	echo "$XENAMP_PASSED passed, $XENAMP_FAILED failed"
	[ "$XENAMP_FAILED" -eq 0 ] && [ "$XENAMP_PASSED" -gt 0 ]
}

# uptime_s: seconds since dom0 booted (2 decimals); now_s: whole seconds.
# Shell builtins only: no process is started.
uptime_s() { read -r _up _rest < /proc/uptime; echo "$_up"; }
now_s() { read -r _up _rest < /proc/uptime; echo "${_up%.*}"; }

# Appended to each domU's kernel command line by xenamp_create: they trim
# about a fifth of a guest's boot time under emulation (no crypto self-tests,
# no zeroing of every allocation, no LSMs, no serial probing).
: "${XENAMP_GUEST_FAST_OPTS=cryptomgr.notests init_on_alloc=0 audit=0 apparmor=0 mitigations=off 8250.nr_uarts=0 random.trust_cpu=on}"

# xenamp_create NAME [key=value...]: xl create the domain from its config in
# $XENAMP_XL_CONFIG_DIR, with kernel= and ramdisk= overridden on the command
# line, $XENAMP_GUEST_FAST_OPTS appended to the config's extra=, plus any
# further key=value overrides given.
xenamp_create() {
	local _name=$1 _cfg _extra
	shift
	_cfg=$XENAMP_XL_CONFIG_DIR/$_name.cfg
	_extra=$(sed -n 's/^[[:space:]]*extra[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$_cfg")
	xl create "$_cfg" \
		"kernel=\"$XENAMP_DOMU_KERNEL\"" "ramdisk=\"$XENAMP_DOMU_RAMDISK\"" \
		"extra=\"$_extra $XENAMP_GUEST_FAST_OPTS\"" "$@"
}

# xenamp_create_bg NAME [key=value...]: xenamp_create in the background, so
# that several domains are built at once; collect the result with
# xenamp_create_wait NAME (prints xl's output, returns its exit status).
xenamp_create_bg() {
	local _name=$1
	shift
	rm -f "/tmp/xl-create-$_name.rc"
	( xenamp_create "$_name" "$@" > "/tmp/xl-create-$_name.out" 2>&1
	  echo $? > "/tmp/xl-create-$_name.rc" ) &
}
xenamp_create_wait() {
	while [ ! -f "/tmp/xl-create-$1.rc" ]; do sleep 0.2; done
	cat "/tmp/xl-create-$1.out"
	return "$(cat "/tmp/xl-create-$1.rc")"
}

# domid_of NAME: print the domain id of NAME (fails if there is no such domain).
domid_of() { xl domid "$1" 2>/dev/null; }

# domain_exists NAME
domain_exists() { xl domid "$1" >/dev/null 2>&1; }

# wait_xs PATH [TIMEOUT_S]: wait until xenstore PATH exists; print its value.
# Sleeps in xenstore-watch rather than polling: every process started costs
# a lot under emulation, and a busy dom0 slows the domUs down.
wait_xs() {
	local _lim
	_lim=$(( $(now_s) + ${2:-60} ))
	while :; do
		if xenstore-read "$1" 2>/dev/null; then return 0; fi
		if [ "$(now_s)" -ge "$_lim" ]; then
			echo "timed out after ${2:-60} s waiting for xenstore key $1"
			return 1
		fi
		# The watch fires once when set and again when PATH changes; the
		# timeout covers a write that lands between the read and the watch.
		timeout 3 xenstore-watch -n 2 "$1" >/dev/null 2>&1
	done
}

# wait_ready NAME [TIMEOUT_S]: wait until domU NAME wrote data/xenamp-ready
# (its /init does so once its frontend modules are loaded).
wait_ready() {
	local _d _v
	_d=$(domid_of "$1") || { echo "no domain named $1"; return 1; }
	_v=$(wait_xs "/local/domain/$_d/data/xenamp-ready" "${2:-60}") || { echo "$_v"; return 1; }
	[ "$_v" = 1 ] || { echo "data/xenamp-ready of $1 is '$_v', expected 1"; return 1; }
}

# guest_log NAME: the console output of domU NAME so far (xenconsoled
# writes it to /var/log/xen/console/guest-NAME.log).
guest_log() { cat "/var/log/xen/console/guest-$1.log" 2>/dev/null; }

# wait_guest_log NAME PATTERN [TIMEOUT_S]: wait until domU NAME's console
# shows a line matching the grep -E PATTERN (xenconsoled may lag a little).
wait_guest_log() {
	local _lim
	_lim=$(( $(now_s) + ${3:-10} ))
	until grep -qE "$2" "/var/log/xen/console/guest-$1.log" 2>/dev/null; do
		if [ "$(now_s)" -ge "$_lim" ]; then
			echo "no line matching '$2' on the console of $1 after ${3:-10} s; it shows:"
			guest_log "$1" | tail -n 20
			return 1
		fi
		sleep 0.5
	done
}
