#!/usr/bin/env python3
"""A slow origin for tests: every GET waits DELAY seconds, then answers 200 with its path.

GET /in-flight answers the most requests it ever held at once (and resets the count), so a
test can see how many requests a client kept in flight through whatever sits in between.

    slow-origin.py PORT DELAY
"""
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
current = 0
most = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        global current, most
        if self.path == "/in-flight":
            with lock:
                body, most = str(most).encode(), 0
            return self.answer(body)
        with lock:
            current += 1
            most = max(most, current)
        time.sleep(DELAY)
        with lock:
            current -= 1
        self.answer(('{"path":"%s"}' % self.path).encode())

    def answer(self, body):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    # listen()'s backlog is taken in the constructor: a burst of connections must not wait
    # for SYN retransmits (1 s, 3 s) behind the default of 5.
    request_queue_size = 1024
    daemon_threads = True


if __name__ == "__main__":
    DELAY = float(sys.argv[2])
    Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
