"""Which platforms have a source here, and `get_source` to make one.

Each source lives in its own module; a platform not listed can be chosen on a saved
search (its compiled query is shown) but its harvest runs report that no source is
installed.
"""

from collections.abc import Mapping
from importlib import import_module

from django.conf import settings

from listening.sources.base import Source

SOURCES = {
    "demo": "listening.sources.demo.DemoSource",
    "bluesky": "listening.sources.bluesky.BlueskySource",
    "rss": "listening.sources.rss.FeedSource",
    "x": "listening.sources.x.XSource",
    "mastodon": "listening.sources.mastodon.MastodonSource",
}


def installed_platforms() -> tuple[str, ...]:
    return tuple(SOURCES)


def source_class(platform: str) -> type[Source]:
    try:
        dotted = SOURCES[platform]
    except KeyError:
        raise LookupError(f"No source is installed for the platform {platform!r}.") from None
    module, _, name = dotted.rpartition(".")
    return getattr(import_module(module), name)


def default_base_url(platform: str) -> str:
    return getattr(settings, f"EARSHOT_{platform.upper()}_BASE_URL", "") or ""


def get_source(platform: str, *, credentials: Mapping[str, str] | None = None, base_url: str | None = None) -> Source:
    """A source for `platform`.

    `credentials` defaults to the stored `PlatformCredential` for the platform (and
    instance, for Mastodon); `base_url` to the `EARSHOT_<PLATFORM>_BASE_URL` setting.
    """
    cls = source_class(platform)
    base_url = base_url or default_base_url(platform)
    if credentials is None and platform != "demo":
        from listening.credentials import stored_credentials

        credentials = stored_credentials(platform, base_url=base_url)
    return cls(credentials=credentials, base_url=base_url)
