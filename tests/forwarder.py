"""An HTTP forwarder that logs each request it passes on: requests counted as a bill counts them.

The storages under test talk to the forwarder instead of the emulator or
server behind it (moto, SeaweedFS, Azurite, fake-gcs-server), so every HTTP
request is seen, whichever process or client library sent it, without
patching the client. Each request is passed on
unchanged (its ``Host`` too, which request signatures cover) and logged before
it goes; the answer comes back unchanged, its body re-framed with a
``Content-Length``.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http import server as http_server

#: Headers about one connection, not the request: never passed on.
#: ``Expect: 100-continue`` is answered here (``BaseHTTPRequestHandler`` does), not upstream.
_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade", "expect"}

Log = Callable[[http_server.BaseHTTPRequestHandler], None]


def handler(upstream: int, log: Log) -> type[http_server.BaseHTTPRequestHandler]:
    """A request handler passing requests on to ``127.0.0.1:upstream``, calling ``log`` first."""

    class Forward(http_server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body in one buffered write, sent at once: else each answer
        # waits on the client's delayed ACK (about 40 ms a request).
        wbufsize = -1
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                parts = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    if size == 0:
                        self.rfile.readline()
                        return b"".join(parts)
                    parts.append(self.rfile.read(size))
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _forward(self) -> None:
            log(self)
            body = self._body()
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
            headers["Content-Length"] = str(len(body))
            connection = http.client.HTTPConnection("127.0.0.1", upstream, timeout=60)
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                # The upstream's own Server and Date headers are copied below.
                self.send_response_only(response.status, response.reason)
                for key, value in response.getheaders():
                    if key.lower() not in _HOP and key.lower() != "content-length":
                        self.send_header(key, value)
                # A HEAD's Content-Length is the object's size, not of a body sent.
                length = response.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", length or str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
            finally:
                connection.close()

        do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = do_OPTIONS = _forward

    return Forward


@contextmanager
def forwarding(upstream: int, port: int, log: Log) -> Iterator[None]:
    """A forwarder on ``127.0.0.1:port`` to ``127.0.0.1:upstream`` while the block runs."""
    httpd = http_server.ThreadingHTTPServer(("127.0.0.1", port), handler(upstream, log))
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield
    finally:
        httpd.shutdown()
        httpd.server_close()
