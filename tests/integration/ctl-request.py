#!/usr/bin/env python3
"""ctl-request: send one control request to the backend and print its
reply (one JSON text) for auth.sh; then stay alive for SECONDS, so that
the process can be the registrant of a link it added (killed by the test).

  ctl-request.py SOCKET JSON [SECONDS]
"""
import socket
import struct
import sys
import time

CTL_REQ, CTL_REPLY, F_LAST = 16, 17, 1
path, req = sys.argv[1], sys.argv[2]
stay = float(sys.argv[3]) if len(sys.argv) > 3 else 0
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(5)
s.connect(path)
s.send(struct.pack("=II", CTL_REQ, 0) + req.encode())
reply = b""
while True:
    d = s.recv(65536)
    if len(d) < 8:
        sys.exit("ctl-request: the backend closed the connection")
    t, flags = struct.unpack("=II", d[:8])
    if t != CTL_REPLY:
        sys.exit("ctl-request: unexpected message type %d" % t)
    reply += d[8:]
    if flags & F_LAST:
        break
s.close()
print(reply.decode(), flush=True)
time.sleep(stay)
