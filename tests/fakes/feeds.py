"""A fake web server for news feeds on a real socket: documents with ETag and
Last-Modified (answering conditional GETs with 304), redirects, and scripted answers
(429/503 with Retry-After, 5xx, odd bodies).

    with FakeFeeds() as fake:
        fake.serve("/news/rss.xml", load("northmoor_news_rss2.xml"), etag='"v1"')
        get_source("rss", credentials={}, base_url=None).pages(channel=fake.url_for("/news/rss.xml"), ...)
"""

import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"
RSS = "application/rss+xml; charset=utf-8"


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class Document:
    body: bytes
    content_type: str = RSS
    etag: str = ""
    last_modified: str = ""
    declare_length: bool = True  # False: no Content-Length, the body ends when the connection closes
    headers: dict = field(default_factory=dict)


class FakeFeeds:
    def __init__(self):
        self.documents: dict[str, Document] = {}
        self.redirects: dict[str, tuple[int, str]] = {}
        self.scripted: dict[str, deque] = defaultdict(deque)
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def url_for(self, path: str) -> str:
        return self.url + path

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def serve(self, path: str, body: bytes, **options) -> None:
        self.documents[path] = Document(body=body, **options)

    def redirect(self, path: str, location: str, status: int = 301) -> None:
        self.redirects[path] = (status, location)

    def script(self, path: str, *answers) -> None:
        """Queue answers for `path`: (status, body) or (status, body, headers)."""
        self.scripted[path].extend(answers)

    def hits(self, path: str) -> list[dict]:
        return [r for r in self.requests if r["path"] == path]

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_GET(self):
                request = {"path": self.path, "headers": dict(self.headers.items())}
                with fake.lock:
                    fake.requests.append(request)
                    answer = fake.answer(request)
                self._send(*answer)

            def _send(self, status, body, headers, declare_length=True):
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if declare_length:
                    self.send_header("Content-Length", str(len(body)))
                else:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                if body:
                    self.wfile.write(body)

        return Handler

    def answer(self, request: dict):
        path = request["path"]
        if self.scripted[path]:
            scripted = self.scripted[path].popleft()
            headers = {"Content-Type": "text/html; charset=utf-8", **(scripted[2] if len(scripted) > 2 else {})}
            return scripted[0], scripted[1], headers
        if path in self.redirects:
            status, location = self.redirects[path]
            body = f'<html><body>Moved to <a href="{location}">{location}</a></body></html>'.encode()
            return status, body, {"Location": location, "Content-Type": "text/html"}
        document = self.documents.get(path)
        if document is None:
            return 404, b"<!DOCTYPE html><html><body><h1>Page not found</h1></body></html>", {"Content-Type": "text/html"}
        validators = {}
        if document.etag:
            validators["ETag"] = document.etag
        if document.last_modified:
            validators["Last-Modified"] = document.last_modified
        headers = request["headers"]
        fresh = (document.etag and headers.get("If-None-Match") == document.etag) or (
            not headers.get("If-None-Match") and document.last_modified and headers.get("If-Modified-Since") == document.last_modified
        )
        if fresh:
            return 304, b"", validators
        return 200, document.body, {"Content-Type": document.content_type, **validators, **document.headers}, document.declare_length
