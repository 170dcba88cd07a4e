# shellcheck shell=dash
# Guest side of scenario-rpmsgd.sh, installed in the domU image as
# /opt/xenamp/domu-rpmsgd.sh; domu-xenamp.sh runs it for the rpmsgd-*
# verbs (dom0 writes data/cmd = "ID VERB ARGS..."), with XENAMP_PARTITION
# and XENAMP_TRANSPORT set. Its last line of output is the result line.
#
#   rpmsgd-start DEVNO [OPTIONS]  start xenamp-rpmsgd on device DEVNO in
#                                 the background; wait for /dev/rpmsg_ctrlDEVNO
#   rpmsgd-services DEVNO NAME    wait until the peer's service NAME is in
#                                 the services file; print "NAME ADDRESS"
#   rpmsgd-chardev DEVNO NAME N   rpmsg-chardev-test against service NAME
#   rpmsgd-ttydemo DEVNO LINES    start xenamp-tty-demo in the background
#   rpmsgd-tty PATH LINES         read PATH with cat; wait for LINES console
#                                 lines; type a line; wait for the answer
#   rpmsgd-stop DEVNO             SIGTERM the daemon of DEVNO; wait for it
#                                 to exit and its devices to go
#   rpmsgd-ttydemo-stop           SIGTERM the tty demo
verb=$1
shift

# wait_for SECONDS CMD...: until CMD succeeds, looking twice a second
# (processes are expensive under TCG) for SECONDS of uptime
wait_for() {
	local _lim
	_lim=$(( $(cut -d. -f1 /proc/uptime) + $1 ))
	shift
	while ! "$@" 2>/dev/null; do
		[ "$(cut -d. -f1 /proc/uptime)" -lt "$_lim" ] || return 1
		sleep 0.5
	done
}

has_service() { grep -q "^$2 " "/run/xenamp/rpmsg_ctrl$1.services"; }
has_lines() { [ "$(tr -d '\r' < "$1" | grep -c 'xenamp-tty-demo: console line')" -ge "$2" ]; }
has_reply() { tr -d '\r' < "$1" | grep -q "tty-demo: got '$2'"; }
gone() { ! kill -0 "$1"; }

case $verb in
rpmsgd-start)
	d=$1
	shift
	setsid xenamp-rpmsgd -d "$d" "$@" > "/tmp/rpmsgd-$d.log" 2>&1 < /dev/null &
	echo $! > "/tmp/rpmsgd-$d.pid"
	if wait_for 30 test -c "/dev/rpmsg_ctrl$d"; then
		echo "xenamp-rpmsgd on device $d (pid $(cat "/tmp/rpmsgd-$d.pid")): /dev/rpmsg_ctrl$d is up"
	else
		cat "/tmp/rpmsgd-$d.log"
		echo "no /dev/rpmsg_ctrl$d after 30 s"
		exit 1
	fi
	;;
rpmsgd-services)
	if wait_for 30 has_service "$1" "$2"; then
		grep "^$2 " "/run/xenamp/rpmsg_ctrl$1.services"
	else
		cat "/run/xenamp/rpmsg_ctrl$1.services" "/tmp/rpmsgd-$1.log"
		echo "service $2 not listed after 30 s"
		exit 1
	fi
	;;
rpmsgd-chardev)
	addr=$(awk -v n="$2" '$1 == n { print $2; exit }' "/run/xenamp/rpmsg_ctrl$1.services")
	rpmsg-chardev-test -c "/dev/rpmsg_ctrl$1" -s "$2" -a "${addr:-4294967295}" -n "$3" -m 496
	;;
rpmsgd-ttydemo)
	setsid xenamp-tty-demo -d "$1" -n "$2" -i 300 -v > /tmp/tty-demo.log 2>&1 < /dev/null &
	echo $! > /tmp/tty-demo.pid
	echo "xenamp-tty-demo on device $1 (pid $!)"
	;;
rpmsgd-tty)
	if ! wait_for 30 test -L "$1"; then
		ls -l /dev/ttyRPMSG* /run/xenamp 2>&1
		echo "no $1 after 30 s"
		exit 1
	fi
	cat "$1" > /tmp/tty.out &
	catpid=$!
	rc=0
	if wait_for 30 has_lines /tmp/tty.out "$2"; then
		printf 'hello from a shell\r' > "$1"
		wait_for 20 has_reply /tmp/tty.out 'hello from a shell' || rc=1
	else
		rc=1
	fi
	kill "$catpid" 2>/dev/null
	tr -d '\r' < /tmp/tty.out
	echo "$1 -> $(readlink "$1"): $(tr -d '\r' < /tmp/tty.out | grep -c 'console line') console lines read; answer to a typed line: $(has_reply /tmp/tty.out 'hello from a shell' && echo seen || echo missing)"
	exit $rc
	;;
rpmsgd-stop)
	pid=$(cat "/tmp/rpmsgd-$1.pid")
	kill "$pid"
	if wait_for 10 gone "$pid" && wait_for 5 test ! -e "/dev/rpmsg_ctrl$1"; then
		cat "/tmp/rpmsgd-$1.log"
		echo "xenamp-rpmsgd on device $1 stopped; /dev/rpmsg_ctrl$1 removed; ttyRPMSG links left: $(find /dev -maxdepth 1 -name "ttyRPMSG*" | wc -l)"
	else
		cat "/tmp/rpmsgd-$1.log"
		echo "xenamp-rpmsgd on device $1 did not stop cleanly"
		exit 1
	fi
	;;
rpmsgd-ttydemo-stop)
	kill "$(cat /tmp/tty-demo.pid)"
	wait_for 10 gone "$(cat /tmp/tty-demo.pid)"
	cat /tmp/tty-demo.log
	;;
*)
	echo "unknown verb $verb"
	exit 2
	;;
esac
