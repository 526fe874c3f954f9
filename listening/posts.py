"""The normalised post every source yields (fields in QUERY_LANGUAGE.md)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Post:
    platform: str
    external_id: str
    text: str = ""
    title: str = ""
    url: str = ""
    author_handle: str = ""
    author_name: str = ""
    created_at: datetime | None = None
    lang: str = ""
    links: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    in_reply_to_handle: str = ""
    kind: str = "post"
    # For a repost or a quote: the external id of the post it reposts or quotes, on the
    # same platform, even when that post was never harvested. Empty otherwise.
    referenced_id: str = ""
    # The platform marks the author as verified (X, Bluesky); Mastodon has no such mark.
    author_verified: bool = False
    # The platform payload, untouched; left out of equality and hashing (dicts are unhashable).
    raw: Mapping = field(default_factory=dict, compare=False, hash=False)
