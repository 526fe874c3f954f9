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
    # The platform payload, untouched; left out of equality and hashing (dicts are unhashable).
    raw: Mapping = field(default_factory=dict, compare=False, hash=False)
