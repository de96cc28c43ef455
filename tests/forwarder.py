"""An HTTP forwarder that counts requests on their way to an emulator in another process.

The storages under test talk to the forwarder, which passes each request on
unchanged and logs ``(method, path)`` first: one entry per HTTP request,
whichever process sent it, as a bill would count them. Azurite and
fake-gcs-server (both separate programs) sit behind one.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http import server as http_server

#: Headers about one connection, not the request: never passed on.
_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


#: Called with each request's method and path before it is passed on.
Log = Callable[[str, str], None]


def _handler(upstream: int, log: Log) -> type[http_server.BaseHTTPRequestHandler]:
    class Forward(http_server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body in one segment, sent at once: else each answer waits
        # on the client's delayed ACK (about 40 ms a request).
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
            log(self.command, self.path)
            body = self._body()
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
            headers["Content-Length"] = str(len(body))
            connection = http.client.HTTPConnection("127.0.0.1", upstream, timeout=30)
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                self.send_response(response.status, response.reason)
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
def forwarding(port: int, upstream: int, log: Log) -> Iterator[None]:
    """Forward ``127.0.0.1:port`` to ``127.0.0.1:upstream`` inside the block."""
    httpd = http_server.ThreadingHTTPServer(("127.0.0.1", port), _handler(upstream, log))
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield
    finally:
        httpd.shutdown()
        httpd.server_close()
