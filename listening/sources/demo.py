"""The demo source: replays a bundled sample of posts, so a new installation shows
mentions arriving without any platform keys.

The sample is one endless stream. A cursor is a position in it, {"round": r,
"offset": i}; each round replays the sample with fresh ids (`demo-r{round}-{i}`),
so every saved search reading the stream sees the same post under the same id and
ingest stores it once. Every harvest reads `page_size` posts per page, which sets a
steady pace.
"""

import json
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from django.conf import settings
from django.utils import timezone

from listening.posts import Post
from listening.sources.base import Page, Source

SAMPLE_PATH = Path(__file__).with_name("demo_posts.json")


@lru_cache(maxsize=1)
def load_sample() -> dict:
    return json.loads(SAMPLE_PATH.read_text(encoding="utf-8"))


def demo_post(round_no: int, offset: int) -> Post:
    item = load_sample()["posts"][offset]
    external_id = f"demo-r{round_no}-{offset}"
    # Spread the replayed posts over the last few minutes so the inbox reads naturally.
    created_at = timezone.now() - timedelta(seconds=(offset * 7) % 240)
    return Post(
        platform="demo",
        external_id=external_id,
        text=item.get("text", ""),
        title=item.get("title", ""),
        url=f"https://demo.earshot.invalid/{item.get('author_handle', 'someone')}/status/{external_id}",
        author_handle=item.get("author_handle", ""),
        author_name=item.get("author_name", ""),
        created_at=created_at,
        lang=item.get("lang", ""),
        links=tuple(item.get("links", ())),
        mentions=tuple(item.get("mentions", ())),
        in_reply_to_handle=item.get("in_reply_to_handle", ""),
        kind=item.get("kind", "post"),
        # The sample's reposts refer to other sample posts by offset, replayed within the round.
        referenced_id=f"demo-r{round_no}-{item['repost_of']}" if isinstance(item.get("repost_of"), int) else "",
        raw={"sample_offset": offset, "round": round_no, **item},
    )


class DemoSource(Source):
    platform = "demo"

    def __init__(self, *, credentials=None, base_url=None, page_size: int | None = None):
        super().__init__(credentials=credentials, base_url=base_url)
        self.page_size = page_size or settings.EARSHOT_DEMO_PAGE_SIZE

    def pages(self, *, query=None, channel=None, cursor: dict, max_pages: int) -> Iterator[Page]:
        total = len(load_sample()["posts"])
        round_no = int(cursor.get("round", 0))
        offset = int(cursor.get("offset", 0))
        for _ in range(max_pages):
            posts = []
            while len(posts) < self.page_size:
                if offset >= total:
                    round_no, offset = round_no + 1, 0
                posts.append(demo_post(round_no, offset))
                offset += 1
            yield Page(posts=posts, cursor={"round": round_no, "offset": offset}, has_more=True, requests=0)

    def check_connection(self) -> str:
        return f"The demo sample holds {len(load_sample()['posts'])} posts."
