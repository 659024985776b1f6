#!/usr/bin/env python3
"""connect_proxy.py - a small HTTP CONNECT proxy for the rlm_mud proxy tests.

Python 3 standard library only. Listens on 127.0.0.1, answers CONNECT host:port by
opening a TCP connection there (127.0.0.1 / ::1 / localhost only: it never relays
traffic off the machine) and relaying bytes both ways; any other method gets 405.

Usage:
  connect_proxy.py [--port N] --portfile FILE --log FILE

  --port N      TCP port, 0 (default) = pick a free one.
  --portfile F  once listening, the port number plus a newline is written to F
                (atomically: F.tmp renamed).
  --log F       one line per request, appended and flushed at once:
                    CONNECT host:port STATUS      (200 relayed, 403 not local, 502 failed)
                    OTHER METHOD TARGET 405
"""
import argparse
import os
import select
import socket
import threading

LOCAL = ("127.0.0.1", "::1", "localhost")


def log_line(path, lock, line):
    with lock:
        with open(path, "a") as f:
            f.write(line + "\n")
            f.flush()


def relay(a, b):
    socks = [a, b]
    try:
        while True:
            r, _, _ = select.select(socks, [], [], 30)
            if not r:
                return
            for s in r:
                data = s.recv(65536)
                if not data:
                    return
                (b if s is a else a).sendall(data)
    except OSError:
        return


def handle(conn, args, lock):
    try:
        conn.settimeout(10)
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 8192:
            chunk = conn.recv(4096)
            if not chunk:
                return
            head += chunk
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split()
        if len(parts) != 3 or parts[0] != "CONNECT":
            log_line(args.log, lock, "OTHER %s 405" % line)
            conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        target = parts[1]
        host, _, port = target.rpartition(":")
        host = host.strip("[]")
        if host not in LOCAL or not port.isdigit():
            log_line(args.log, lock, "CONNECT %s 403" % target)
            conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        try:
            up = socket.create_connection((host, int(port)), timeout=10)
        except OSError:
            log_line(args.log, lock, "CONNECT %s 502" % target)
            conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        log_line(args.log, lock, "CONNECT %s 200" % target)
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        conn.settimeout(None)
        relay(conn, up)
        up.close()
    except OSError:
        pass
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--portfile", required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    lock = threading.Lock()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", args.port))
    s.listen(64)
    with open(args.portfile + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(args.portfile + ".tmp", args.portfile)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=handle, args=(conn, args, lock), daemon=True).start()


if __name__ == "__main__":
    main()
