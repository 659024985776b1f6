#!/usr/bin/env python3
"""csirt_receiver.py - a small HTTPS receiver of IODEF reports for the rlm_mud
spool sender tests (mud_spool_send). Python 3 standard library only.

Usage:
  csirt_receiver.py --cert FILE --key FILE --dir DIR [--port N] [--portfile FILE]
                    [--client-ca FILE] [--status N]

  --cert/--key   PEM server certificate and key.
  --dir DIR      every POST is recorded there as NNNN.body (raw body) and
                 NNNN.ctype (its Content-Type); a multipart/form-data body is
                 also split into NNNN.document.xml and NNNN.signature.p7s
                 (parts named "document" and "signature").
  --port N       TCP port on 127.0.0.1, 0 (default) = pick a free one.
  --portfile F   the port number is written to F (atomically) once listening.
  --client-ca F  require a client certificate issued by a CA in F (mutual TLS).
  --status N     HTTP status answered to POSTs (default 201). The file
                 DIR/status, if present, overrides it on each request, so a
                 test can switch between success and failure without restarts.
                 Requests answered with a status >= 300 are not recorded.

Only POST is accepted (GET etc. get 405). Bodies over 4 MiB get 413.
SIGTERM and SIGINT stop the server (exit status 0).
"""

import argparse
import email.parser
import email.policy
import os
import signal
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 4 * 1024 * 1024


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _answer(self, status, text=b""):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def do_GET(self):
        self._answer(405, b"POST only\n")

    def do_POST(self):
        srv = self.server
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            self._answer(400, b"bad length\n")
            return
        if length < 0 or length > MAX_BODY:
            self._answer(413, b"too large\n")
            self.close_connection = True
            return
        body = self.rfile.read(length)
        status = srv.status
        try:
            with open(os.path.join(srv.dir, "status"), "r", encoding="ascii") as f:
                status = int(f.read().strip())
        except (OSError, ValueError):
            pass
        if status >= 300:
            self._answer(status, b"refused\n")
            return
        ctype = self.headers.get("Content-Type", "")
        with srv.lock:
            srv.count += 1
            base = os.path.join(srv.dir, "%04d" % srv.count)
        with open(base + ".ctype", "w", encoding="utf-8") as f:
            f.write(ctype + "\n")
        if ctype.startswith("multipart/"):
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n" + body)
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                data = part.get_payload(decode=True) or b""
                if name == "document":
                    with open(base + ".document.xml", "wb") as f:
                        f.write(data)
                elif name == "signature":
                    with open(base + ".signature.p7s", "wb") as f:
                        f.write(data)
        # The body last: a test waiting for NNNN.body finds the parts complete.
        with open(base + ".body.tmp", "wb") as f:
            f.write(body)
        os.rename(base + ".body.tmp", base + ".body")
        self._answer(status, b"recorded\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--portfile")
    ap.add_argument("--client-ca")
    ap.add_argument("--status", type=int, default=201)
    args = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    if args.client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(args.client_ca)

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def get_request(self):
            sock, addr = super().get_request()
            sock.settimeout(10)
            return sock, addr

        def finish_request(self, request, client_address):
            # TLS handshake in the connection's own thread.
            try:
                tls = ctx.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
            try:
                self.RequestHandlerClass(tls, client_address, self)
            finally:
                try:
                    tls.close()
                except OSError:
                    pass

    srv = Server(("127.0.0.1", args.port), Handler)
    srv.dir = args.dir
    srv.status = args.status
    srv.count = 0
    srv.lock = threading.Lock()

    def stop(signum, frame):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.portfile:
        tmp = args.portfile + ".tmp"
        with open(tmp, "w", encoding="ascii") as f:
            f.write("%d\n" % srv.server_address[1])
        os.rename(tmp, args.portfile)
    srv.serve_forever()
    srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
