"""A fake Bluesky PDS on a real socket: XRPC paths, JSON bodies, `{"error", "message"}`
error bodies, `RateLimit-*` headers, app-password sign-in and session refresh.

    with FakeBluesky() as fake:
        fake.posts = load("search_posts.json")
        source = get_source("bluesky", credentials=fake.credentials, base_url=fake.url)

Search filters by `since` (on sortAt, the earlier of createdAt and indexedAt), pages
newest first by an opaque cursor, `page_size` posts at a time. It ignores `q` unless
`searches_text` is set: then a post must hold every word and "phrase" of `q`
(case-insensitive; `-`, `#` and `name:value` operators aside) and every `tag` among its
hashtag facets, as Bluesky's search does. `script(nsid, …)`
queues raw answers (status, body, headers) to send instead of the normal ones.
"""

import itertools
import json
import re
import secrets
import threading
import time
from collections import defaultdict, deque
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bluesky"

ORG_DID = "did:plc:n4rthmoorcouncilxq7vbk2a"
ORG_HANDLE = "northmoor-council.bsky.social"
APP_PASSWORD = "k3x7-9qpd-m2wa-v8zt"

PROFILES = {
    ORG_DID: ORG_HANDLE,
    "did:plc:j4n3foir3qu3st3rz5mw6yd7": "jane-foi.bsky.social",
    "did:plc:c3rysd4vi3sc4rdiff5ab6cd": "cerys.bsky.social",
    "did:plc:l33dsliv3n3wsd3sk7ef2gh3": "leedslive-news.bsky.social",
}


def load(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def sort_at(post: dict) -> datetime:
    try:
        return min(_when(post["record"]["createdAt"]), _when(post["indexedAt"]))
    except (KeyError, TypeError, ValueError):
        return _when(post.get("indexedAt", "1970-01-01T00:00:00Z")) if isinstance(post, dict) else datetime.min.replace(tzinfo=timezone.utc)


def _finds(post: dict, q: str, tags: list[str]) -> bool:
    record = post.get("record") if isinstance(post, dict) else None
    text = record.get("text") if isinstance(record, dict) else None
    if not isinstance(text, str):
        return False
    text = text.casefold()
    facets = record.get("facets") if isinstance(record.get("facets"), list) else []
    post_tags = {
        feature.get("tag", "").casefold()
        for facet in facets if isinstance(facet, dict) and isinstance(facet.get("features"), list)
        for feature in facet["features"] if isinstance(feature, dict) and feature.get("$type") == "app.bsky.richtext.facet#tag"
    }
    if not all(tag.casefold() in post_tags for tag in tags):
        return False
    for phrase, word in re.findall(r'"([^"]*)"|(\S+)', q):
        wanted = (phrase or word).casefold()
        if word and (word.startswith("-") or ":" in word):
            continue
        if word.startswith("#"):
            if wanted[1:] not in post_tags:
                return False
        elif not re.search(r"(?<!\w)" + re.escape(wanted) + r"(?!\w)", text):
            return False
    return True


class FakeBluesky:
    RATE_LIMIT = 3000
    WINDOW_SECONDS = 300

    def __init__(self, *, page_size: int = 100, filters_reasons: bool = True, searches_text: bool = False):
        self.page_size = page_size
        self.searches_text = searches_text
        # Older servers ignore listNotifications' `reasons` and send every kind.
        self.filters_reasons = filters_reasons
        self.accounts = {ORG_HANDLE: {"password": APP_PASSWORD, "did": ORG_DID, "handle": ORG_HANDLE}}
        self.profiles = dict(PROFILES)
        self.posts: list = []
        self.notifications: list = []
        self.requests: list[dict] = []
        self.scripted: dict[str, deque] = defaultdict(deque)
        self.access_tokens: dict[str, str] = {}  # token → did
        self.refresh_tokens: dict[str, str] = {}
        self.expired: set[str] = set()
        self.remaining = self.RATE_LIMIT
        self.lock = threading.Lock()
        self._cursors = itertools.count(1)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # ------------------------------------------------------------------ control

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def credentials(self) -> dict:
        return {"identifier": ORG_HANDLE, "app_password": APP_PASSWORD}

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def script(self, nsid: str, *answers) -> None:
        """Queue answers for `nsid`: (status, body) or (status, body, headers); body is
        a dict (sent as JSON) or bytes (sent as they are)."""
        self.scripted[nsid].extend(answers)

    def calls(self, nsid: str) -> list[dict]:
        return [r for r in self.requests if r["nsid"] == nsid]

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.expired.update(self.access_tokens)

    # ------------------------------------------------------------------ serving

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

            def _serve(self, method):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                nsid = parts.path[len("/xrpc/"):] if parts.path.startswith("/xrpc/") else ""
                request = {
                    "method": method,
                    "nsid": nsid,
                    "params": parse_qs(parts.query),
                    "headers": dict(self.headers.items()),
                    "body": body,
                }
                with fake.lock:
                    fake.requests.append(request)
                    status, payload, headers = fake.answer(request)
                self._send(status, payload, headers)

            def _send(self, status, payload, headers):
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                sent = {k.lower() for k in headers}
                if "content-type" not in sent:
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def _rate_headers(self) -> dict:
        self.remaining = max(0, self.remaining - 1)
        return {
            "RateLimit-Limit": str(self.RATE_LIMIT),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(int(time.time()) + self.WINDOW_SECONDS),
            "RateLimit-Policy": f"{self.RATE_LIMIT};w={self.WINDOW_SECONDS}",
        }

    def answer(self, request: dict):
        headers = self._rate_headers()
        nsid = request["nsid"]
        if self.scripted[nsid]:
            scripted = self.scripted[nsid].popleft()
            status, body = scripted[0], scripted[1]
            extra = scripted[2] if len(scripted) > 2 else {}
            return status, body, {**headers, **extra}
        route = {
            "com.atproto.server.createSession": self._create_session,
            "com.atproto.server.refreshSession": self._refresh_session,
            "com.atproto.server.getSession": self._get_session,
            "app.bsky.feed.searchPosts": self._search_posts,
            "app.bsky.notification.listNotifications": self._list_notifications,
            "app.bsky.actor.getProfiles": self._get_profiles,
        }.get(nsid)
        if route is None:
            return 501, {"error": "MethodNotImplemented", "message": "Method Not Implemented"}, headers
        needs_access = nsid not in ("com.atproto.server.createSession", "com.atproto.server.refreshSession")
        if needs_access:
            refused = self._check_access(request)
            if refused:
                return (*refused, headers)
        status, body = route(request)
        return status, body, headers

    def _bearer(self, request) -> str:
        value = request["headers"].get("Authorization", "")
        return value[len("Bearer "):] if value.startswith("Bearer ") else ""

    def _check_access(self, request):
        token = self._bearer(request)
        if not token:
            return 401, {"error": "AuthenticationRequired", "message": "Authentication Required"}
        if token in self.expired:
            return 400, {"error": "ExpiredToken", "message": "Token has expired"}
        if token not in self.access_tokens:
            return 401, {"error": "InvalidToken", "message": "Token could not be verified"}
        return None

    def _issue(self, did: str) -> dict:
        handle = next((a["handle"] for a in self.accounts.values() if a["did"] == did), "")
        access = "eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJFUzI1NksifQ." + secrets.token_urlsafe(24)
        refresh = "eyJ0eXAiOiJyZWZyZXNoK2p3dCIsImFsZyI6IkVTMjU2SyJ9." + secrets.token_urlsafe(24)
        self.access_tokens[access] = did
        self.refresh_tokens[refresh] = did
        return {
            "accessJwt": access,
            "refreshJwt": refresh,
            "handle": handle,
            "did": did,
            "email": "digital@northmoor.gov.uk",
            "emailConfirmed": True,
            "emailAuthFactor": False,
            "active": True,
        }

    def _create_session(self, request):
        try:
            data = json.loads(request["body"] or b"{}")
        except ValueError:
            return 400, {"error": "InvalidRequest", "message": "Request body must be JSON"}
        if not isinstance(data.get("identifier"), str) or not isinstance(data.get("password"), str):
            return 400, {"error": "InvalidRequest", "message": 'Input must have the property "identifier"'}
        account = self.accounts.get(data["identifier"].lower())
        if account is None or account["password"] != data["password"]:
            return 401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
        return 200, self._issue(account["did"])

    def _refresh_session(self, request):
        token = self._bearer(request)
        did = self.refresh_tokens.pop(token, None)  # a refresh token is spent once used
        if did is None:
            return 400, {"error": "InvalidToken", "message": "Token has been revoked"}
        return 200, self._issue(did)

    def _get_session(self, request):
        did = self.access_tokens[self._bearer(request)]
        handle = next(a["handle"] for a in self.accounts.values() if a["did"] == did)
        return 200, {"handle": handle, "did": did, "email": "digital@northmoor.gov.uk", "emailConfirmed": True, "active": True}

    def _page(self, items: list, params: dict, key: str, extra: dict | None = None):
        try:
            limit = int(params.get("limit", ["25"])[0])
        except ValueError:
            return 400, {"error": "InvalidRequest", "message": "limit must be an integer"}
        if not 1 <= limit <= 100:
            return 400, {"error": "InvalidRequest", "message": "limit can not be greater than 100"}
        offset = 0
        if params.get("cursor"):
            try:
                offset = int(params["cursor"][0].split(":")[1])
            except (IndexError, ValueError):
                return 400, {"error": "InvalidRequest", "message": "Malformed cursor"}
        size = min(limit, self.page_size)
        page = items[offset : offset + size]
        body = {key: page, **(extra or {})}
        if offset + size < len(items):
            body["cursor"] = f"{next(self._cursors)}:{offset + size}"
        return 200, body

    def _search_posts(self, request):
        params = request["params"]
        if not params.get("q"):
            return 400, {"error": "InvalidRequest", "message": 'Error: Params must have the property "q"'}
        posts = sorted(self.posts, key=sort_at, reverse=True)
        if self.searches_text:
            posts = [p for p in posts if _finds(p, params["q"][0], params.get("tag", []))]
        if params.get("since"):
            since = _when(params["since"][0])
            posts = [p for p in posts if sort_at(p) >= since]
        status, body = self._page(posts, params, "posts")
        if status == 200:
            body["hitsTotal"] = len(posts)
        return status, body

    def _list_notifications(self, request):
        params = request["params"]
        items = sorted(self.notifications, key=lambda n: n.get("indexedAt", "") if isinstance(n, dict) else "", reverse=True)
        if params.get("reasons") and self.filters_reasons:
            items = [n for n in items if not isinstance(n, dict) or n.get("reason") in params["reasons"]]
        return self._page(items, params, "notifications", {"priority": False, "seenAt": "2025-05-14T08:00:00.000Z"})

    def _get_profiles(self, request):
        actors = request["params"].get("actors", [])
        if len(actors) > 25:
            return 400, {"error": "InvalidRequest", "message": "actors must not have more than 25 elements"}
        profiles = [
            {"did": did, "handle": self.profiles[did], "displayName": "", "labels": [], "createdAt": "2023-09-14T10:02:11.000Z"}
            for did in actors
            if did in self.profiles
        ]
        return 200, {"profiles": profiles}
