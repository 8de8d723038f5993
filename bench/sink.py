"""A stand-in for the Stitch Import API that costs as little as possible:
it reads each POST body into a reused buffer without decompressing or
parsing it, counts requests and body bytes, and answers 201 with the
usual JSON.  Connections are kept alive (HTTP/1.1, Content-Length).

    sink = Sink()
    url = sink.start()          # http://127.0.0.1:<port>/v2/import/batch
    ...
    sink.reset(); ...; sink.totals()
    sink.stop()
"""
import http.server
import socket
import threading

ANSWER = b'{"status": "OK", "message": "Batch Accepted!"}'
RESPONSE = (b"HTTP/1.1 201 Created\r\n"
            b"Content-Type: application/json\r\n"
            b"Content-Length: " + str(len(ANSWER)).encode() + b"\r\n"
            b"\r\n" + ANSWER)
BAD_REQUEST = (b"HTTP/1.1 400 Bad Request\r\n"
               b"Content-Type: application/json\r\n"
               b"Content-Length: 2\r\nConnection: close\r\n\r\n{}")
CHUNK = 256 * 1024


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # The answer goes out in one write, but a lone small segment can
        # still wait on a delayed ACK without this.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY,
                                   1)
        self.scratch = memoryview(bytearray(CHUNK))

    def drain(self, n):
        """Read and drop n bytes of body; False if the peer went away."""
        while n > 0:
            got = self.rfile.readinto(self.scratch[:min(n, CHUNK)])
            if not got:
                return False
            n -= got
        return True

    def drain_chunked(self):
        """Read and drop a chunked body; its length, or -1 on error."""
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0], 16)
            except ValueError:
                return -1
            if size == 0:
                break
            if not self.drain(size + 2):
                return -1
            total += size
        while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
            pass
        return total

    def do_POST(self):
        length = self.headers.get("Content-Length")
        if length is not None:
            try:
                n = int(length)
            except ValueError:
                n = -1
            if n < 0 or not self.drain(n):
                n = -1
        elif "chunked" in self.headers.get("Transfer-Encoding", ""):
            n = self.drain_chunked()
        else:
            n = -1
        if n < 0:
            self.close_connection = True
            self.wfile.write(BAD_REQUEST)
            return
        gzipped = self.headers.get("Content-Encoding", "") == "gzip"
        self.server.sink.count(n, gzipped)
        self.wfile.write(RESPONSE)

    def log_message(self, *args):
        pass


class Sink:
    def __init__(self):
        self.lock = threading.Lock()
        self.server = None
        self.thread = None
        self.reset()

    def start(self):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      Handler)
        self.server.daemon_threads = True
        self.server.sink = self
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()
        port = self.server.server_address[1]
        return "http://127.0.0.1:%d/v2/import/batch" % port

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def count(self, n, gzipped):
        with self.lock:
            self.requests += 1
            self.bytes += n
            if not gzipped:
                self.plain += 1

    def reset(self):
        with self.lock:
            self.requests = 0
            self.bytes = 0
            self.plain = 0

    def totals(self):
        """(requests, body bytes, requests not marked gzip)."""
        with self.lock:
            return self.requests, self.bytes, self.plain
