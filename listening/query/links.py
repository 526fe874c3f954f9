"""Links and sites: `links:` and `site:` compare hosts and paths.

Both sides drop a scheme and a leading `www.`; the value also drops trailing `/`.
A value without a path matches its host and any subdomain. A value with a path
matches when the link's host is that host (or a subdomain) and the link's path
starts with the value's path (`links:ico.org.uk/about` matches
`https://news.ico.org.uk/about/x`, and also `…/about-us`: it is a prefix).
"""

import re

from listening.query.text import fold

_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*://|^//")
_HOST_END = re.compile(r"[/?#\\]")


def split_link(link: str) -> tuple[str, str]:
    """(host, rest) of a link, folded; rest starts at the first `/`, `?` or `#`."""
    text = _SCHEME.sub("", fold(link.strip()), count=1)
    found = _HOST_END.search(text)
    host, rest = (text[: found.start()], text[found.start() :]) if found else (text, "")
    host = host.rpartition("@")[2]
    if not host.startswith("["):
        host = host.partition(":")[0]
    # `www.` goes before trailing dots, so a bare `www.` leaves no host at all.
    if host.startswith("www."):
        host = host[4:]
    host = host.rstrip(".")
    return host, rest


def split_site_value(value: str) -> tuple[str, str]:
    """(host, path) of a `links:`/`site:` value, with trailing `/` dropped."""
    host, rest = split_link(value)
    return host, rest.rstrip("/")


def link_matches(link: tuple[str, str], host: str, path: str) -> bool:
    link_host, link_rest = link
    if link_host != host and not link_host.endswith("." + host):
        return False
    return not path or link_rest.startswith(path)
