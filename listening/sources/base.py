from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterator

from listening.posts import Post


@dataclass(frozen=True)
class Page:
    """One page of posts and the cursor to store once the page is safely ingested."""

    posts: list[Post]
    cursor: dict
    skipped: list[str] = field(default_factory=list)  # malformed items, recorded on the run
    has_more: bool = False


class HarvestError(Exception):
    """A platform fault that ends this run; `status` says which kind for the health page."""

    status = "error"


class BadCredentials(HarvestError):
    status = "bad_credentials"


class RateLimited(HarvestError):
    status = "rate_limited"

    def __init__(self, message: str, *, retry_at: datetime):
        super().__init__(message)
        self.retry_at = retry_at


class Source(ABC):
    """Turns a saved search and a stored cursor into pages of posts.

    `pages()` yields pages lazily: the caller stores each page (and its cursor) in
    one transaction before asking for the next, so a run stopped between pages
    resumes exactly where it left off.
    """

    platform: str = ""

    @abstractmethod
    def pages(self, *, query, cursor: dict, max_pages: int) -> Iterator[Page]:
        ...
