#!/usr/bin/env bash
# Least privilege: in local mode xenamp-backend and its partitions run as an
# ordinary user. Run as root, the test starts the backend, the echo pair,
# xenampctl and a probe partition through setpriv as uid/gid 65534 (nobody),
# with no supplementary groups and no capabilities, on a socket in a
# directory owned by that user; run as an ordinary user, as that user.
# Asserts: the backend's and a partition's /proc status (all four uids and
# gids the unprivileged ids, no capabilities), an echo exchange with every
# byte checked, xenampctl status/stats as that user, the socket's owner and
# mode (0660), and that another uid cannot connect (a clear error line and
# exit status 3) while a member of the socket's group can.
. "$(dirname "$0")/lib.sh"

N=2000
OTHER=65533         # another unprivileged uid (and gid) for the refusals
ZERO_CAPS=0000000000000000

if [ "$(id -u)" -eq 0 ]; then
	U=65534 G=65534
	if ! command -v setpriv >/dev/null 2>&1; then
		echo "SKIP: running as root but setpriv (util-linux) is not installed: cannot switch to an unprivileged user"
		exit 77
	fi
	# as_id UID GID COMMAND...: run COMMAND as UID:GID, no groups, no caps.
	as_id() {
		local u=$1 g=$2; shift 2
		setpriv --reuid="$u" --regid="$g" --clear-groups --inh-caps=-all -- "$@"
	}
	AS=(setpriv "--reuid=$U" "--regid=$G" --clear-groups --inh-caps=-all --)
	if ! out=$(as_id $U $G id -u 2>"$T/setpriv.err") || [ "$out" != $U ]; then
		echo "SKIP: running as root but cannot switch to uid $U with setpriv: $out$(cat "$T/setpriv.err")"
		exit 77
	fi
	echo "# root: running everything as uid $U gid $G (setpriv, no groups, no capabilities)"
else
	U=$(id -u) G=$(id -g)
	AS=(env --)
	echo "# ordinary user: running everything as uid $U gid $G"
fi

# as COMMAND...: run COMMAND as the unprivileged user. setpriv and env
# exec it, so `bg "${AS[@]}" ...` records the PID of the program itself.
as() { "${AS[@]}" "$@"; }

# ------------------------------------------------------------ runtime directory
# The socket and the configuration live in a directory owned by the user.
R=$T/run
chmod 0755 "$T"
mkdir "$R"
SOCK=$R/backend.sock
export XENAMP_SOCKET=$SOCK
# Partition names are bound to credentials: uid $U (the backend's own)
# may claim any; the group member of "who may connect" below may be host.
printf '%s\n\n[partition host]\ngid = %s\n' "$LINK_HOST_FW" "$G" >"$R/xenamp.conf"
chown -R "$U:$G" "$R"
chmod 0755 "$R"
as test -w "$R" || { bad "uid $U can write $R (set TMPDIR to a directory others may search)"; finish; exit; }

# ------------------------------------------------------------ binaries
# libtool may relink a wrapped program on its first run, writing into
# .libs: run each once here (as the invoking user) so the unprivileged
# user only ever reads and executes. If that user cannot reach the build
# tree (a 0700 home, say), it runs copies of the real executables and of
# the in-tree shared libraries from $T, which it can read.
for p in "$BACKEND" "$CTL" "$ECHO_SERVER" "$ECHO_CLIENT" "$PROBE"; do
	"$p" --help >/dev/null 2>&1
done
if as "$BACKEND" --version >/dev/null 2>&1 && as "$PROBE" --help >/dev/null 2>&1; then
	echo "# uid $U runs the programs from the build tree"
else
	echo "# uid $U cannot run the programs in $B: running copies from $T/bin"
	mkdir -p "$T/bin" "$T/lib"
	for l in "$B"/src/*/.libs/*.so*; do
		[ -e "$l" ] && cp -P "$l" "$T/lib/"
	done
	stage() { # PROGRAM: print the path of a copy of its real executable
		local p=$1 d n real
		d=$(dirname "$p") n=$(basename "$p")
		real=$p
		if [ "$(od -An -tx1 -N4 "$p" | tr -d ' ')" != 7f454c46 ]; then
			real=$d/.libs/lt-$n
			[ -f "$real" ] || real=$d/.libs/$n
		fi
		cp "$real" "$T/bin/$n" && chmod 0755 "$T/bin/$n" && echo "$T/bin/$n"
	}
	BACKEND=$(stage "$BACKEND") CTL=$(stage "$CTL") PROBE=$(stage "$PROBE")
	ECHO_SERVER=$(stage "$ECHO_SERVER") ECHO_CLIENT=$(stage "$ECHO_CLIENT")
	chmod -R a+rX "$T/bin" "$T/lib"
	export LD_LIBRARY_PATH=$T/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	if ! as "$BACKEND" --version >/dev/null 2>&1; then
		bad "uid $U can run the backend (from the build tree or $T/bin)"
		as "$BACKEND" --version 2>&1 | sed 's/^/# /'
		finish; exit
	fi
fi

# ------------------------------------------------------------ backend
bg "${AS[@]}" "$BACKEND" --foreground --config "$R/xenamp.conf" --socket "$SOCK" -v 2>>"$T/backend.log"
BACKEND_PID=$LAST_PID
for ((i = 0; i < 400; i++)); do
	[ -S "$SOCK" ] && break
	sleep 0.05
done
if [ ! -S "$SOCK" ]; then
	bad "backend (uid $U) creates $SOCK"
	finish; exit
fi
ok "backend (uid $U) creates $SOCK"

# wait_gone PARTITION COUNT: until the backend logged COUNT departures of
# PARTITION:0.
wait_gone() {
	local i
	for ((i = 0; i < 400; i++)); do
		[ "$(grep -c "end $1:0 gone" "$T/backend.log")" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}
# proc_field PID FIELD: the value(s) of FIELD: in /proc/PID/status.
proc_field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr -s ' \t' ' '; }
# assert_unprivileged WHAT PID: every uid and gid is the user's, none is
# 0, no capability is held.
assert_unprivileged() {
	local what=$1 pid=$2 uids gids
	uids=$(proc_field "$pid" Uid) gids=$(proc_field "$pid" Gid)
	check "$what: Uid real/effective/saved/fs = $uids (all $U, non-zero)" \
		test "$U" -ne 0 -a "$uids" = "$U $U $U $U"
	check "$what: Gid real/effective/saved/fs = $gids (all $G, non-zero)" \
		test "$G" -ne 0 -a "$gids" = "$G $G $G $G"
	check "$what: CapEff $(proc_field "$pid" CapEff)" test "$(proc_field "$pid" CapEff)" = $ZERO_CAPS
	check "$what: CapPrm $(proc_field "$pid" CapPrm)" test "$(proc_field "$pid" CapPrm)" = $ZERO_CAPS
	check "$what: CapAmb $(proc_field "$pid" CapAmb)" test "$(proc_field "$pid" CapAmb)" = $ZERO_CAPS
	if [ "$(id -u)" -eq 0 ]; then
		check "$what: no supplementary groups ('$(proc_field "$pid" Groups)')" \
			test -z "$(proc_field "$pid" Groups | tr -d ' ')"
	fi
}
exe=$(readlink "/proc/$BACKEND_PID/exe")
check "pid $BACKEND_PID is the backend itself ($exe)" test "${exe##*/}" = xenamp-backend -o "${exe##*/}" = lt-xenamp-backend
assert_unprivileged backend "$BACKEND_PID"

read -r s_uid s_gid s_mode s_type < <(stat -c '%u %g %a %F' "$SOCK")
check "socket owned by the backend's user ($s_uid = $U)" test "$s_uid" = "$U"
check "socket's group is the backend's group ($s_gid = $G)" test "$s_gid" = "$G"
check "socket mode 0660 as documented ($s_mode)" test "$s_mode" = 660
check "socket is a socket ($s_type)" test "$s_type" = socket

# ------------------------------------------------------------ echo
bg "${AS[@]}" "$ECHO_SERVER" --partition fw >"$T/server.log" 2>&1
SERVER_PID=$LAST_PID
check "echo server (uid $U) connects" wait_for_line "$T/backend.log" 'end fw:0 connected' 30
assert_unprivileged "echo server" "$SERVER_PID"
as "$ECHO_CLIENT" --partition host -n $N -w 30 -q >"$T/client.log" 2>&1
rc=$?
check "echo client (uid $U) exits 0 (rc $rc)" test $rc -eq 0
# Sizes cycle 1..496 (the payload max of 512-byte buffers); the client
# compares every byte of every reply.
want_bytes=$(python3 -c "print(sum(1 + i % 496 for i in range($N)))")
check "client: sent $N, received $N, mismatches 0, bytes $want_bytes" \
	grep -q "^sent $N, received $N, mismatches 0, bytes $want_bytes\$" "$T/client.log"
# The next partition takes the host end: wait until the backend let it go.
check "backend releases the client's end" wait_gone host 1

# ------------------------------------------------------------ xenampctl
as "$CTL" --socket "$SOCK" --json stats >"$T/stats.json" 2>"$T/ctl.err"
check "xenampctl stats (uid $U) exits 0" test $? -eq 0
end() { json_get "$T/$1.json" "[e for e in j['links'][0]['ends'] if e['partition'] == '$2'][0]['$3']"; }
check "stats: link messages = 2N+3 = $((2 * N + 3))" \
	test "$(json_get "$T/stats.json" "j['links'][0]['messages']")" = $((2 * N + 3))
check "stats: host msgs_in = N + 2" test "$(end stats host msgs_in)" = $((N + 2))
check "stats: fw msgs_in = N + 1" test "$(end stats fw msgs_in)" = $((N + 1))
check "stats: no faults" test "$(json_get "$T/stats.json" "j['links'][0]['faults']")" = 0

# A probe partition holds the host end while the echo server holds fw.
bg "${AS[@]}" "$PROBE" -p host watch -N rpmsg-echo -e 2 >"$T/probe.log" 2>&1
PROBE_PID=$LAST_PID
check "probe partition (uid $U) binds to the echo service" wait_for_line "$T/probe.log" '^bound ' 30
as "$CTL" --socket "$SOCK" --json status >"$T/status.json" 2>>"$T/ctl.err"
check "xenampctl status (uid $U) exits 0" test $? -eq 0
check "status: end host Connected" test "$(end status host state)" = Connected
check "status: end fw Connected" test "$(end status fw state)" = Connected
check "status: host's peer is uid $U ($(end status host peer))" \
	grep -Eq "uid $U\$" <<<"$(end status host peer)"
check "status: fw's peer is uid $U ($(end status fw peer))" \
	grep -Eq "uid $U\$" <<<"$(end status fw peer)"
as "$CTL" --socket "$SOCK" status >"$T/status.txt" 2>>"$T/ctl.err"
check "xenampctl status table shows Connected" grep -q Connected "$T/status.txt"
stop_pid "$PROBE_PID"
check "backend releases the probe's end" wait_gone host 2
# The backend logs each partition's credentials (SO_PEERCRED) as it
# appears: the server, the client and the probe, all as the user.
seen=$(grep -c 'appeared (local pid [0-9]* uid [0-9]*)' "$T/backend.log")
as_u=$(grep -c "appeared (local pid [0-9]* uid $U)" "$T/backend.log")
check "backend saw 3 partitions, all uid $U ($as_u of $seen)" test "$seen" -eq 3 -a "$as_u" -eq 3

# ------------------------------------------------------------ who may connect
# The client's line when connect(2) on the socket is refused (exit status 3:
# cannot open the device).
DENIED="xenamp-echo-client: xenamp_open(partition 'host', device 0): cannot connect to xenamp-backend at $SOCK: Permission denied (run as the backend's user or in the socket's group)"
echoed=$N
if [ "$(id -u)" -eq 0 ]; then
	# The directory lets everyone search it: the socket's mode decides.
	as_id $OTHER $OTHER "$ECHO_CLIENT" --partition host -n 1 -w 5 >"$T/other.log" 2>&1
	rc=$?
	check "client as uid/gid $OTHER: exit status 3 (rc $rc)" test $rc -eq 3
	check "client as uid/gid $OTHER: 'cannot connect ... Permission denied'" \
		grep -Fq "$DENIED" "$T/other.log"
	as_id $OTHER $OTHER "$CTL" --socket "$SOCK" status >"$T/other-ctl.log" 2>&1
	rc=$?
	check "xenampctl as uid/gid $OTHER: exit status 1 (rc $rc)" test $rc -eq 1
	check "xenampctl as uid/gid $OTHER: 'no permission to use'" \
		grep -Fq "xenampctl: no permission to use $SOCK" "$T/other-ctl.log"
	# In the socket's group, 0660 lets it in; but the backend runs as
	# uid $U, neither root nor this user, so the client refuses to share
	# its memory until XENAMP_BACKEND_UID names that uid.
	as_id $OTHER $G "$ECHO_CLIENT" --partition host -n 1 -w 5 >"$T/member0.log" 2>&1
	rc=$?
	check "client as uid $OTHER in group $G, backend uid $U not named: refused (rc $rc)" \
		test $rc -eq 3
	check "... with one line naming the backend's uid" \
		grep -q "refusing the server at $SOCK: it runs as uid $U" "$T/member0.log"
	as_id $OTHER $G env XENAMP_BACKEND_UID=$U "$ECHO_CLIENT" --partition host -n 100 -w 30 -q >"$T/member.log" 2>&1
	rc=$?
	check "client as uid $OTHER in group $G: exits 0 (rc $rc)" test $rc -eq 0
	check "client as uid $OTHER in group $G: every reply intact" \
		grep -q '^sent 100, received 100, mismatches 0' "$T/member.log"
	echoed=$((N + 100))
else
	# One user only: take search permission off the socket's directory.
	chmod 0 "$R"
	as "$ECHO_CLIENT" --partition host -n 1 -w 5 >"$T/other.log" 2>&1
	rc=$?
	chmod 0755 "$R"
	check "client without search permission on $R: exit status 3 (rc $rc)" test $rc -eq 3
	check "client without search permission on $R: 'cannot connect ... Permission denied'" \
		grep -Fq "$DENIED" "$T/other.log"
fi
check "backend still running" kill -0 "$BACKEND_PID"

# ------------------------------------------------------------ stop
kill "$SERVER_PID"
wait "$SERVER_PID"
rc=$?
check "echo server stops on SIGTERM with status 0 (rc $rc)" test $rc -eq 0
check "echo server echoed $echoed messages" grep -q "^echoed $echoed messages" "$T/server.log"
kill "$BACKEND_PID"
wait "$BACKEND_PID"
rc=$?
check "backend stops on SIGTERM with status 0 (rc $rc)" test $rc -eq 0
check "backend removed its socket" test ! -e "$SOCK"
finish
