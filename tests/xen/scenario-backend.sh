# shellcheck shell=dash
# Helpers of the scenarios that run xenamp-backend in dom0 and drive the
# domUs of domu-xenamp.sh (scenario-xenamp.sh, scenario-killstress.sh);
# installed as /opt/xenamp/scenario-backend.sh. Source it after
# scenario-lib.sh. The backend's log is /tmp/backend.log; BACKEND is its
# binary, BPID its pid (kill_stream replaces it).

X=/opt/xenamp
BACKEND=$X/sbin/xenamp-backend
export XENAMP_SOCKET=/run/xenamp-backend.sock
export PATH=$X/bin:$X/sbin:$PATH

ctl() { xenampctl "$@" 2>&1; }

# end_state PARTITION DEVNO: "STATE TRANSPORT PEER..." from xenampctl status
end_state() {
	ctl status | awk -v p="$1" -v d="$2" '$3 == p && $4 == d { $1 = $2 = $3 = $4 = ""; sub(/^ +/, ""); print; exit }'
}

# wait_end PARTITION DEVNO STATE [TIMEOUT_S]
wait_end() {
	local _lim _s
	_lim=$(( $(now_s) + ${4:-60} ))
	while :; do
		_s=$(end_state "$1" "$2")
		case $_s in "$3"*) echo "$1:$2 $_s"; return 0 ;; esac
		if [ "$(now_s)" -ge "$_lim" ]; then
			echo "$1:$2 is '$_s', not $3, after ${4:-60} s"
			ctl status
			tail -n 20 /tmp/backend.log
			domain_exists "$1" && { echo "console of $1:"; guest_log "$1" | tail -n 15; }
			return 1
		fi
		sleep 0.5
	done
}

# cmd DOMAIN ID VERB ARGS...: have the guest run a command (domu-xenamp.sh)
cmd() {
	local _d
	_d=$(domid_of "$1") || return 1
	shift
	xenstore-rm "/local/domain/$_d/data/result-$1" 2>/dev/null
	xenstore-write "/local/domain/$_d/data/cmd" "$*"
}

# result DOMAIN ID [TIMEOUT_S]: wait for and print the command's result line
result() {
	local _d
	_d=$(domid_of "$1") || { echo "no domain $1"; return 1; }
	wait_xs "/local/domain/$_d/data/result-$2" "${3:-120}"
}

# wait_log REGEX [TIMEOUT_S]: wait for a line of the backend log
wait_log() {
	local _lim
	_lim=$(( $(now_s) + ${2:-20} ))
	until grep -qE "$1" /tmp/backend.log; do
		if [ "$(now_s)" -ge "$_lim" ]; then
			echo "no line matching '$1' in the backend log after ${2:-20} s:"
			tail -n 20 /tmp/backend.log
			return 1
		fi
		sleep 0.5
	done
	grep -E "$1" /tmp/backend.log | tail -n 1
}

# backend_up: the backend answers xenampctl and lists the xen transport
backend_up() {
	local i=0
	while [ $i -lt 40 ]; do
		ctl status --json | grep -q '"xen"' && return 0
		sleep 0.25
		i=$((i + 1))
	done
	echo "xenampctl status does not list the xen transport:"
	ctl status --json
	cat /tmp/backend.log
	return 1
}

# --- the backend SIGKILLed mid-stream ------------------------------------------
host_msgs_in() { xenampctl stats 2>/dev/null | awk '$2 == "host:0" { print $4; exit }'; }
# wait_relayed N TIMEOUT_S: until the running backend took N messages from host
wait_relayed() {
	local _lim _n
	_lim=$(( $(now_s) + $2 ))
	while :; do
		_n=$(host_msgs_in)
		[ "${_n:-0}" -ge "$1" ] && { echo "backend took ${_n} messages from host:0"; return 0; }
		[ "$(now_s)" -lt "$_lim" ] || { echo "backend took only ${_n:-0} messages from host:0 in $2 s"; return 1; }
		sleep 0.2
	done
}
server_exits() { guest_log fw | grep -c "echo server on device [01] exited"; }
# connects P:D: how many times the backends so far logged end P:D connected
connects() { grep -c "end $1 connected" /tmp/backend.log; }
# wait_connects P:D N TIMEOUT_S: until that count reaches N. The log, not
# the state, shows a reconnection: the stream may be over by the next look.
wait_connects() {
	local _lim
	_lim=$(( $(now_s) + $3 ))
	while [ "$(connects "$1")" -lt "$2" ]; do
		[ "$(now_s)" -lt "$_lim" ] || { echo "$1 connected $(connects "$1") times, not $2, after $3 s"; tail -n 20 /tmp/backend.log; return 1; }
		sleep 0.2
	done
	echo "$1 connected $(connects "$1") times"
}

# kill_stream ID MSGS KILLS RATE CONF: host's echo client ID sends MSGS
# messages at RATE/s to fw:0 while the backend ($BPID) is SIGKILLed KILLS
# times and started again with configuration CONF. Kill k falls at a
# random point of the k-th of KILLS+2 equal slices of the stream, counted
# over the backends so far (each counts from its start), so the stream is
# still running at every kill; the next backend starts after a random
# 0..1.5 s, so that the partitions see it at different moments of their
# own reconnect loops. Both choices are printed ($RANDOM: seed it for a
# rerun). After kill k's reconnection checks, `$KILL_HOOK K` runs when
# the caller set KILL_HOOK to a function's name. The client checks reply i against message i, so a
# message lost, duplicated or reordered across a kill is a mismatch.
# Returns non-zero when any check failed.
kill_stream() {
	local _id=$1 _msgs=$2 _kills=$3 _rate=$4 _conf=$5
	local _failed0=$XENAMP_FAILED _base _taken _slice _k _at _pause _last _hc _fc _r
	# The running backend's count includes what came before the stream.
	_base=$(host_msgs_in)
	_taken=$((0 - ${_base:-0}))
	cmd host "$_id" echo "$_msgs" -w 60 --rate "$_rate"
	check "$_id: host:0 connected for the kill stream" wait_end host 0 Connected 60
	_slice=$((_msgs / (_kills + 2)))
	_k=1
	while [ $_k -le "$_kills" ]; do
		# shellcheck disable=SC3028 # busybox ash has RANDOM
		_at=$((_k * _slice + RANDOM % _slice - _taken))
		[ $_at -ge 50 ] || _at=50
		# shellcheck disable=SC3028
		_pause=$((RANDOM % 4))
		check "$_id kill $_k: this backend took $_at more messages from host:0" wait_relayed $_at 60
		_last=$(host_msgs_in)
		_hc=$(connects host:0) _fc=$(connects fw:0)
		kill -KILL "$BPID"
		wait "$BPID" 2>/dev/null
		_taken=$((_taken + ${_last:-0}))
		echo "  $_id kill $_k at $(uptime_s)s: $_taken messages of the stream taken from host:0 so far; next backend in $_pause/2 s"
		[ $_pause -eq 0 ] || sleep "$((_pause / 2)).$((_pause % 2 * 5))"
		$BACKEND -f -c "$_conf" >> /tmp/backend.log 2>&1 &
		BPID=$!
		check "$_id kill $_k: backend SIGKILLed and started again" backend_up
		check "$_id kill $_k: host:0 reconnected" wait_connects host:0 $((_hc + 1)) 60
		check "$_id kill $_k: fw:0 reconnected" wait_connects fw:0 $((_fc + 1)) 60
		[ -z "${KILL_HOOK:-}" ] || "$KILL_HOOK" $_k
		_k=$((_k + 1))
	done
	_r=$(result host "$_id" 240)
	echo "  host echo client across $_kills backend kills: $_r"
	case $_r in
	"rc=0 "*"sent $_msgs, received $_msgs, mismatches 0"*)
		pass "$_id: $_msgs messages host <-> fw across $_kills backend kills: each reply once, in order, intact" ;;
	*) fail "$_id: messages across backend kills: $_r"; tail -n 30 /tmp/backend.log ;;
	esac
	[ "$XENAMP_FAILED" = "$_failed0" ]
}
