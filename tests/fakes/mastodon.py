"""A fake Mastodon instance on a local socket, speaking Mastodon's wire format.

- `GET /api/v1/timelines/tag/:hashtag`, `GET /api/v1/notifications`,
  `GET /api/v2/search`, `GET /api/v1/accounts/verify_credentials`, `GET /api/v2/instance`.
- Timelines are newest first and take `max_id`, `since_id` and `min_id` as Mastodon
  does: `min_id` gives the statuses *immediately* newer than it, `since_id` the newest
  ones. Non-empty pages carry a `Link` header with `rel="next"` (`max_id`) and
  `rel="prev"` (`min_id`), written with the instance's public address
  (https://mastodon.social), as a real instance behind its domain writes them.
- Search matches every word and "phrase" of `q` in a status's text, understands
  `from:me`, honours `min_id`/`max_id`/`limit`/`offset`, and carries no `Link`
  header. With `full_text = False` it answers no statuses at all, as an instance
  without a search index does.
- Every answer carries `X-RateLimit-Limit/Remaining/Reset` (ISO 8601); a spent budget
  is a 429. Errors are Mastodon's own `{"error": ...}` bodies (tests/fixtures/mastodon/).
"""

import copy
import html
import itertools
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote, urlencode

from tests.fakes.server import FakeServer, Reply

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mastodon"

TAG = "/api/v1/timelines/tag/{hashtag}"
NOTIFICATIONS = "/api/v1/notifications"
SEARCH = "/api/v2/search"
VERIFY = "/api/v1/accounts/verify_credentials"
INSTANCE = "/api/v2/instance"

PUBLIC_URL = "https://mastodon.social"


def fixture(name: str):
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else text


def plain(content: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", content or ""))


class FakeMastodon:
    def __init__(self, server: FakeServer, *, access_token: str = "test-access-token", limit: int = 300):
        self.server = server
        self.access_token = access_token
        data = fixture("statuses.json")
        self.me = data["me"]
        self.accounts = {account["id"]: account for account in data["accounts"]}
        self.statuses: dict[str, dict] = {status["id"]: status for status in data["statuses"]}
        self.notifications: dict[str, dict] = {item["id"]: item for item in fixture("notifications.json")}
        self.full_text = True
        self.limit = limit
        self.remaining = limit
        self.reset = (datetime.now(timezone.utc) + timedelta(minutes=5)).replace(microsecond=0)
        self._ids = itertools.count(112380000000000000)
        self._notification_ids = itertools.count(34980000)
        server.route("GET", TAG, self._tag)
        server.route("GET", NOTIFICATIONS, self._notifications)
        server.route("GET", SEARCH, self._search)
        server.route("GET", VERIFY, self._verify)
        server.route("GET", INSTANCE, self._instance)

    @property
    def url(self) -> str:
        return self.server.url

    # ------------------------------------------------------------------ data

    def add_status(self, text: str, *, tags=(), account: str = "109288765432109876", mentions=(), **fields) -> dict:
        """A new public status, newer than every status so far. `text` is plain; tags are linked."""
        status_id = str(max(next(self._ids), max(map(int, self.statuses)) + 1))
        author = self.accounts[account]
        links = " ".join(
            f'<a href="{PUBLIC_URL}/tags/{tag}" class="mention hashtag" rel="tag">#<span>{tag}</span></a>' for tag in tags
        )
        mentioned = [self.accounts[account_id] for account_id in mentions]
        prefix = " ".join(
            f'<span class="h-card" translate="no"><a href="{m["url"]}" class="u-url mention">@<span>{m["username"]}</span></a></span>'
            for m in mentioned
        )
        status = {
            "id": status_id,
            "created_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "in_reply_to_id": None,
            "in_reply_to_account_id": None,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": "public",
            "language": "en",
            "uri": f"{PUBLIC_URL}/users/{author['username']}/statuses/{status_id}",
            "url": f"{PUBLIC_URL}/@{author['username']}/{status_id}",
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
            "edited_at": None,
            "content": f"<p>{' '.join(filter(None, [prefix, html.escape(text), links]))}</p>",
            "reblog": None,
            "account": author,
            "media_attachments": [],
            "mentions": [{"id": m["id"], "username": m["username"], "url": m["url"], "acct": m["acct"]} for m in mentioned],
            "tags": [{"name": tag, "url": f"{PUBLIC_URL}/tags/{tag.lower()}"} for tag in tags],
            "emojis": [],
            "card": None,
            "poll": None,
            **fields,
        }
        self.statuses[status_id] = status
        if self.me in mentions:
            notification_id = str(next(self._notification_ids))
            self.notifications[notification_id] = {
                "id": notification_id,
                "type": "mention",
                "created_at": status["created_at"],
                "group_key": f"ungrouped-{notification_id}",
                "account": author,
                "status": status,
            }
        return status

    def add_statuses(self, count: int, *, text: str = "Post {n} about data protection", **fields) -> list[dict]:
        return [self.add_status(text.format(n=n), **fields) for n in range(count)]

    def rate_limit_reply(self, reset: datetime | None = None) -> Reply:
        return Reply.json(fixture("too_many_requests.json"), status=429, headers=self._headers(remaining=0, reset=reset))

    # ------------------------------------------------------------------ endpoints

    def _tag(self, request) -> Reply:
        refused = self._refused(request)
        if refused:
            return refused
        name = request.params["hashtag"].lower()
        ids = [status_id for status_id, status in self.statuses.items() if any(tag["name"].lower() == name for tag in status["tags"])]
        page = self._window(ids, request, default=20, most=40)
        statuses = [copy.deepcopy(self.statuses[status_id]) for status_id in page]
        return self._ok(statuses, link=self._link(f"/api/v1/timelines/tag/{quote(request.params['hashtag'])}", page))

    def _notifications(self, request) -> Reply:
        refused = self._refused(request)
        if refused:
            return refused
        types = request.query.get("types[]")
        excluded = request.query.get("exclude_types[]") or []
        ids = [
            notification_id
            for notification_id, item in self.notifications.items()
            if (not types or item["type"] in types) and item["type"] not in excluded
        ]
        page = self._window(ids, request, default=40, most=80)
        extra = [("types[]", kind) for kind in types or []]
        return self._ok(
            [copy.deepcopy(self.notifications[notification_id]) for notification_id in page],
            link=self._link("/api/v1/notifications", page, extra),
        )

    def _search(self, request) -> Reply:
        refused = self._refused(request)
        if refused:
            return refused
        if request.arg("type") not in (None, "statuses", "accounts", "hashtags"):
            return Reply.json({"error": "Validation failed"}, status=422, headers=self._headers())
        q = request.arg("q") or ""
        found = []
        if self.full_text and request.arg("type") in (None, "statuses") and q.strip():
            phrases = [phrase.lower() for phrase in re.findall(r'"([^"]+)"', q)]
            rest = re.sub(r'"[^"]+"', " ", q).split()
            mine = "from:me" in rest
            words = [word.lower() for word in rest if word != "from:me"]
            min_id, max_id = request.arg("min_id"), request.arg("max_id")
            for status_id in sorted(self.statuses, key=int, reverse=True):
                status = self.statuses[status_id]
                if status.get("reblog"):
                    continue
                text = plain(status["content"]).lower()
                if mine and status["account"]["id"] != self.me:
                    continue
                if not all(term in text for term in phrases + words):
                    continue
                if min_id and int(status_id) <= int(min_id) or max_id and int(status_id) >= int(max_id):
                    continue
                found.append(status_id)
            offset = int(request.arg("offset", "0"))
            found = found[offset : offset + min(int(request.arg("limit", "20")), 40)]
        body = {"accounts": [], "statuses": [copy.deepcopy(self.statuses[status_id]) for status_id in found], "hashtags": []}
        return self._ok(body)

    def _verify(self, request) -> Reply:
        refused = self._refused(request)
        if refused:
            return refused
        account = copy.deepcopy(self.accounts[self.me])
        account["source"] = {"privacy": "public", "sensitive": False, "language": "en", "note": "", "fields": []}
        return self._ok(account)

    def _instance(self, request) -> Reply:
        return self._ok(fixture("instance.json"))

    # ------------------------------------------------------------------ paging

    @staticmethod
    def _window(ids, request, *, default: int, most: int) -> list[str]:
        """Mastodon's max_id / since_id / min_id paging over ids, newest first."""
        limit = max(1, min(int(request.arg("limit", str(default))), most))
        max_id, since_id, min_id = request.arg("max_id"), request.arg("since_id"), request.arg("min_id")
        chosen = [
            item
            for item in ids
            if (not max_id or int(item) < int(max_id)) and (not since_id or int(item) > int(since_id)) and (not min_id or int(item) > int(min_id))
        ]
        chosen.sort(key=int)
        if min_id:
            return list(reversed(chosen[:limit]))  # the ones immediately newer than min_id
        return list(reversed(chosen[-limit:]))

    @staticmethod
    def _link(path: str, page: list[str], extra=()) -> str | None:
        if not page:
            return None
        older = urlencode([*extra, ("max_id", page[-1])])
        newer = urlencode([*extra, ("min_id", page[0])])
        return f'<{PUBLIC_URL}{path}?{older}>; rel="next", <{PUBLIC_URL}{path}?{newer}>; rel="prev"'

    # ------------------------------------------------------------------ answers

    def _headers(self, *, remaining: int | None = None, reset: datetime | None = None) -> dict:
        reset = reset or self.reset
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining if remaining is None else remaining),
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        }

    def _ok(self, body, link: str | None = None) -> Reply:
        headers = self._headers()
        if link:
            headers["Link"] = link
        return Reply.json(body, headers=headers)

    def _refused(self, request) -> Reply | None:
        if request.headers.get("authorization") != f"Bearer {self.access_token}":
            return Reply.json(fixture("unauthorized.json"), status=401)
        if self.remaining <= 0:
            return self.rate_limit_reply()
        self.remaining -= 1
        return None
