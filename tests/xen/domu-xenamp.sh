# shellcheck shell=dash
# Guest hook of scenario-xenamp.sh, installed in the domU image as
# /opt/xenamp/domu-init.sh and run by /init with the domain's name.
#
# fw:   two echo servers (RPMsg devices 0 and 1), restarted if they exit.
# fw2:  one echo server (device 0), likewise.
# all:  a command loop. dom0 writes data/cmd = "ID VERB ARGS..." into this
#       domain's xenstore directory; the guest runs it in the background
#       and writes data/result-ID = "rc=N secs=S <last output line>".
#   echo ID COUNT [client options]   xenamp-echo-client -n COUNT ...
#   vchan-server ID PEER PATH        xenamp-vchan-bench server vchan PEER PATH
#   vchan ID PEER PATH SPEC...       xenamp-vchan-bench client vchan PEER PATH SPEC...
#   relay-server ID DEVNO            xenamp-vchan-bench server relay DEVNO
#   relay ID DEVNO SPEC...           xenamp-vchan-bench client relay DEVNO SPEC...
#                                    (step 5, scenario-perf.sh)
#   rpmsgd-* ID ARGS...              domu-rpmsgd.sh (scenario-rpmsgd.sh)
#   matrix ID COUNT                  matrix-client COUNT on device 0
#                                    (scenario-fwoa.sh)
#   crash ID                         panic the kernel (sysrq c): Xen then
#                                    applies the domain's on_crash
#                                    (scenario-restart.sh); a result is
#                                    written only if the kernel survived
#   churn ID DEVNO SECS              domu-churn.sh (scenario-churn.sh)
# Everything a command prints goes to the console (dom0 prints the
# console logs at the end of the run), prefixed with the ID.
name=$1
export XENAMP_TRANSPORT=xen
# libxenamp wants a partition name; in Xen mode it is the domain itself.
export XENAMP_PARTITION="$name"

up() { read -r _u _r < /proc/uptime; echo "${_u%.*}${_u#*.}"; }   # centiseconds

# fw serves devices 0 and 1; fw2 (booted through libvirt) device 0.
case $name in
fw) devs="0 1" ;;
fw2) devs=0 ;;
*) devs= ;;
esac
if [ -n "$devs" ]; then
	for d in $devs; do
		( while :; do
			xenamp-echo-server -d "$d" -q
			echo "xenamp-domu: echo server on device $d exited ($?); restarting"
			sleep 1
		  done ) &
	done
fi

# panic_now: a kernel panic, as a crashing RTOS would stop. Writing to
# /proc/sysrq-trigger works whatever kernel.sysrq allows (that mask only
# filters the keyboard); the Debian kernel has CONFIG_MAGIC_SYSRQ. On a
# panic a Xen PV kernel shuts the domain down with reason crash at once.
panic_now() {
	[ -w /proc/sysrq-trigger ] || { echo "no /proc/sysrq-trigger: cannot panic"; return 1; }
	echo "xenamp-domu: panicking the kernel (sysrq c)" > /dev/console
	sync
	echo c > /proc/sysrq-trigger
	echo "sysrq c returned: the kernel did not panic"
	return 1
}

run() {
	local id=$1 verb=$2 t0 t1 rc out
	shift 2
	t0=$(up)
	case $verb in
	echo) out=$(xenamp-echo-client -q -n "$@" 2>&1) ;;
	vchan-server) out=$(xenamp-vchan-bench server vchan "$@" 2>&1) ;;
	vchan) out=$(xenamp-vchan-bench client vchan "$@" 2>&1) ;;
	relay-server) out=$(xenamp-vchan-bench server relay "$@" 2>&1) ;;
	relay) out=$(xenamp-vchan-bench client relay "$@" 2>&1) ;;
	rpmsgd-*) out=$(sh /opt/xenamp/domu-rpmsgd.sh "$verb" "$@" 2>&1) ;;
	matrix) out=$(matrix-client "$@" 2>&1) ;;
	crash) out=$(panic_now 2>&1) ;;
	churn) out=$(sh /opt/xenamp/domu-churn.sh "$@" 2>&1) ;;
	*) out="unknown verb $verb" ; false ;;
	esac
	rc=$?
	t1=$(up)
	echo "$out" | sed "s/^/[$id] /"
	xenstore-write "data/result-$id" \
		"rc=$rc secs=$(( (t1 - t0) / 100 )).$(( (t1 - t0) % 100 / 10 ))$(( (t1 - t0) % 10 )) $(echo "$out" | tail -n 1)"
}

( last=
  while :; do
	cmd=$(xenstore-read data/cmd 2>/dev/null)
	if [ -n "$cmd" ] && [ "$cmd" != "$last" ]; then
		last=$cmd
		echo "xenamp-domu: command: $cmd"
		# shellcheck disable=SC2086
		run $cmd &
	fi
	timeout 3 xenstore-watch -n 2 data/cmd > /dev/null 2>&1
  done ) &
exit 0
