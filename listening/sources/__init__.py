"""Platform sources: one module per platform, each a `Source` from `base`."""

from listening.sources.base import HarvestError, Page, RateLimited, Source
from listening.sources.registry import get_source

__all__ = ["HarvestError", "Page", "RateLimited", "Source", "get_source"]
