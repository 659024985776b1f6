#!/usr/bin/env python3
"""probe.py - the two ends of one test flow, for the namespace suite (tests/netns/enforce.sh).

  probe.py listen tcp|udp ADDR PORT --ready FILE [--life S]
      accept connections (tcp: send "ok\\n" and close) or echo datagrams (udp) on ADDR:PORT
      until killed or for at most S seconds (default 30); FILE is written once listening.
  probe.py connect tcp|udp ADDR PORT [--src ADDR] [--sport P] [--timeout S]
      exit 0 if the server answered within S seconds (default 1), 1 if not (refused,
      dropped, timed out), 2 on a local error (cannot bind the source).
Nothing here reaches beyond the addresses given: the suite runs it inside namespaces.
"""
import argparse
import socket
import sys
import threading
import time


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def listen(a):
    fam = family(a.addr)
    kind = socket.SOCK_STREAM if a.proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(fam, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((a.addr, a.port))
    if a.proto == "tcp":
        s.listen(16)
    with open(a.ready, "w") as f:
        f.write("ready\n")
    s.settimeout(0.5)
    end = time.monotonic() + a.life
    while time.monotonic() < end:
        try:
            if a.proto == "tcp":
                c, _ = s.accept()
                c.settimeout(1)
                try:
                    c.sendall(b"ok\n")
                finally:
                    c.close()
            else:
                data, peer = s.recvfrom(2048)
                s.sendto(data, peer)
        except (socket.timeout, OSError):
            continue
    return 0


def connect(a):
    fam = family(a.addr)
    kind = socket.SOCK_STREAM if a.proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(fam, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        if a.src or a.sport:
            s.bind((a.src or ("::" if fam == socket.AF_INET6 else "0.0.0.0"), a.sport or 0))
    except OSError as e:
        print("probe: bind: %s" % e, file=sys.stderr)
        return 2
    s.settimeout(a.timeout)
    try:
        if a.proto == "tcp":
            s.connect((a.addr, a.port))
            return 0 if s.recv(16).startswith(b"ok") else 1
        s.connect((a.addr, a.port))
        s.send(b"probe")
        return 0 if s.recv(64) == b"probe" else 1
    except OSError:
        return 1
    finally:
        s.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["listen", "connect"])
    p.add_argument("proto", choices=["tcp", "udp"])
    p.add_argument("addr")
    p.add_argument("port", type=int)
    p.add_argument("--ready")
    p.add_argument("--life", type=float, default=30)
    p.add_argument("--src")
    p.add_argument("--sport", type=int, default=0)
    p.add_argument("--timeout", type=float, default=1)
    a = p.parse_args()
    if a.mode == "listen":
        if not a.ready:
            p.error("listen needs --ready")
        return listen(a)
    return connect(a)


if __name__ == "__main__":
    threading.current_thread().name = "probe"
    sys.exit(main())
