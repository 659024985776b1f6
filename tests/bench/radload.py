#!/usr/bin/env python3
"""radload.py - closed-loop RADIUS load generator for benchmarks (stdlib only).

Sends Cisco MAB Access-Requests (User-Name/User-Password = MAC, Service-Type
Call-Check, Calling-Station-Id, optional Cisco-AVPair values given as raw
bytes in hex) or dACL downloads to a RADIUS server, from N concurrent
clients, each waiting for its answer before sending the next request, and
prints throughput and latency percentiles. It asserts nothing.

  radload.py --server 127.0.0.1:1812 --secret testing123 --requests 5000 \
             --concurrency 8 [--avpair-hex HEX]... [--user NAME] [--expect accept]
"""
import argparse
import hashlib
import hmac
import os
import socket
import struct
import sys
import threading
import time

ACCESS_REQUEST, ACCESS_ACCEPT, ACCESS_REJECT, ACCESS_CHALLENGE = 1, 2, 3, 11
CODES = {ACCESS_ACCEPT: "accept", ACCESS_REJECT: "reject", ACCESS_CHALLENGE: "challenge"}


def attr(t, value):
    if len(value) > 253:
        raise ValueError("attribute %d longer than 253 bytes" % t)
    return struct.pack("BB", t, len(value) + 2) + value


def vsa(vendor, vtype, value):
    return attr(26, struct.pack("!I", vendor) + struct.pack("BB", vtype, len(value) + 2) + value)


def hide_password(password, secret, authenticator):
    p = password + b"\0" * ((16 - len(password) % 16) % 16) if password else b"\0" * 16
    out, last = b"", authenticator
    for i in range(0, len(p), 16):
        b = hashlib.md5(secret + last).digest()
        c = bytes(x ^ y for x, y in zip(p[i:i + 16], b))
        out += c
        last = c
    return out


def build(ident, secret, user, password, avpairs, mab):
    ra = os.urandom(16)
    attrs = attr(1, user)
    if password is not None:
        attrs += attr(2, hide_password(password, secret, ra))
    if mab:
        attrs += attr(6, struct.pack("!I", 10))            # Service-Type = Call-Check
        attrs += attr(31, user)                            # Calling-Station-Id
    attrs += attr(4, socket.inet_aton("127.0.0.1"))        # NAS-IP-Address
    for v in avpairs:
        attrs += vsa(9, 1, v)                              # Cisco-AVPair
    ma_off = 20 + len(attrs) + 2
    attrs += attr(80, b"\0" * 16)                          # Message-Authenticator
    pkt = struct.pack("!BBH", ACCESS_REQUEST, ident, 20 + len(attrs)) + ra + attrs
    mac = hmac.new(secret, pkt, hashlib.md5).digest()
    return pkt[:ma_off] + mac + pkt[ma_off + 16:]


def worker(args, count, lat, codes, errors):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(args.timeout)
    host, port = args.server.rsplit(":", 1)
    dest = (host, int(port))
    ident = 0
    for _ in range(count):
        ident = (ident + 1) & 0xff
        user = args.next_user()
        pkt = build(ident, args.secret.encode(), user.encode(),
                    None if args.dacl else user.encode(), args.avpairs, not args.dacl)
        t0 = time.perf_counter()
        sock.sendto(pkt, dest)
        while True:
            try:
                data, _ = sock.recvfrom(4096)
            except socket.timeout:
                errors.append("timeout")
                break
            if len(data) >= 20 and data[1] == ident:
                lat.append(time.perf_counter() - t0)
                codes[data[0]] = codes.get(data[0], 0) + 1
                break
    sock.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", required=True)
    ap.add_argument("--secret", default="testing123")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--user", default="001122334455")
    ap.add_argument("--avpair-hex", action="append", default=[],
                    help="a Cisco-AVPair value as hex bytes (binary-safe)")
    ap.add_argument("--avpair", action="append", default=[], help="a Cisco-AVPair text value")
    ap.add_argument("--dacl", action="store_true", help="dACL download requests (User-Name = name)")
    ap.add_argument("--users-file", help="User-Names (MACs or dACL names), one a line, used "
                    "in turn, each once per round (a cold download per name)")
    ap.add_argument("--label", default="requests")
    args = ap.parse_args()
    users = [args.user]
    if args.users_file:
        users = [l.strip() for l in open(args.users_file) if l.strip()]
    lock = threading.Lock()
    turn = [0]

    def next_user():
        with lock:
            turn[0] += 1
            return users[(turn[0] - 1) % len(users)]
    args.next_user = next_user
    args.avpairs = [bytes.fromhex(h) for h in args.avpair_hex] + [a.encode() for a in args.avpair]
    if args.dacl:
        args.avpairs += [b"aaa:service=ip_admission", b"aaa:event=acl-download"]

    per = [args.requests // args.concurrency] * args.concurrency
    for i in range(args.requests % args.concurrency):
        per[i] += 1
    lats = [[] for _ in per]
    codes = [{} for _ in per]
    errors = []
    threads = [threading.Thread(target=worker, args=(args, n, lats[i], codes[i], errors))
               for i, n in enumerate(per)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    lat = sorted(x for l in lats for x in l)
    total = {}
    for c in codes:
        for k, v in c.items():
            total[CODES.get(k, str(k))] = total.get(CODES.get(k, str(k)), 0) + v
    if not lat:
        print("%s: no answers (%d errors)" % (args.label, len(errors)))
        return 1

    def pct(p):
        return lat[min(len(lat) - 1, int(p / 100.0 * len(lat)))] * 1000.0

    print("%s: %d requests, %d concurrent: %.0f req/s, latency p50 %.2f ms, p99 %.2f ms, "
          "max %.2f ms; answers %s; %d timeouts"
          % (args.label, args.requests, args.concurrency, len(lat) / elapsed, pct(50), pct(99),
             lat[-1] * 1000.0, ", ".join("%s %d" % kv for kv in sorted(total.items())),
             len(errors)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
