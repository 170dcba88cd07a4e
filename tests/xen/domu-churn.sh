# shellcheck shell=dash
# Guest side of scenario-churn.sh (the churn verb of domu-xenamp.sh),
# installed in the domU image as /opt/xenamp/domu-churn.sh:
#
#   sh domu-churn.sh DEVNO SECS
#
# A hostile frontend: for SECS seconds, as fast as the guest can, rewrite
# device DEVNO's num-pages (1..8, and every fourth round 100000, above any
# max-pages), ring-ref0..7 (grant refs this domain never granted) and
# event-channel, then state 3 (Initialised) in the same xenstore-write,
# then state 1. Each round fires the backend's frontend watch twice and,
# unless the backend limits it, costs it a region map. Prints one line:
# "churn: R rounds, W state writes in S s".
dev=$1
secs=$2
d=device/rpmsg/$dev
now() { read -r _u _r < /proc/uptime; echo "${_u%.*}"; }
t0=$(now)
end=$((t0 + secs))
i=0
while [ "$(now)" -lt "$end" ]; do
	i=$((i + 1))
	np=$((i % 8 + 1))
	[ $((i % 4)) = 0 ] && np=100000
	xenstore-write "$d/num-pages" "$np" \
		"$d/ring-ref0" "$i" "$d/ring-ref1" "$((i + 1))" "$d/ring-ref2" "$((i + 2))" \
		"$d/ring-ref3" "$((i + 3))" "$d/ring-ref4" "$((i + 4))" "$d/ring-ref5" "$((i + 5))" \
		"$d/ring-ref6" "$((i + 6))" "$d/ring-ref7" "$((i + 7))" \
		"$d/event-channel" 9 "$d/state" 3 2>/dev/null
	xenstore-write "$d/state" 1 2>/dev/null
done
echo "churn: $i rounds, $((2 * i)) state writes in $(($(now) - t0)) s"
