"""A tiny round-robin reverse proxy, for tests and demos of several nodes on one machine.

It stands where the operator's TLS proxy would: it adds X-Forwarded-For and X-Forwarded-Proto: https,
and sends each request to the next node in turn, so consecutive steps of one journey land on
different nodes.
"""

from __future__ import annotations

import http.client
import itertools
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization"}


class RoundRobin(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, ports: list[int]):
        self.ports = ports
        self._next = itertools.cycle(ports)
        self._lock = threading.Lock()
        self.served: dict[int, int] = dict.fromkeys(ports, 0)
        super().__init__(("127.0.0.1", 0), _Handler)

    def pick(self) -> int:
        with self._lock:
            port = next(self._next)
            self.served[port] += 1
            return port

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> RoundRobin:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self


class _Handler(BaseHTTPRequestHandler):
    server: RoundRobin

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length", 0) or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        forwarded = self.headers.get("X-Forwarded-For")
        headers["X-Forwarded-For"] = f"{forwarded}, {self.client_address[0]}" if forwarded else self.client_address[0]
        headers["X-Forwarded-Proto"] = "https"
        upstream = http.client.HTTPConnection("127.0.0.1", self.server.pick(), timeout=30)
        upstream.request(self.command, self.path, body=body, headers=headers)
        response = upstream.getresponse()
        payload = response.read()
        self.send_response(response.status)
        for key, value in response.getheaders():   # repeated Set-Cookie headers kept
            if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        upstream.close()

    do_GET = do_POST = _forward

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the stdlib's name)
        pass
