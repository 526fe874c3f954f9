"""A fake X API v2 on a local socket, speaking X's wire format.

- `GET /2/tweets/search/recent`, `GET /2/users/:id/mentions`, `GET /2/lists/:id/tweets`,
  `GET /2/users/:id`, with a bearer token.
- Newest first. `since_id` on search and mentions; `next_token` (search) and
  `pagination_token` (mentions, lists) page through a result set fixed when its first
  page was asked for, as X's tokens do. `meta.newest_id`/`oldest_id` describe the page.
- Only the fields asked for come back: `tweet.fields`, `user.fields`, and `includes`
  built from `expansions`.
- Every answer carries `x-rate-limit-limit/remaining/reset`; a spent budget is a 429.
- Errors are X's own bodies (tests/fixtures/x/).

Tests add posts with `add_tweet`, and fault replies with `server.script(...)`.
"""

import copy
import itertools
import json
import secrets
import time
from pathlib import Path

from tests.fakes.server import FakeServer, Reply

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "x"

SEARCH = "/2/tweets/search/recent"
MENTIONS = "/2/users/{id}/mentions"
LIST_TWEETS = "/2/lists/{id}/tweets"
USER = "/2/users/{id}"

DEFAULT_TWEET_FIELDS = ("id", "text", "edit_history_tweet_ids")
DEFAULT_USER_FIELDS = ("id", "name", "username")


def fixture(name: str):
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else text


class FakeX:
    def __init__(self, server: FakeServer, *, bearer_token: str = "test-bearer-token", limit: int = 450):
        self.server = server
        self.bearer_token = bearer_token
        corpus = fixture("corpus.json")
        self.tweets: dict[str, dict] = {tweet["id"]: tweet for tweet in corpus["data"]}
        self.users: dict[str, dict] = {user["id"]: user for user in corpus["includes"]["users"]}
        # What search answers: None means every post in the store (X's matching is not faked).
        self.search_ids: list[str] | None = None
        self.lists: dict[str, set[str]] = {}  # list id -> member user ids
        self.limit = limit
        self.remaining = limit
        self.reset = int(time.time()) + 900
        self._pages: dict[str, list[str]] = {}  # token -> ids still to serve
        self._ids = itertools.count(1785999000000000000)
        server.route("GET", SEARCH, self._search)
        server.route("GET", MENTIONS, self._mentions)
        server.route("GET", LIST_TWEETS, self._list_tweets)
        server.route("GET", USER, self._user)

    @property
    def url(self) -> str:
        return self.server.url

    # ------------------------------------------------------------------ data

    def add_tweet(self, text: str, *, author: str = "1000000002", **fields) -> dict:
        """A new post, newer than every post so far."""
        tweet_id = str(max(next(self._ids), max(map(int, self.tweets), default=0) + 1))
        tweet = {
            "id": tweet_id,
            "text": text,
            "author_id": author,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "lang": "en",
            "conversation_id": tweet_id,
            "edit_history_tweet_ids": [tweet_id],
            **fields,
        }
        self.tweets[tweet_id] = tweet
        return tweet

    def add_tweets(self, count: int, *, text: str = "Post {n} about the Freedom of Information Act", **fields) -> list[dict]:
        return [self.add_tweet(text.format(n=n), **fields) for n in range(count)]

    def rate_limit_reply(self, reset: int | None = None) -> Reply:
        """X's 429: its body and a spent budget."""
        return Reply.json(
            fixture("too_many_requests.json"),
            status=429,
            headers={"x-rate-limit-limit": str(self.limit), "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset or self.reset)},
        )

    # ------------------------------------------------------------------ endpoints

    def _search(self, request) -> Reply:
        return self._timeline(request, self._newest_first(self.search_ids), token_param="next_token", since=True, sizes=(10, 100))

    def _mentions(self, request) -> Reply:
        user = self.users.get(request.params["id"])
        if user is None:
            return self._not_found(request, "user", request.params["id"])
        ids = [
            tweet_id
            for tweet_id, tweet in self.tweets.items()
            if any(m.get("username") == user["username"] for m in tweet.get("entities", {}).get("mentions", []))
        ]
        return self._timeline(request, self._newest_first(ids), token_param="pagination_token", since=True, sizes=(5, 100))

    def _list_tweets(self, request) -> Reply:
        members = self.lists.get(request.params["id"])
        if members is None:
            return self._not_found(request, "list", request.params["id"])
        ids = [tweet_id for tweet_id, tweet in self.tweets.items() if tweet.get("author_id") in members]
        # The list timeline has no since_id and no newest_id/oldest_id in its meta.
        return self._timeline(request, self._newest_first(ids), token_param="pagination_token", since=False, sizes=(1, 100))

    def _user(self, request) -> Reply:
        refused = self._refused(request)
        if refused:
            return refused
        user = self.users.get(request.params["id"])
        if user is None:
            return self._not_found(request, "user", request.params["id"])
        return self._ok({"data": self._fields(user, request, "user.fields", DEFAULT_USER_FIELDS)})

    # ------------------------------------------------------------------ the machinery of a timeline

    def _newest_first(self, ids) -> list[str]:
        ids = self.tweets.keys() if ids is None else ids
        return sorted(ids, key=int, reverse=True)

    def _timeline(self, request, ids: list[str], *, token_param: str, since: bool, sizes: tuple[int, int]) -> Reply:
        refused = self._refused(request)
        if refused:
            return refused
        size = int(request.arg("max_results", "10"))
        if not sizes[0] <= size <= sizes[1]:
            return self._invalid(
                {"max_results": [str(size)]}, f"The `max_results` query parameter value [{size}] is not between {sizes[0]} and {sizes[1]}"
            )
        token = request.arg(token_param)
        if token is not None:
            if token not in self._pages:
                return self._invalid({token_param: [token]}, f"The `{token_param}` query parameter value [{token}] is not valid")
            remaining = self._pages.pop(token)
        else:
            since_id = request.arg("since_id") if since else None
            remaining = [tweet_id for tweet_id in ids if since_id is None or int(tweet_id) > int(since_id)]
        page, rest = remaining[:size], remaining[size:]
        meta: dict = {"result_count": len(page)}
        if page and since:
            meta["newest_id"], meta["oldest_id"] = page[0], page[-1]
        if rest:
            next_token = secrets.token_hex(16)
            self._pages[next_token] = rest
            meta["next_token"] = next_token
        body: dict = {}
        if page:
            body["data"] = [self._fields(self.tweets[tweet_id], request, "tweet.fields", DEFAULT_TWEET_FIELDS) for tweet_id in page]
            includes = self._includes([self.tweets[tweet_id] for tweet_id in page], request)
            if includes:
                body["includes"] = includes
        body["meta"] = meta
        return self._ok(body)

    def _includes(self, tweets: list[dict], request) -> dict:
        expansions = set(filter(None, (request.arg("expansions") or "").split(",")))
        user_ids: list[str] = []
        referenced: list[dict] = []
        for tweet in tweets:
            if "author_id" in expansions:
                user_ids.append(tweet.get("author_id"))
            if "in_reply_to_user_id" in expansions and tweet.get("in_reply_to_user_id"):
                user_ids.append(tweet["in_reply_to_user_id"])
            for ref in tweet.get("referenced_tweets", []):
                original = self.tweets.get(ref["id"])
                if original is None:
                    continue
                if "referenced_tweets.id" in expansions:
                    referenced.append(original)
                if "referenced_tweets.id.author_id" in expansions:
                    user_ids.append(original.get("author_id"))
        includes: dict = {}
        users = [self.users[user_id] for user_id in dict.fromkeys(user_ids) if user_id in self.users]
        if users:
            includes["users"] = [self._fields(user, request, "user.fields", DEFAULT_USER_FIELDS) for user in users]
        if referenced:
            unique = {tweet["id"]: tweet for tweet in referenced}.values()
            includes["tweets"] = [self._fields(tweet, request, "tweet.fields", DEFAULT_TWEET_FIELDS) for tweet in unique]
        return includes

    @staticmethod
    def _fields(item: dict, request, param: str, defaults: tuple[str, ...]) -> dict:
        wanted = set(defaults) | set(filter(None, (request.arg(param) or "").split(",")))
        if "author_id" in (request.arg("expansions") or "").split(","):
            wanted.add("author_id")
        return {key: copy.deepcopy(value) for key, value in item.items() if key in wanted}

    # ------------------------------------------------------------------ answers

    def _headers(self) -> dict:
        return {"x-rate-limit-limit": str(self.limit), "x-rate-limit-remaining": str(self.remaining), "x-rate-limit-reset": str(self.reset)}

    def _ok(self, body: dict) -> Reply:
        return Reply.json(body, headers=self._headers())

    def _refused(self, request) -> Reply | None:
        if request.headers.get("authorization") != f"Bearer {self.bearer_token}":
            return Reply.json(fixture("unauthorized.json"), status=401)
        if self.remaining <= 0:
            return self.rate_limit_reply()
        self.remaining -= 1
        return None

    def _invalid(self, parameters: dict, message: str) -> Reply:
        return Reply.json(
            {
                "errors": [{"parameters": parameters, "message": message}],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request",
            },
            status=400,
            headers=self._headers(),
        )

    def _not_found(self, request, kind: str, value: str) -> Reply:
        refused = self._refused(request)
        if refused:
            return refused
        return Reply.json(
            {
                "errors": [
                    {
                        "value": value,
                        "detail": f"Could not find {kind} with id: [{value}].",
                        "title": "Not Found Error",
                        "resource_type": kind,
                        "parameter": "id",
                        "resource_id": value,
                        "type": "https://api.twitter.com/2/problems/resource-not-found",
                    }
                ]
            },
            headers=self._headers(),
        )
