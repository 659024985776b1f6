#!/usr/bin/env python3
"""https_server.py - small HTTPS server for the rlm_mud fetch and integration tests.

Python 3 standard library only (http.server + ssl). One thread per connection;
the TLS handshake runs in that thread, so a client that stalls or rejects the
certificate never blocks the others.

Usage:
  https_server.py --cert FILE --key FILE [--port N] [--bind6 | --bind ADDR] --root DIR
                  [--portfile FILE] [--log FILE] [--connlog FILE] [--verbose]

  --cert/--key  PEM certificate (leaf only or leaf + chain) and its key.
  --port N      TCP port, 0 (default) = pick a free one.
  --bind6       listen on ::1 instead of 127.0.0.1.
  --bind ADDR   listen on ADDR (IPv4 or IPv6 literal) instead: for tests that run in a
                network namespace they create (tests/integration/urlpolicy.sh), where
                the address exists only on that namespace's interfaces.
  --root DIR    files served for GET; ".." escapes are refused (404).
  --portfile F  once listening, the port number plus a newline is written to F
                (atomically: written to F.tmp and renamed), so a test can wait
                for F to appear and read it.
  --log F       one line per HTTP request, appended and flushed at once:
                    METHOD PATH STATUS
                PATH is the request target as sent (with its query string).
                Failed TLS handshakes are not requests and are not logged there
                (they go to stderr with --verbose). Tests count fetches with it.
  --connlog F   one line per accepted TCP connection, appended and flushed at once,
                before the TLS handshake:  CONNECT CLIENT-ADDRESS
                (tests prove that no connection at all was made, not just no request).
  --verbose     http.server's own access/error messages on stderr.

Content types for files: .json -> application/mud+json,
.p7s -> application/pkcs7-signature, anything else -> application/octet-stream.

Special paths (checked before the file tree):
  /redirect-http          302 to http://127.0.0.1:<port>/x.json (a scheme downgrade).
  /redirect-https?to=/p   302 to https://<Host header>/p ("to" must start with "/").
  /redirect-loop          302 to itself, forever.
  /redirect-to?url=U      302 to U exactly as given (any scheme, host and port).
  /slow                   200 with Content-Length: 10, then no body: waits 30 s or
                          until the client goes away or the server is stopped.
  /big?size=N             200 with N bytes of 'A' (N <= 1 GiB) and Content-Length;
                          add &nolength=1 to send no Content-Length (body ends at close).
  /status/NNN             that status (100 < NNN < 600, not 1xx), short text body.
  /echo-accept            200, text/plain body = the request's Accept header ("" if none).
  /echo-header?name=H     200, text/plain body = the request's header H ("" if none).

Other methods than GET get 501. SIGTERM and SIGINT stop the server cleanly
(exit status 0); in-flight /slow responses are abandoned.
"""

import argparse
import os
import select
import signal
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SLOW_SECONDS = 30
BIG_LIMIT = 1 << 30
CHUNK = 64 * 1024

CONTENT_TYPES = {
    ".json": "application/mud+json",
    ".p7s": "application/pkcs7-signature",
}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, family, ctx, root, logfile, verbose, connlog=None):
        self.address_family = family
        self.tls = ctx
        self.root = os.path.realpath(root)
        self.logfile = logfile
        self.connlog = connlog
        self.verbose = verbose
        self.log_lock = threading.Lock()
        self.stopping = threading.Event()
        super().__init__(addr, Handler)

    def verify_request(self, request, client_address):
        # Runs in the accepting thread for every TCP connection, before the handshake.
        if self.connlog:
            with self.log_lock:
                with open(self.connlog, "a", encoding="utf-8") as f:
                    f.write("CONNECT %s\n" % (client_address[0],))
                    f.flush()
        return True

    def finish_request(self, request, client_address):
        # Runs in the per-connection thread: handshake here, not in accept().
        request.settimeout(10)
        try:
            tls = self.tls.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError) as e:
            if self.verbose:
                sys.stderr.write("TLS handshake with %s failed: %s\n" % (client_address, e))
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        if self.verbose:
            super().handle_error(request, client_address)

    def log_line(self, line):
        if not self.logfile:
            return
        with self.log_lock:
            with open(self.logfile, "a", encoding="utf-8", errors="backslashreplace") as f:
                f.write(line + "\n")
                f.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "rlm_mud-test-https"
    sys_version = ""

    # -- logging -------------------------------------------------------
    def log_request(self, code="-", size="-"):
        if isinstance(code, int):
            code = str(int(code))
        method = getattr(self, "command", None) or "-"
        path = getattr(self, "path", None) or "-"
        # Keep the line parseable: no spaces or control characters in PATH.
        path = "".join(c if 0x20 < ord(c) < 0x7F else "%%%02X" % (ord(c) & 0xFF) for c in path)
        self.server.log_line("%s %s %s" % (method, path, code))

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("%s - %s\n" % (self.address_string(), fmt % args))

    # -- helpers -------------------------------------------------------
    def reply(self, status, body=b"", ctype="text/plain", headers=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def redirect(self, location):
        self.reply(302, b"redirect\n", headers={"Location": location})

    def client_gone_or_stop(self, timeout):
        """Wait up to timeout; True if the client closed or the server stops."""
        if self.server.stopping.is_set():
            return True
        try:
            r, _, _ = select.select([self.connection], [], [], timeout)
        except (OSError, ValueError):
            return True
        if not r:
            return self.server.stopping.is_set()
        try:
            data = self.connection.recv(1)
        except ssl.SSLWantReadError:
            return False
        except (OSError, ssl.SSLError):
            return True
        return not data

    # -- special paths -------------------------------------------------
    def do_slow(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/mud+json")
        self.send_header("Content-Length", "10")
        self.end_headers()
        self.wfile.flush()
        deadline = time.monotonic() + SLOW_SECONDS
        while time.monotonic() < deadline:
            if self.client_gone_or_stop(0.2):
                break
        self.close_connection = True

    def do_big(self, query):
        try:
            size = int(query.get("size", ["0"])[0])
        except ValueError:
            size = -1
        if size < 0 or size > BIG_LIMIT:
            self.reply(400, b"bad size\n")
            return
        nolength = query.get("nolength", ["0"])[0] not in ("0", "")
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if nolength:
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(size))
        self.end_headers()
        block = b"A" * CHUNK
        left = size
        try:
            while left > 0:
                n = min(left, CHUNK)
                self.wfile.write(block[:n])
                left -= n
            self.wfile.flush()
        except (OSError, ssl.SSLError):
            self.close_connection = True

    def do_status(self, rest):
        try:
            code = int(rest)
        except ValueError:
            code = 0
        if code < 200 or code > 599:
            self.reply(400, b"bad status\n")
            return
        if code in (204, 304):
            self.send_response(code)
            self.end_headers()
            return
        self.reply(code, ("status %d\n" % code).encode())

    def do_file(self, path):
        rel = urllib.parse.unquote(path).lstrip("/")
        full = os.path.realpath(os.path.join(self.server.root, rel))
        if full != self.server.root and not full.startswith(self.server.root + os.sep):
            self.reply(404, b"not found\n")
            return
        if not os.path.isfile(full):
            self.reply(404, b"not found\n")
            return
        with open(full, "rb") as f:
            body = f.read()
        ext = os.path.splitext(full)[1].lower()
        self.reply(200, body, CONTENT_TYPES.get(ext, "application/octet-stream"))

    # -- dispatch ------------------------------------------------------
    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        path = url.path
        port = self.server.server_address[1]

        if path == "/redirect-http":
            self.redirect("http://127.0.0.1:%d/x.json" % port)
        elif path == "/redirect-https":
            to = query.get("to", ["/x.json"])[0]
            if not to.startswith("/"):
                self.reply(400, b"'to' must be a path\n")
                return
            host = self.headers.get("Host") or "127.0.0.1:%d" % port
            self.redirect("https://%s%s" % (host, to))
        elif path == "/redirect-loop":
            self.redirect("/redirect-loop")
        elif path == "/redirect-to":
            self.redirect(query.get("url", [""])[0])
        elif path == "/slow":
            self.do_slow()
        elif path == "/big":
            self.do_big(query)
        elif path.startswith("/status/"):
            self.do_status(path[len("/status/"):])
        elif path == "/echo-accept":
            self.reply(200, (self.headers.get("Accept") or "").encode())
        elif path == "/echo-header":
            name = query.get("name", [""])[0]
            self.reply(200, (self.headers.get(name) or "").encode())
        else:
            self.do_file(path)


def main():
    ap = argparse.ArgumentParser(description="HTTPS test server for rlm_mud")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--bind6", action="store_true")
    ap.add_argument("--bind")
    ap.add_argument("--connlog")
    ap.add_argument("--root", required=True)
    ap.add_argument("--portfile")
    ap.add_argument("--log")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)

    if args.bind:
        family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
        addr = (args.bind, args.port)
    elif args.bind6:
        addr, family = ("::1", args.port), socket.AF_INET6
    else:
        addr, family = ("127.0.0.1", args.port), socket.AF_INET
    if args.connlog:
        open(args.connlog, "a").close()
    srv = Server(addr, family, ctx, args.root, args.log, args.verbose, args.connlog)

    def stop(signum, frame):
        srv.stopping.set()
        # shutdown() waits for serve_forever() to return: not from its own thread.
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    if args.portfile:
        tmp = args.portfile + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.replace(tmp, args.portfile)

    try:
        srv.serve_forever(poll_interval=0.1)
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
