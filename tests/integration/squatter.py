#!/usr/bin/env python3
"""squatter: a server that pretends to be xenamp-backend, for security.sh.
Listens on PATH for SECONDS and reports, one line each, what clients hand
it: "hello NAME" (a partition named itself), "region fds=N" (a partition
sent its region and N file descriptors), "ctl" (a control request). It
answers HELLO with PARAMS carrying a notification socket, so that a
client that trusts it goes as far as sending its memory.

  squatter.py PATH SECONDS
"""
import array
import socket
import struct
import sys
import time

path, secs = sys.argv[1], float(sys.argv[2])
srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
srv.bind(path)
srv.listen(16)
srv.settimeout(0.1)
print("listening", flush=True)
deadline = time.monotonic() + secs
conns = []
while time.monotonic() < deadline:
    try:
        c, _ = srv.accept()
        c.settimeout(0.1)
        conns.append(c)
    except socket.timeout:
        pass
    for c in list(conns):
        try:
            msg, anc, _, _ = c.recvmsg(65536, socket.CMSG_SPACE(16 * 4))
        except socket.timeout:
            continue
        except OSError:
            conns.remove(c)
            continue
        if not msg:
            conns.remove(c)
            continue
        fds = array.array("i")
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
        (typ,) = struct.unpack_from("=I", msg)
        if typ == 1:
            name = msg[16:80].split(b"\0")[0].decode(errors="replace")
            print("hello %s" % name, flush=True)
            a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            c.sendmsg([struct.pack("=IIII", 2, 512, 64, 4096)],
                      [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [b.fileno()]))])
            b.close()
        elif typ == 3:
            print("region fds=%d" % len(fds), flush=True)
        elif typ == 16:
            print("ctl", flush=True)
            c.send(struct.pack("=II", 17, 1) + b'{"ok": true}')
print("done", flush=True)
