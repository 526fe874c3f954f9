"""A small threaded HTTP server for platform fakes: a route table, a request log and
scripted replies.

    with FakeServer() as server:
        server.route("GET", "/api/v1/timelines/tag/{tag}", handler)   # handler(request) -> Reply
        server.script("GET", "/api/v1/timelines/tag/{tag}", Reply(status=503))  # served first, once
        ... server.url ...
        server.requests("/api/v1/timelines/tag/{tag}")  # what was asked, in order

Real sockets on 127.0.0.1 (port chosen by the system), one thread per connection.
A platform fake (tests/fakes/x.py, mastodon.py) registers the platform's routes.
"""

import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # from {name} in the route

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Announce the whole body's length but send only this many bytes, then hang up.
    truncate_at: int | None = None
    # Send the body with chunked transfer encoding (no Content-Length), in pieces this big.
    chunk_size: int | None = None
    # Seconds to wait before each chunk: a server dripping its body.
    pause: float = 0.0

    @classmethod
    def json(cls, data, status: int = 200, headers: dict | None = None, **kwargs) -> "Reply":
        body = json.dumps(data, ensure_ascii=False).encode()
        return cls(status, body, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}, **kwargs)

    @classmethod
    def html(cls, text: str, status: int = 200, headers: dict | None = None) -> "Reply":
        return cls(status, text.encode(), {"Content-Type": "text/html; charset=utf-8", **(headers or {})})

    @classmethod
    def raw(cls, body: bytes | str, status: int = 200, content_type: str = "application/json", **kwargs) -> "Reply":
        body = body.encode() if isinstance(body, str) else body
        return cls(status, body, {"Content-Type": content_type, **kwargs.pop("headers", {})}, **kwargs)


def _pattern(path: str) -> re.Pattern:
    parts = re.split(r"(\{\w+\})", path)
    regex = "".join(f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part) for part in parts)
    return re.compile(regex + r"\Z")


class FakeServer:
    def __init__(self):
        self._routes: list[tuple[str, str, re.Pattern, object]] = []
        self._scripts: dict[tuple[str, str], deque] = {}
        self._lock = threading.Lock()
        self.log: list[tuple[str, Request]] = []  # (route path, request)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ setup

    def route(self, method: str, path: str, handler) -> None:
        """`handler(request) -> Reply` answers `method path`; `{name}` matches one segment."""
        self._routes.append((method.upper(), path, _pattern(path), handler))

    def script(self, method: str, path: str, *replies: Reply) -> None:
        """The next requests to this route get these replies, in order, before its handler."""
        with self._lock:
            self._scripts.setdefault((method.upper(), path), deque()).extend(replies)

    def requests(self, path: str | None = None) -> list[Request]:
        """Requests received (to one route, if given), in order."""
        with self._lock:
            return [request for route, request in self.log if path is None or route == path]

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> "FakeServer":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def _handle(self):
                fake._serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ serving

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        split = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        request = Request(
            method=handler.command,
            path=unquote(split.path),
            query=parse_qs(split.query, keep_blank_values=True),
            headers={name.lower(): value for name, value in handler.headers.items()},
            body=handler.rfile.read(length) if length else b"",
        )
        reply, route_path = self._reply_for(request)
        with self._lock:
            self.log.append((route_path, request))
        self._write(handler, reply)

    def _reply_for(self, request: Request) -> tuple[Reply, str]:
        for method, path, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if method != request.method or not match:
                continue
            request.params = match.groupdict()
            with self._lock:
                queue = self._scripts.get((method, path))
                scripted = queue.popleft() if queue else None
            return (scripted or handler(request)), path
        return Reply.json({"error": "Not found"}, status=404), ""

    @staticmethod
    def _write(handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        try:
            handler.send_response(reply.status)
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            if reply.chunk_size:
                handler.send_header("Transfer-Encoding", "chunked")
            else:
                handler.send_header("Content-Length", str(len(reply.body)))
            handler.send_header("Connection", "close")
            handler.end_headers()
            if handler.command == "HEAD":
                pass
            elif reply.chunk_size:
                for start in range(0, len(reply.body), reply.chunk_size):
                    piece = reply.body[start : start + reply.chunk_size]
                    if reply.pause:
                        time.sleep(reply.pause)
                    handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                handler.wfile.write(b"0\r\n\r\n")
            else:
                handler.wfile.write(reply.body if reply.truncate_at is None else reply.body[: reply.truncate_at])
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up (a body cap, a timeout): nothing to do
        handler.close_connection = True
