#!/usr/bin/env python3
"""conn-holder: a hostile local client for security.sh. Opens COUNT
connections to the backend's socket (non-blocking connects, so a full
backlog does not stall it) and holds them for SECONDS. Mode none: says
nothing; ctl: sends control requests as fast as they go in and never reads
a reply, until the backend drops one of the connections (or SECONDS). Prints "held N of COUNT" once all are tried, and at the end
"closed-by-backend K" (connections the backend closed meanwhile).

  conn-holder.py SOCKET COUNT SECONDS [none|ctl]
"""
import resource
import select
import socket
import struct
import sys
import time

path, count, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
mode = sys.argv[4] if len(sys.argv) > 4 else "none"
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = count + 64 if hard == resource.RLIM_INFINITY else min(hard, count + 64)
if soft != resource.RLIM_INFINITY and soft < want:
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
socks = []
give_up = time.monotonic() + 10
for i in range(count):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.setblocking(False)
    while True:
        try:
            s.connect(path)
            socks.append(s)
        except (BlockingIOError, InterruptedError):
            # the backlog is full: the backend takes them as it can
            if time.monotonic() < give_up:
                time.sleep(0.001)
                continue
            s.close()
        except OSError:
            s.close()
        break

REQ = struct.pack("=II", 16, 0) + b'{"cmd": "status"}'


def flood(live):
    """ctl mode: requests as fast as they go in; the replies are never read."""
    for s in live:
        for _ in range(64):
            try:
                s.send(REQ, socket.MSG_DONTWAIT)
            except OSError:
                break


print("held %d of %d" % (len(socks), count), flush=True)
deadline = time.monotonic() + secs
closed = set()
# Event mask 0: poll reports only hang-ups and errors, never the (unread)
# replies, so this loop sleeps rather than spins.
p = select.poll()
for s in socks:
    p.register(s, 0)
# ctl mode ends as soon as the backend dropped one of us: what the test
# checks is that it does, and how fast the backend fills its bound
# depends on how much CPU it gets, so SECONDS is only a safety limit.
while time.monotonic() < deadline and len(closed) < len(socks) and \
        not (mode == "ctl" and closed):
    wait_ms = max(1, int((deadline - time.monotonic()) * 1000))
    if mode == "ctl":
        flood([s for s in socks if s.fileno() not in closed])
        wait_ms = min(wait_ms, 20)
    for fd, ev in p.poll(wait_ms):
        if fd not in closed:
            closed.add(fd)
            p.unregister(fd)
print("closed-by-backend %d" % len(closed), flush=True)
