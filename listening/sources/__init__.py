"""Platform sources: one module per platform, each a `Source` from `base`."""

from listening.sources.base import (
    BadCredentials,
    HarvestError,
    MalformedPage,
    Page,
    PlatformUnavailable,
    RateLimited,
    RateLimitState,
    Source,
)
from listening.sources.registry import get_source, installed_platforms

__all__ = [
    "BadCredentials",
    "HarvestError",
    "MalformedPage",
    "Page",
    "PlatformUnavailable",
    "RateLimitState",
    "RateLimited",
    "Source",
    "get_source",
    "installed_platforms",
]
