#!/usr/bin/env python3
"""conn-holder: a hostile local client for security.sh. Opens COUNT
connections to the backend's socket (non-blocking connects, so a full
backlog does not stall it) and holds them for SECONDS, optionally sending
one datagram first. Prints "held N of COUNT" once all are tried, and at the
end "closed-by-backend K" (connections the backend closed meanwhile).

  conn-holder.py SOCKET COUNT SECONDS [hello|ctl|none]
"""
import select
import socket
import struct
import sys
import time

path, count, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
mode = sys.argv[4] if len(sys.argv) > 4 else "none"
socks = []
for i in range(count):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.setblocking(False)
    try:
        s.connect(path)
    except (BlockingIOError, InterruptedError):
        pass
    except OSError:
        s.close()
        continue
    if mode == "ctl":
        # a control request whose replies are never read
        req = b'{"cmd": "status"}'
        try:
            s.send(struct.pack("=II", 16, 0) + req)
        except OSError:
            pass
    socks.append(s)
print("held %d of %d" % (len(socks), count), flush=True)
deadline = time.monotonic() + secs
closed = set()
# Event mask 0: poll reports only hang-ups and errors, never the (unread)
# replies, so this loop sleeps rather than spins.
p = select.poll()
for s in socks:
    p.register(s, 0)
while time.monotonic() < deadline and len(closed) < len(socks):
    for fd, ev in p.poll(max(1, int((deadline - time.monotonic()) * 1000))):
        if fd not in closed:
            closed.add(fd)
            p.unregister(fd)
print("closed-by-backend %d" % len(closed), flush=True)
