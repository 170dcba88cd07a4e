#!/usr/bin/env bash
# Smoke test of the benchmark: xenamp-bench --quick --json runs end to end
# (it starts its own xenamp-backend, found next to itself, forks the
# partitions and the raw baseline), prints JSON with every field, and every
# message count is complete. It never asserts a speed: the figures only
# have to be there (docs/performance.md has the real run). The same for
# --scale (one process per side opening many devices, then idle links).
. "$(dirname "$0")/lib.sh"

BENCH=$B/src/tools/xenamp-bench

"$BENCH" --help >"$T/help.txt" 2>&1
check "xenamp-bench --help exits 0" test $? -eq 0
check "--help names --quick, --json, --messages, --links, --seconds, --backend" \
	sh -c "for o in --quick --json --messages --links --seconds --backend; do grep -q -- \"\$o\" '$T/help.txt' || exit 1; done"
"$BENCH" --links 0 >/dev/null 2>"$T/usage.log"
check "a bad --links is a usage error (exit 2)" test $? -eq 2

# No --backend: it must find the one built next to it.
"$BENCH" --quick --json >"$T/bench.json" 2>"$T/bench.log"
rc=$?
check "xenamp-bench --quick --json exits 0" test $rc -eq 0
[ $rc -eq 0 ] || sed 's/^/# /' "$T/bench.log"

# One "PASS|what" or "FAIL|what" line per check.
python3 - "$T/bench.json" "$(readlink -f "$BACKEND")" >"$T/checks.txt" 2>&1 <<'EOF'
import json, sys

def out(ok, what):
    print(("PASS|" if ok else "FAIL|") + what)

try:
    j = json.load(open(sys.argv[1]))
except Exception as e:
    out(False, "output is valid JSON (%s)" % e)
    sys.exit(0)
out(True, "output is valid JSON")

def num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)

top = ["tool", "version", "mode", "backend", "cpus", "quick", "messages",
       "ratio", "complete", "syscall_source", "notification_source",
       "latency", "throughput", "idle", "targets"]
out(all(k in j for k in top), "top-level fields: " + ", ".join(top))
out(j.get("complete") is True, "complete is true")
out(j.get("quick") is True and j.get("mode") == "local", "quick run, local mode")
out(j.get("backend") == sys.argv[2], "it ran the backend next to it (%s)" % j.get("backend"))
out("higher is better" in j.get("ratio", "") and "lower is better" in j.get("ratio", ""),
    "the ratio's direction is stated")

# The counted figures (counts, never speeds): present, non-negative, and
# consistent: notifications = kicks + calls; every kick is a system call
# of a partition and every call one of the backend, so where system calls
# are counted they are at least that many.
sc_known = str(j.get("syscall_source", "")).startswith("perf")
def counted(c, what, sysname, r0, r1, at_least):
    c = c or {}
    sc = c.get("syscalls_per_msg", {}) or {}
    n, k, ca = (c.get(x) for x in ("notifications_per_msg", "kicks_per_msg", "calls_per_msg"))
    out(num(c.get("messages")) and c.get("messages") >= at_least,
        "%s %s: counted.messages %s >= %s" % (what, sysname, c.get("messages"), at_least))
    out(all(num(x) and x >= 0 for x in (n, k, ca)) and abs(n - k - ca) < 1e-3 * max(1, n),
        "%s %s: notifications_per_msg %s = kicks_per_msg %s + calls_per_msg %s" % (what, sysname, n, k, ca))
    if sysname == "raw":
        out(ca == 0 and sc.get("backend") is None, "%s raw: no backend, no calls" % what)
    if not sc_known:
        out(all(sc.get(x) is None for x in (r0, r1, "backend")),
            "%s %s: system calls unknown, reported as null" % (what, sysname))
        return
    s0, s1 = sc.get(r0), sc.get(r1)
    out(num(s0) and num(s1) and s0 + s1 >= k - 1e-9,
        "%s %s: syscalls_per_msg %s %s + %s %s >= kicks_per_msg %s" % (what, sysname, r0, s0, r1, s1, k))
    if sysname == "xenamp":
        b = sc.get("backend")
        out(num(b) and b >= ca - 1e-9,
            "%s xenamp: syscalls_per_msg backend %s >= calls_per_msg %s" % (what, b, ca))

# Round trips: 32 and 496 bytes, every one completed, both systems.
lat = j.get("latency", [])
out(sorted(x.get("payload") for x in lat) == [32, 496], "latency rows for 32 and 496 bytes")
for x in lat:
    p = x.get("payload")
    n = x.get("round_trips")
    out(num(n) and n > 0, "latency %s B: round_trips" % p)
    for s in ("xenamp", "raw"):
        r = x.get(s, {})
        out(r.get("ok") is True and r.get("completed") == n,
            "latency %s B %s: %s of %s round trips completed" % (p, s, r.get("completed"), n))
        out(all(num(r.get(k)) and r.get(k) > 0 for k in
                ("median_us", "p99_us", "mean_us", "cpu_us_per_round_trip")),
            "latency %s B %s: median_us, p99_us, mean_us, cpu_us_per_round_trip" % (p, s))
        counted(r.get("counted"), "latency %s B" % p, s, "client", "server", n)
    out(num(x.get("ratio_median")) and num(x.get("ratio_p99")),
        "latency %s B: ratio_median, ratio_p99" % p)

# One-way: 496 and 65520 bytes with 1, 4, 16, 64 links; no message lost.
tp = j.get("throughput", [])
want = sorted((p, l) for p in (496, 65520) for l in (1, 4, 16, 64))
have = sorted((x.get("payload"), x.get("links")) for x in tp)
out(have == want, "throughput rows: 496 and 65520 bytes x 1, 4, 16, 64 links")
for x in tp:
    p, l, m = x.get("payload"), x.get("links"), x.get("messages")
    out(num(m) and m >= l and all(num(x.get(k)) for k in ("buf_size", "buf_count")),
        "throughput %s B x %s: messages, buf_size, buf_count" % (p, l))
    for s in ("xenamp", "raw"):
        r = x.get(s, {})
        out(r.get("ok") is True and r.get("sent") == m and r.get("received") == m,
            "throughput %s B x %s %s: sent %s, received %s of %s" %
            (p, l, s, r.get("sent"), r.get("received"), m))
        out(all(num(r.get(k)) for k in ("seconds", "msgs_per_s", "mb_per_s",
                                         "cpu_us_per_msg", "cpu_backend_s",
                                         "cpu_partitions_s")),
            "throughput %s B x %s %s: seconds, msgs_per_s, mb_per_s, cpu_us_per_msg, cpu_backend_s, cpu_partitions_s" % (p, l, s))
        counted(r.get("counted"), "throughput %s B x %s" % (p, l), s, "sender", "receiver", m)
        out((r.get("counted") or {}).get("messages") == m,
            "throughput %s B x %s %s: the counts cover the %s messages" % (p, l, s, m))
    out(num(x.get("ratio_msgs_per_s")) and num(x.get("ratio_cpu_per_msg")),
        "throughput %s B x %s: ratio_msgs_per_s, ratio_cpu_per_msg" % (p, l))

idle = j.get("idle", {})
out(num(idle.get("seconds")), "idle: seconds")
for s in ("xenamp", "raw"):
    r = idle.get(s, {})
    out(r.get("ok") is True and all(num(r.get(k)) for k in
                                    ("backend_cpu_ms", "partitions_cpu_ms", "cpu_percent")),
        "idle %s: backend_cpu_ms, partitions_cpu_ms, cpu_percent" % s)

tg = {t.get("name"): t for t in j.get("targets", [])}
names = ["oneway_496_ratio", "rtt_32_ratio", "idle_cpu_percent", "cpu_per_msg_flat",
         "oneway_496_notify_per_msg"]
out(sorted(tg) == sorted(names), "targets: " + ", ".join(names))
for n in names:
    t = tg.get(n, {})
    out(all(k in t for k in ("what", "goal")) and num(t.get("value"))
        and isinstance(t.get("met"), bool),
        "target %s: what, goal, value, met" % n)
EOF
while IFS='|' read -r st what; do
	case $st in
	PASS) ok "$what" ;;
	FAIL) bad "$what" ;;
	*) bad "checker: $st${what:+|$what}" ;;
	esac
done <"$T/checks.txt"

# --scale: one process on each side opening 1, 16 and 64 devices, then 256
# idle links. Outcomes only: every end connected, every message
# delivered, every figure present (never a speed, never a target).
"$BENCH" --scale --quick --links 1,16,64 --idle-links 256 --seconds 1 --json \
	>"$T/scale.json" 2>"$T/scale.log"
rc=$?
check "xenamp-bench --scale --quick --json exits 0" test $rc -eq 0
[ $rc -eq 0 ] || sed 's/^/# /' "$T/scale.log"
python3 - "$T/scale.json" >"$T/scale-checks.txt" 2>&1 <<'EOF'
import json, sys

def out(ok, what):
    print(("PASS|" if ok else "FAIL|") + what)

def num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)

try:
    j = json.load(open(sys.argv[1]))
except Exception as e:
    out(False, "scale: output is valid JSON (%s)" % e)
    sys.exit(0)
out(j.get("mode") == "scale", "scale: mode is scale")
rows = j.get("rows", [])
out([(r.get("links"), r.get("active")) for r in rows] == [(1, 1), (16, 16), (64, 64), (256, 1)],
    "scale: rows for 1, 16, 64 links (all active) and 256 links (1 active)")
for r in rows:
    what = "scale, %s links (%s active)" % (r.get("links"), r.get("active"))
    out(r.get("ok") is True and r.get("connected") == 2 * r.get("links", 0),
        "%s: all %s ends connected" % (what, r.get("connected")))
    out(r.get("received") == j.get("messages"),
        "%s: all %s messages delivered" % (what, r.get("received")))
    out(all(num(r.get(k)) and r.get(k) >= 0 for k in
            ("backend_ns_per_msg", "partitions_ns_per_msg", "notifications_per_msg", "seconds")),
        "%s: backend_ns_per_msg, partitions_ns_per_msg, notifications_per_msg, seconds" % what)
idle = j.get("idle", {})
out(idle.get("ok") is True and idle.get("links") == 256 and idle.get("connected") == 512,
    "scale idle: 256 links, all 512 ends connected")
out(all(num(idle.get(k)) for k in ("backend_cpu_ms", "backend_tick_ms", "rss_kib_per_link",
                                      "pss_kib_per_link", "seconds")),
    "scale idle: backend_cpu_ms, backend_tick_ms, rss_kib_per_link, pss_kib_per_link")
t = j.get("targets", {})
out(num(t.get("cpu_per_msg_ratio")) and isinstance(t.get("cpu_per_msg_flat_met"), bool)
    and isinstance(t.get("idle_met"), bool), "scale targets: ratio, flat met, idle met")
EOF
while IFS='|' read -r st what; do
	case $st in
	PASS) ok "$what" ;;
	FAIL) bad "$what" ;;
	*) bad "checker: $st${what:+|$what}" ;;
	esac
done <"$T/scale-checks.txt"
finish
