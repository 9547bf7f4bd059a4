#!/usr/bin/env python3
"""A TCP forwarder that cuts connections, to test resuming transfers.

    cutproxy.py --to PORT --cut-after BYTES [--cuts N] [--lifetime S]

Listens on 127.0.0.1 on a port the system picks (written on stdout) and
forwards each connection to 127.0.0.1:PORT.  The first N connections
(default 1) are cut, both ways, once BYTES bytes have gone from the server
to the client; later ones are forwarded whole.  Exits after --lifetime
seconds (default 600), so that a test that dies leaves nothing behind.
"""
import argparse
import os
import socket
import sys
import threading


def pump(src, dst, limit, done):
    """Copy src to dst; stop after limit bytes (None: no limit)."""
    sent = 0
    try:
        while limit is None or sent < limit:
            want = 65536 if limit is None else min(65536, limit - sent)
            data = src.recv(want)
            if not data:
                break
            dst.sendall(data)
            sent += len(data)
    except OSError:
        pass
    finally:
        done.set()


def serve(client, port, limit):
    try:
        server = socket.create_connection(("127.0.0.1", port))
    except OSError:
        client.close()
        return
    done = threading.Event()
    for src, dst, lim in ((client, server, None), (server, client, limit)):
        threading.Thread(target=pump, args=(src, dst, lim, done),
                         daemon=True).start()
    done.wait()
    for s in (client, server):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--to", type=int, required=True)
    ap.add_argument("--cut-after", type=int, required=True)
    ap.add_argument("--cuts", type=int, default=1)
    ap.add_argument("--lifetime", type=float, default=600)
    a = ap.parse_args()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    print(ls.getsockname()[1], flush=True)
    timer = threading.Timer(a.lifetime, lambda: os._exit(0))
    timer.daemon = True
    timer.start()
    n = 0
    while True:
        try:
            client, _ = ls.accept()
        except OSError:
            break
        n += 1
        limit = a.cut_after if n <= a.cuts else None
        threading.Thread(target=serve, args=(client, a.to, limit),
                         daemon=True).start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
