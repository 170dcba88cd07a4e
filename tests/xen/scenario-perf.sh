# shellcheck shell=dash
# The SPEC lists ($P_SMALL, ...) are meant to be split into words.
# shellcheck disable=SC2086
# Step 5 of scenario-xenamp.sh, sourced by it, installed as
# /opt/xenamp/scenario-perf.sh: the relay beside a plain libxenvchan
# channel, in the same boot, between the same domains, timed only after
# both ends are connected (xenamp-vchan-bench, the same program and
# method for both).
#
#   relay  host:3 <-> fw:3 (512 x 256) and host:4 <-> fw:4 (65536 x 4),
#          dom0perf:0 <-> fw:5 and dom0perf:1 <-> fw:6 (dom0's local
#          partition), the perf-* links of step 1's configuration
#   vchan  fw serves a channel of 64 KiB each way to host, then to dom0
#   fw:    the servers (relay-server, vchan-server); host and dom0: the
#          clients
# Figures: round trip 32 and 496 B (median, p99) and one-way stream 496 B
# and 65520 B (the largest payload of buf-size 65536). Under emulation
# they tell nothing about speed: printed, never asserted. Asserted: every
# measurement ran and the server counted every byte (the client's exit
# status and its byte counts).
# Uses the helpers of scenario-xenamp.sh (cmd, result, wait_end, ...).

P_RTT=${XENAMP_XEN_PERF_RTT:-100}
P_MSGS=${XENAMP_XEN_PERF_MSGS:-2000}
P_BIG=${XENAMP_XEN_PERF_BIG:-40}
P_SMALL="rtt:32:$P_RTT rtt:496:$P_RTT stream:496:$P_MSGS"
P_LARGE="stream:65520:$P_BIG"
T5=$(uptime_s)

# pkv KEY LINE: the value of KEY=... in a client's last line
pkv() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }

# perf_ok WHAT LINE KEY=VALUE...: the client ran every measurement
# (rc=0: it checked every reply and the server's acknowledgements) and
# the counts in its last line are the expected ones
perf_ok() {
	local _w=$1 _l=$2 _k
	shift 2
	case $_l in
	"rc=0 "*) ;;
	*) fail "$_w: $_l"; return 1 ;;
	esac
	for _k in "$@"; do
		if [ "$(pkv "${_k%%=*}" "$_l")" != "${_k#*=}" ]; then
			fail "$_w: ${_k%%=*} is '$(pkv "${_k%%=*}" "$_l")', expected ${_k#*=}: $_l"
			return 1
		fi
	done
	pass "$_w: every measurement ran, every byte counted ($*)"
}
P_SMALL_OK="rtt32_n=$P_RTT rtt496_n=$P_RTT stream496_bytes=$((P_MSGS * 496))"
P_LARGE_OK="stream65520_bytes=$((P_BIG * 65520))"

# perf_server ID DEVNO: a relay server on fw's device DEVNO, once the
# guest has it connected (so that the next command to fw is not lost)
perf_server() {
	cmd fw "$1" relay-server "$2"
	check "5: relay server on fw:$2 connected" wait_end fw "$2" Connected 60
}

for d in 3 4 5 6; do perf_server "ps$d" $d; done

# host <-> fw through the backend
cmd host pr1 relay 3 $P_SMALL
P_H1=$(result host pr1 180)
perf_ok "5: relay host:3 <-> fw:3, 32/496 B" "$P_H1" $P_SMALL_OK
cmd host pr2 relay 4 $P_LARGE
P_H2=$(result host pr2 180)
perf_ok "5: relay host:4 <-> fw:4, 65520 B" "$P_H2" $P_LARGE_OK

# host <-> fw over libxenvchan
cmd fw vs1 vchan-server "$HOST" "/local/domain/$FW/data/vchan-host"
check "5: vchan server in fw offers its channel to host" \
	wait_xs "/local/domain/$FW/data/vchan-host/event-channel" 60
cmd host pv1 vchan "$FW" "/local/domain/$FW/data/vchan-host" $P_SMALL $P_LARGE
P_HV=$(result host pv1 180)
perf_ok "5: vchan host <-> fw, 32/496/65520 B" "$P_HV" $P_SMALL_OK $P_LARGE_OK

# dom0's local partition <-> fw through the backend, then dom0 <-> fw
# over libxenvchan
perf_local() {
	local _t0 _o _rc
	_t0=$(uptime_s)
	_o=$(env XENAMP_TRANSPORT=local XENAMP_PARTITION=dom0perf xenamp-vchan-bench "$@" 2>&1)
	_rc=$?
	echo "$_o" | sed 's/^/  [dom0] /' >&2
	echo "rc=$_rc secs=$(awk -v a="$_t0" -v b="$(uptime_s)" 'BEGIN { printf "%.2f", b - a }') $(echo "$_o" | tail -n 1)"
}
P_D1=$(perf_local client relay 0 $P_SMALL)
perf_ok "5: relay dom0perf:0 (local) <-> fw:5, 32/496 B" "$P_D1" $P_SMALL_OK
P_D2=$(perf_local client relay 1 $P_LARGE)
perf_ok "5: relay dom0perf:1 (local) <-> fw:6, 65520 B" "$P_D2" $P_LARGE_OK
cmd fw vs2 vchan-server 0 "/local/domain/$FW/data/vchan-dom0"
check "5: vchan server in fw offers its channel to dom0" \
	wait_xs "/local/domain/$FW/data/vchan-dom0/event-channel" 60
P_DV=$(perf_local client vchan "$FW" "/local/domain/$FW/data/vchan-dom0" $P_SMALL $P_LARGE)
perf_ok "5: vchan dom0 <-> fw, 32/496/65520 B" "$P_DV" $P_SMALL_OK $P_LARGE_OK

for id in ps3 ps4 ps5 ps6 vs1 vs2; do
	R=$(result fw "$id" 30)
	case $R in
	"rc=0 "*"server: "*) pass "5: fw's server $id ended cleanly ($R)" ;;
	*) fail "5: fw's server $id: $R" ;;
	esac
done

# The table: relay beside vchan, ratios relay / vchan (latency: lower is
# better; throughput: higher is better), and what each took.
perf_table() {
	echo "$1|$2|$3" | awk -F'|' '
	function kv(line, k,   n, i, a, b) {
		n = split(line, a, " ")
		for (i = 1; i <= n; i++) { split(a[i], b, "="); if (b[1] == k) return b[2] }
		return ""
	}
	function row(name, k, unit, inv,   r, v) {
		r = kv(RL, k) + 0; v = kv(VL, k) + 0
		# the ratio in parentheses: in a printf of awk, "v > 0" would be
		# a redirection
		printf "  %-12s %-26s %12.1f %12.1f %8.2f   %s\n", path, name " (" unit ")", r, v,
			(v > 0 ? r / v : 0), inv
	}
	{ path = $1; RL = $2; VL = $3 }
	END {
		row("rtt 32 B median", "rtt32_med_us", "us", "relay/vchan, lower is better")
		row("rtt 32 B p99", "rtt32_p99_us", "us", "")
		row("rtt 496 B median", "rtt496_med_us", "us", "")
		row("rtt 496 B p99", "rtt496_p99_us", "us", "")
		row("one-way 496 B", "stream496_kibps", "KiB/s", "relay/vchan, higher is better")
		row("one-way 65520 B", "stream65520_kibps", "KiB/s", "")
	}'
}
echo "  Xen, steady state (TCG emulation: printed, not asserted; $P_RTT round trips, $P_MSGS x 496 B, $P_BIG x 65520 B):"
printf '  %-12s %-26s %12s %12s %8s\n' path measurement relay vchan ratio
perf_table "host<->fw" "$P_H1 $P_H2" "$P_HV"
perf_table "dom0<->fw" "$P_D1 $P_D2" "$P_DV"
echo "  time taken (measured phases, s; in brackets the whole client run with start-up and connect):"
for w in "relay host<->fw|$P_H1 $P_H2" "vchan host<->fw|$P_HV" "relay dom0<->fw|$P_D1 $P_D2" "vchan dom0<->fw|$P_DV"; do
	echo "$w" | awk -F'|' '{
		n = split($2, a, " "); t = ""; w = 0; c = ""
		for (i = 1; i <= n; i++) { split(a[i], b, "=")
			if (b[1] ~ /_s$/ && b[1] != "connect_s") t = t " " b[1] "=" b[2]
			if (b[1] == "secs") w += b[2]
			if (b[1] == "connect_s") c = c " " b[2] }
		printf "    %-16s%s  [client runs %.2f s, connect%s s]\n", $1, t, w, c }'
done
echo "  (step 5 took $(awk -v a="$T5" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }') s of dom0 uptime)"
