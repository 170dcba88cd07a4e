# shellcheck shell=dash
# Guest side of scenario-churn.sh (the churn verb of domu-xenamp.sh),
# installed in the domU image as /opt/xenamp/domu-churn.sh:
#
#   sh domu-churn.sh DEVNO SECS [DIR]
#
# A hostile frontend: for SECS seconds, as fast as the guest can, rewrite
# device DEVNO's num-pages (1..8, and every fourth round 100000, above any
# max-pages), ring-ref0..7 (grant refs this domain never granted) and
# event-channel, then flip its state between 3 (Initialised) and 1 fifty
# times -- all in one xenstore-write, since a process costs far more than
# a write under emulation. Every state write fires the backend's frontend
# watch, and each Initialised it sees asks for a region map. With DIR
# (the control run), the same writes go to DIR instead of the device
# dir: the same load on the guest and xenstored, nothing the backend
# watches. Prints one line: "churn: R rounds, W state writes in S s".
dev=$1
secs=$2
d=${3:-device/rpmsg/$dev}
now() { read -r _u _r < /proc/uptime; echo "${_u%.*}"; }
flips=
k=0
while [ $k -lt 50 ]; do flips="$flips $d/state 3 $d/state 1"; k=$((k + 1)); done
t0=$(now)
end=$((t0 + secs))
i=0
while [ "$(now)" -lt "$end" ]; do
	i=$((i + 1))
	np=$((i % 8 + 1))
	[ $((i % 4)) = 0 ] && np=100000
	# shellcheck disable=SC2086
	xenstore-write "$d/num-pages" "$np" \
		"$d/ring-ref0" "$i" "$d/ring-ref1" "$((i + 1))" "$d/ring-ref2" "$((i + 2))" \
		"$d/ring-ref3" "$((i + 3))" "$d/ring-ref4" "$((i + 4))" "$d/ring-ref5" "$((i + 5))" \
		"$d/ring-ref6" "$((i + 6))" "$d/ring-ref7" "$((i + 7))" \
		"$d/event-channel" 9 $flips 2>/dev/null
done
echo "churn: $i rounds, $((100 * i)) state writes in $(($(now) - t0)) s"
