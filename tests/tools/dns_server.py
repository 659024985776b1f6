#!/usr/bin/env python3
"""A small authoritative DNS server for tests (UDP, A and AAAA only).

    dns_server.py --zone ZONE.json --port-file FILE [--stats-file FILE] [--bind 127.0.0.1]

ZONE.json maps names (lowercase, no trailing dot) to
    {"A": ["192.0.2.1", ...], "AAAA": ["2001:db8::1", ...],
     "delay_ms": 300,          # answer after this long (other queries keep being served)
     "drop": true,             # never answer
     "rebind": ["127.0.0.1"],  # A answers from the second query on (DNS rebinding)
     "ttl": 60}                # TTL of the answers (default 60)
Names not in the zone get NXDOMAIN. SIGHUP reloads the zone file. The server binds an
ephemeral port, writes it to
--port-file, logs one line per query on stdout, and keeps in --stats-file the number of
queries received and the largest number of queries waiting for their answer at once
("queries N" / "inflight_max N"), which is how a test sees that a client asked in
parallel without timing anything. SIGTERM stops it.
"""
import argparse
import ipaddress
import json
import signal
import socket
import struct
import sys
import threading

TYPE_A = 1
TYPE_AAAA = 28


def parse_question(data):
    """(id, flags, qname, qtype, end offset) of a query, or None."""
    if len(data) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", data[:6])
    if qd != 1:
        return None
    labels = []
    off = 12
    while True:
        if off >= len(data):
            return None
        ln = data[off]
        off += 1
        if ln == 0:
            break
        if ln > 63 or off + ln > len(data):
            return None
        labels.append(data[off:off + ln].decode("ascii", "replace").lower())
        off += ln
    if off + 4 > len(data):
        return None
    qtype, _qclass = struct.unpack("!HH", data[off:off + 4])
    return qid, flags, ".".join(labels), qtype, off + 4


def build_answer(data, parsed, addrs, rcode, ttl=60):
    qid, flags, _name, qtype, qend = parsed
    rflags = 0x8000 | (flags & 0x0100) | 0x0080 | 0x0400 | rcode  # QR, RD copied, RA, AA
    out = struct.pack("!HHHHHH", qid, rflags, 1, len(addrs), 0, 0) + data[12:qend]
    for a in addrs:
        raw = ipaddress.ip_address(a).packed
        out += struct.pack("!HHHIH", 0xC00C, qtype, 1, ttl, len(raw)) + raw
    return out


class Server:
    def __init__(self, zone, stats_file):
        self.zone = zone
        self.stats_file = stats_file
        self.lock = threading.Lock()
        self.inflight = 0
        self.inflight_max = 0
        self.queries = 0
        self.seen = {}

    def write_stats(self):
        if not self.stats_file:
            return
        tmp = self.stats_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("queries %d\ninflight_max %d\n" % (self.queries, self.inflight_max))
        import os
        os.replace(tmp, self.stats_file)

    def answer_for(self, name, qtype):
        ent = self.zone.get(name)
        if ent is None:
            return None, 3, 0, False, 60
        key = "A" if qtype == TYPE_A else ("AAAA" if qtype == TYPE_AAAA else None)
        if key is None:
            return [], 0, 0, False, 60
        with self.lock:
            n = self.seen.get((name, key), 0)
            self.seen[(name, key)] = n + 1
        addrs = ent.get(key, [])
        if key == "A" and n >= 1 and "rebind" in ent:
            addrs = ent["rebind"]
        return (addrs, 0, int(ent.get("delay_ms", 0)), bool(ent.get("drop", False)),
                int(ent.get("ttl", 60)))

    def handle(self, sock, data, peer):
        parsed = parse_question(data)
        if not parsed:
            return
        name, qtype = parsed[2], parsed[3]
        addrs, rcode, delay, drop, ttl = self.answer_for(name, qtype)
        with self.lock:
            self.queries += 1
            self.inflight += 1
            self.inflight_max = max(self.inflight_max, self.inflight)
            self.write_stats()
        print("query %s %s%s" % (name, {1: "A", 28: "AAAA"}.get(qtype, qtype),
                                 " (dropped)" if drop else ""), flush=True)

        def send():
            if not drop:
                try:
                    sock.sendto(build_answer(data, parsed, addrs or [], rcode, ttl), peer)
                except OSError:
                    pass
            with self.lock:
                self.inflight -= 1
                self.write_stats()

        if drop:
            return  # stays "in flight" for ever: it is never answered
        if delay > 0:
            t = threading.Timer(delay / 1000.0, send)
            t.daemon = True
            t.start()
        else:
            send()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zone", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--stats-file")
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()

    with open(args.zone) as f:
        zone = {k.lower().rstrip("."): v for k, v in json.load(f).items()}
    fam = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    sock = socket.socket(fam, socket.SOCK_DGRAM)
    sock.bind((args.bind, args.port))
    srv = Server(zone, args.stats_file)
    srv.write_stats()
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d\n" % sock.getsockname()[1])
    import os
    os.replace(args.port_file + ".tmp", args.port_file)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    def reload(*_):
        # SIGHUP: the zone file again (an operator's DNS change; what was seen is kept)
        with open(args.zone) as zf:
            new = {k.lower().rstrip("."): v for k, v in json.load(zf).items()}
        with srv.lock:
            srv.zone = new
        print("reloaded %s" % args.zone, flush=True)

    signal.signal(signal.SIGHUP, reload)
    while True:
        data, peer = sock.recvfrom(4096)
        srv.handle(sock, data, peer)


if __name__ == "__main__":
    main()
