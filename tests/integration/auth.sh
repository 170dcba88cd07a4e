#!/usr/bin/env bash
# Who may be which partition, and who may change the links (issue 13,
# docs/security.md), while an echo pair on another link keeps working:
#  - partition names: a local partition's name is bound to credentials
#    ([partition NAME] uid/gid; without a section only root and the
#    backend's uid). Another uid claiming 'fw' is refused with DENIED
#    (code 7) and one log line naming the name, uid, gid and pid, and the
#    real fw connects meanwhile; configured uids and groups (supplementary
#    ones too) are let in, others are not;
#  - region timeout: a partition that says HELLO and never sends REGION
#    loses the end after region-timeout-ms, and the next one gets it;
#  - dynamic links: a link added by link-add dies with the process that
#    registered it unless "persistent"; 15 junk registrations by processes
#    that exit do not keep a legitimate one out; link-remove removes
#    dynamic links only, and one with a connected end only with --force;
#  - privilege: link-add and link-remove from another uid are refused (no
#    junk links, no re-pointing of a registered link whose ends are
#    absent), unless it is in admin-group;
#  - status privacy: pids and uids of partitions only for privileged
#    clients;
# The parts that act as another uid need root and setpriv; they are
# skipped (with a line saying so) otherwise.
. "$(dirname "$0")/lib.sh"

OTHER=65534         # an unprivileged uid (nobody)
OTHER2=65533        # a second one, and a group for the gid rule
CONF="[backend]
max-services = 64
region-timeout-ms = 1000
dynamic-links = 4
admin-group = 65532

[link echo]
end-a = host
end-b = fw
buf-size = 512
buf-count = 64

[link byuid]
end-a = hu
end-b = pfw

[link bygid]
end-a = hg
end-b = gpart

[link slow]
end-a = slow-a
end-b = slow-b

[partition pfw]
uid = $OTHER

[partition gpart]
gid = $OTHER2"

start_backend "$CONF" || { bad "backend starts"; finish; exit 1; }
LOG=$T/backend.log
FP="timeout 30 $FAKE -S $SOCK"
alive() { kill -0 "$BACKEND_PID" && timeout 5 "$CTL" --json status >/dev/null; }

as_other=no
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
	as_other=yes
	chmod 0755 "$T"
	chmod 0666 "$SOCK"
	# as UID GID [GROUPS] COMMAND...: GROUPS is a comma list or "-".
	as() {
		local u=$1 g=$2 grp=$3; shift 3
		if [ "$grp" = - ]; then
			setpriv --reuid="$u" --regid="$g" --clear-groups --inh-caps=-all -- "$@"
		else
			setpriv --reuid="$u" --regid="$g" --groups="$grp" --inh-caps=-all -- "$@"
		fi
	}
	# The libtool wrapper may relink on its first run: do that as root.
	"$FAKE" --help >/dev/null 2>&1
fi

# ---------------------------------------------------------------- partition names
if [ $as_other = yes ]; then
	# An impostor of another uid claims 'fw' first and would hold it.
	bg as $OTHER $OTHER - $FP -p fw -t 3000 sleep:3000 >"$T/impostor.out" 2>&1
	IMP=$LAST_PID
	sleep 0.5
	bg "$ECHO_SERVER" --partition fw -q >"$T/server.log" 2>&1
	SRV=$LAST_PID
	wait_for_line "$LOG" 'end fw:0 connected' 2
	timeout 5 "$CTL" --json status >"$T/st.json"
	peer=$(json_get "$T/st.json" "[e['peer'] for l in j['links'] for e in l['ends'] if e['partition'] == 'fw'][0]")
	check "names: the real fw (pid $SRV) holds fw:0 while the impostor runs ($peer)" \
		grep -q "pid $SRV uid 0\$" <<<"$peer"
	wait "$IMP"
	rc=$?
	check "names: the impostor never got PARAMS" sh -c "! grep -q '^params' '$T/impostor.out'"
	check "names: the impostor (uid $OTHER) is refused (rc $rc)" test $rc -eq 3
	check "names: ... with DENIED (code 7) saying what to configure" \
		grep -q "^error code=7 msg=uid $OTHER may not be partition 'fw': .*\[partition fw\]" "$T/impostor.out"
	check "names: one log line with the name and the real uid, gid and pid" \
		test "$(grep -Ec "refused partition name 'fw' to pid [0-9]+ uid $OTHER gid $OTHER" "$LOG")" -eq 1
	timeout 30 "$ECHO_CLIENT" --partition host -n 500 -q >"$T/client.log" 2>&1
	check "names: the echo link works with the real fw (500 messages intact)" \
		grep -q '^sent 500, received 500, mismatches 0' "$T/client.log"

	as $OTHER $OTHER - $FP -p pfw close >"$T/uid-ok.out" 2>&1
	check "names: uid $OTHER may be pfw ([partition pfw] uid = $OTHER) (rc $?)" test $? -eq 0
	as $OTHER2 $OTHER2 - $FP -p pfw close >"$T/uid-no.out" 2>&1
	rc=$?
	check "names: uid $OTHER2 may not be pfw (rc $rc, code 7)" \
		sh -c "[ $rc -eq 3 ] && grep -q '^error code=7' '$T/uid-no.out'"
	as $OTHER $OTHER $OTHER2 $FP -p gpart close >"$T/gid-ok.out" 2>&1
	check "names: a member of group $OTHER2 (supplementary) may be gpart (rc $?)" test $? -eq 0
	as $OTHER2 $OTHER2 - $FP -p gpart close >"$T/gid-ok2.out" 2>&1
	check "names: ... and so may a process whose gid is $OTHER2 (rc $?)" test $? -eq 0
	as $OTHER $OTHER - $FP -p gpart close >"$T/gid-no.out" 2>&1
	rc=$?
	check "names: uid $OTHER outside group $OTHER2 may not be gpart (rc $rc, code 7)" \
		sh -c "[ $rc -eq 3 ] && grep -q '^error code=7' '$T/gid-no.out'"
	as $OTHER $OTHER - $FP -p hu close >"$T/none.out" 2>&1
	rc=$?
	check "names: a name without [partition] is root's and the backend's only (rc $rc)" \
		sh -c "[ $rc -eq 3 ] && grep -q '^error code=7' '$T/none.out'"
	check "names: backend alive" alive
else
	echo "# partition names: needs root and setpriv to act as another uid; skipped"
	bg "$ECHO_SERVER" --partition fw -q >"$T/server.log" 2>&1
	wait_for_line "$LOG" 'end fw:0 connected' 10 || bad "echo server connects"
fi

# ---------------------------------------------------------------- region timeout
# HELLO, PARAMS, then nothing: the end is freed after region-timeout-ms
# (1 s here) although the client keeps its connection open.
bg $FP -p slow-b --no-region -t 4000 sleep:4000 >"$T/silent.out" 2>&1
S=$LAST_PID
wait_for_line "$T/silent.out" '^params ' 3 || bad "the silent partition got PARAMS"
sleep 1.5
$FP -p slow-b close >"$T/next.out" 2>&1
rc=$?
check "region timeout: the next slow-b gets the end while the first is still connected (rc $rc)" \
	test $rc -eq 0
check "region timeout: the silent one was told why (code 2, region-timeout-ms)" \
	grep -q '^error code=2 msg=sent no REGION within 1000 ms of PARAMS (region-timeout-ms)' "$T/silent.out"
check "region timeout: the backend logged it once" \
	test "$(grep -c 'slow-b:0 .*sent no REGION within 1000 ms' "$LOG")" -eq 1
stop_pid "$S"
check "region timeout: backend alive" alive

# ---------------------------------------------------------------- dynamic links
CR="timeout 40 python3 $top_srcdir/tests/integration/ctl-request.py"
# links: the names of the links status lists, space-separated.
links() {
	timeout 5 "$CTL" --json status >"$T/links.json" &&
		json_get "$T/links.json" "' '.join(l['name'] for l in j['links'])"
}
has_link() { [[ " $(links) " == *" $1 "* ]]; }
gone_link() { # NAME: wait up to 3 s for NAME to leave status
	local i
	for ((i = 0; i < 60; i++)); do has_link "$1" || return 0; sleep 0.05; done
	return 1
}
add_req() { # NAME END-A END-B [persistent]
	printf '{"cmd":"link-add","name":"%s","end-a":"%s","end-b":"%s"%s}' \
		"$1" "$2" "$3" "${4:+,\"persistent\":true}"
}

# no timeout(1) in between: the registrant is this very process
bg python3 "$top_srcdir/tests/integration/ctl-request.py" "$SOCK" "$(add_req dyn1 d1a d1b)" 30 >"$T/dyn1.out" 2>&1
REG=$LAST_PID
wait_for_line "$T/dyn1.out" '"result":"added"' 5
check "dynamic: link-add by a live process adds dyn1" has_link dyn1
reg=$(json_get "$T/links.json" "[l.get('registrant') for l in j['links'] if l['name'] == 'dyn1'][0]")
check "dynamic: status names its registrant, pid $REG ($reg)" test "$reg" = "$REG"
stop_pid "$REG"
check "dynamic: dyn1 goes when its registrant exits" gone_link dyn1
check "dynamic: ... with one log line naming the pid" \
	grep -q "link dyn1 was removed: the process that registered it (pid $REG) exited" "$LOG"

$CR "$SOCK" "$(add_req dyn2 d2a d2b p)" >"$T/dyn2.out" 2>&1
sleep 0.3
check "dynamic: a persistent link outlives its registrant" has_link dyn2

for ((k = 0; k < 15; k++)); do
	$CR "$SOCK" "$(add_req junk$k j${k}a j${k}b)" >>"$T/junk.out" 2>&1
done
sleep 0.3
$CR "$SOCK" "$(add_req legit la lb p)" >"$T/legit.out" 2>&1
check "dynamic: 15 registrations by exited processes leave room for a legitimate one" \
	grep -q '"result":"added"' "$T/legit.out"
no_junk() { [[ " $(links)" != *" junk"* ]]; }
check "dynamic: ... and none of them is left" no_junk

timeout 5 "$CTL" link-remove legit >"$T/rm.out" 2>&1
check "link-remove: removes a dynamic link (rc $?)" grep -qx 'link legit removed' "$T/rm.out"
check "link-remove: ... it is gone" gone_link legit
# Nothing of a removed link is still offered: a partition that names its
# end is refused as for any unknown end (the Xen side removes the device
# from xenstore: tests/xen/scenario-churn.sh).
bg $FAKE -S "$SOCK" -p la -t 3000 sleep:100 >"$T/la.out" 2>&1
check "link-remove: a partition that names a removed end is refused (code 1, no link)" \
	wait_for_line "$T/la.out" '^error code=1 msg=no link of the backend configuration has the end la:0' 3
stop_pid "$LAST_PID"
timeout 5 "$CTL" link-remove echo >"$T/rm-echo.out" 2>&1
rc=$?
check "link-remove: refuses a link of xenamp.conf (rc $rc)" \
	sh -c "[ $rc -eq 1 ] && grep -q 'comes from the backend.s configuration' '$T/rm-echo.out'"
timeout 5 "$CTL" link-remove nosuch >"$T/rm-none.out" 2>&1
check "link-remove: an unknown link is an error (rc $?)" grep -q 'no link nosuch' "$T/rm-none.out"
$CR "$SOCK" "$(add_req dyn3 d3a d3b p)" >/dev/null 2>&1
bg $FAKE -S "$SOCK" -p d3b -t 5000 sleep:5000 >"$T/d3b.out" 2>&1
D3=$LAST_PID
wait_for_line "$T/d3b.out" '^connected' 5
timeout 5 "$CTL" link-remove dyn3 >"$T/rm-busy.out" 2>&1
rc=$?
check "link-remove: refuses a link with a connected end (rc $rc)" \
	sh -c "[ $rc -eq 1 ] && grep -q 'has a connected end (d3b:0)' '$T/rm-busy.out'"
timeout 5 "$CTL" --force link-remove dyn3 >/dev/null 2>&1
check "link-remove --force: removes it (rc $?)" gone_link dyn3
check "link-remove --force: the connected end is told its link is gone (code 1)" \
	wait_for_line "$T/d3b.out" '^error code=1 msg=link dyn3 was removed' 3
stop_pid "$D3"
$CR "$SOCK" "$(add_req reg rega regb p)" >/dev/null 2>&1
check "dynamic: link reg registered (persistent, ends absent)" has_link reg

# ---------------------------------------------------------------- privilege
if [ $as_other = yes ]; then
	CRX="timeout 40 /usr/bin/python3 $top_srcdir/tests/integration/ctl-request.py"
	n0=$(links | wc -w)
	for ((k = 0; k < 15; k++)); do
		as $OTHER $OTHER - $CRX "$SOCK" "$(add_req evil$k e${k}a e${k}b p)" >>"$T/evil.out" 2>&1
	done
	check "privilege: 15 link-adds by uid $OTHER all refused" \
		test "$(grep -c "link-add changes the backend's links: only root, the backend's user (uid $(id -u)) and members of its admin-group may; this client is uid $OTHER" "$T/evil.out")" -eq 15
	check "privilege: ... and no link added ($n0 before, $(links | wc -w) after)" \
		test "$(links | wc -w)" -eq "$n0"
	as $OTHER $OTHER - $CRX "$SOCK" "$(add_req reg evil regb)" >"$T/repoint.out" 2>&1
	links >/dev/null
	ends=$(json_get "$T/links.json" "','.join(e['partition'] for l in j['links'] if l['name'] == 'reg' for e in l['ends'])")
	check "privilege: uid $OTHER cannot re-point link reg at its own end" \
		sh -c "grep -q 'only root' '$T/repoint.out' && [ '$ends' = rega,regb ]"
	as $OTHER $OTHER - $CRX "$SOCK" '{"cmd":"link-remove","name":"reg"}' >"$T/evil-rm.out" 2>&1
	check "privilege: uid $OTHER cannot link-remove" \
		grep -q 'link-remove changes the backend' "$T/evil-rm.out"
	check "privilege: ... link reg is still there" has_link reg
	as $OTHER $OTHER 65532 $CRX "$SOCK" "$(add_req admin1 ad1a ad1b p)" >"$T/admin.out" 2>&1
	check "privilege: a member of admin-group 65532 may link-add" \
		grep -q '"result":"added"' "$T/admin.out"
	as $OTHER $OTHER 65532 "$CTL" link-remove admin1 >"$T/admin-rm.out" 2>&1
	check "privilege: ... and link-remove (xenampctl as that user)" \
		grep -qx 'link admin1 removed' "$T/admin-rm.out"

	# ------------------------------------------------------------ status privacy
	$CR "$SOCK" "$(add_req dyn3 d3a d3b p)" >/dev/null 2>&1
	bg $FAKE -S "$SOCK" -p d3b -t 5000 sleep:5000 >"$T/p.out" 2>&1
	P=$LAST_PID
	wait_for_line "$T/p.out" '^connected' 5
	as $OTHER $OTHER - "$CTL" --json status >"$T/st-other.json" 2>&1
	timeout 5 "$CTL" --json status >"$T/st-root.json" 2>&1
	check "status privacy: uid $OTHER sees the states" \
		test "$(json_get "$T/st-other.json" "[e['state'] for l in j['links'] for e in l['ends'] if e['partition'] == 'd3b'][0]")" = Connected
	check "status privacy: ... but no peer (pid, uid) and no registrant" \
		test "$(json_get "$T/st-other.json" "sum(('peer' in e) + ('registrant' in l) for l in j['links'] for e in l['ends'])")" = 0
	check "status privacy: ... and is told so" \
		test "$(json_get "$T/st-other.json" "j['peers_shown']")" = False
	check "status privacy: root sees d3b's pid and uid" \
		grep -q "local pid $P uid 0" <<<"$(json_get "$T/st-root.json" "[e['peer'] for l in j['links'] for e in l['ends'] if e['partition'] == 'd3b'][0]")"
	as $OTHER $OTHER - "$CTL" status >"$T/st-other.txt" 2>&1
	check "status privacy: xenampctl's table for uid $OTHER names no pid" \
		sh -c "grep -q 'd3b  *0  *Connected' '$T/st-other.txt' && ! grep -q 'pid [0-9]* uid' '$T/st-other.txt' && grep -q 'peers are shown to root' '$T/st-other.txt'"
	stop_pid "$P"
else
	echo "# privilege, status privacy: need root and setpriv to act as another uid; skipped"
fi
check "dynamic links: backend alive" alive

# ---------------------------------------------------------------- end
kill "$BACKEND_PID" 2>/dev/null
wait "$BACKEND_PID" 2>/dev/null
check "backend exits 0 on SIGTERM ($?)" test $? -eq 0
finish
