#!/usr/bin/env python3
"""HTTP(S) test server for tests/unit/test_fetch.c.

    server.py --root DIR [--tls CERT KEY]

Listens on 127.0.0.1 on an ephemeral port and prints the port on stdout,
one line, once it accepts connections. Files come from DIR; the first path
segment chooses the behaviour:

    /ok/NAME               the file; honours Range: bytes=N-
    /norange/NAME          the file, always whole (200), Range ignored
    /drop-once/NAME        first request: Content-Length of the whole answer,
                           half of it, then the connection closes; after that
                           like /ok/
    /drop-once-norange/NAME   the same, then like /norange/
    /drop-always/NAME      every answer (Range honoured) stops halfway
    /wrong/NAME            the file with its first byte flipped
    /500-once/NAME         first request 500, then like /ok/
    /503/NAME              always 503
    /redirect/K/NAME       302 to /redirect/K-1/NAME, /redirect/1 to /ok/NAME
    /to-file/NAME          302 to file://DIR/NAME
    /stall/NAME            headers and 100 bytes, then nothing for 30 s
    /slow/NAME             like /ok/, in 16 pieces 40 ms apart
    anything else          404

    /_stats                JSON {path: {"count": n, "ranges": [hdr|null…]}}
                           of every request since the last /_reset
    /_reset                forgets the counts and the "once" states

The server exits on SIGTERM or when stdin reaches end of file.
"""
import argparse
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
stats = {}
used_once = set()
ROOT = "."


def first_time(key):
    with lock:
        if key in used_once:
            return False
        used_once.add(key)
        return True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def serve_file(self, name, ranges=True, part=1.0, pieces=1, flip=False,
                   stall=False):
        path = os.path.join(ROOT, name)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            self.send(404, b"no such file\n")
            return
        if flip and data:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        start, code, headers = 0, 200, []
        rng = self.headers.get("Range")
        if ranges and rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= len(data):
                self.send(416, headers=[
                    ("Content-Range", "bytes */%d" % len(data))])
                return
            code = 206
            headers.append(("Content-Range", "bytes %d-%d/%d" %
                            (start, len(data) - 1, len(data))))
        body = data[start:]
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        if part < 1.0 or stall:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if stall:
            self.wfile.write(body[:100])
            self.wfile.flush()
            time.sleep(30)
            return
        body = body[:int(len(body) * part)]
        step = max(1, -(-len(body) // pieces))
        for i in range(0, len(body), step):
            if i:
                time.sleep(0.04)
            self.wfile.write(body[i:i + step])
            self.wfile.flush()

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/_stats":
            with lock:
                body = json.dumps(stats, sort_keys=True).encode()
            self.send(200, body, [("Content-Type", "application/json")])
            return
        if path == "/_reset":
            with lock:
                stats.clear()
                used_once.clear()
            self.send(200, b"ok\n")
            return
        with lock:
            s = stats.setdefault(path, {"count": 0, "ranges": []})
            s["count"] += 1
            s["ranges"].append(self.headers.get("Range"))
        parts = path.split("/")
        mode = parts[1] if len(parts) > 2 else ""
        name = "/".join(parts[2:])
        if mode == "ok":
            self.serve_file(name)
        elif mode == "norange":
            self.serve_file(name, ranges=False)
        elif mode in ("drop-once", "drop-once-norange"):
            ranges = mode == "drop-once"
            if first_time(path):
                self.serve_file(name, ranges=ranges, part=0.5)
            else:
                self.serve_file(name, ranges=ranges)
        elif mode == "drop-always":
            self.serve_file(name, part=0.5)
        elif mode == "wrong":
            self.serve_file(name, flip=True)
        elif mode == "500-once":
            if first_time(path):
                self.send(500, b"try again\n")
            else:
                self.serve_file(name)
        elif mode == "503":
            self.send(503, b"busy\n")
        elif mode == "redirect" and len(parts) > 3 and parts[2].isdigit():
            k, rest = int(parts[2]), "/".join(parts[3:])
            to = "/ok/" + rest if k <= 1 else "/redirect/%d/%s" % (k - 1, rest)
            self.send(302, headers=[("Location", to)])
        elif mode == "to-file":
            to = "file://" + os.path.join(os.path.abspath(ROOT), name)
            self.send(302, headers=[("Location", to)])
        elif mode == "stall":
            self.serve_file(name, stall=True)
        elif mode == "slow":
            self.serve_file(name, pieces=16)
        else:
            self.send(404, b"not found\n")


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that rejected our certificate, or hung up


def main():
    global ROOT
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = ap.parse_args()
    ROOT = args.root
    httpd = Server(("127.0.0.1", 0), Handler)
    if args.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls[0], args.tls[1])
        # The handshake happens in the handler's thread, so a client
        # that rejects the certificate does not stall the accept loop.
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True,
                                       do_handshake_on_connect=False)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    os.write(1, b"%d\n" % httpd.server_address[1])
    # The test holds our stdin open: when it goes away, so do we.
    sys.stdin.read()
    httpd.shutdown()


if __name__ == "__main__":
    main()
