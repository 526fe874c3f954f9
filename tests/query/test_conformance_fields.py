"""Conformance: the Field operators table and the field-related fine print."""

from __future__ import annotations

import pytest

from tests.query.conformance import case, run


TECH = {"tech journalists": {"sophiasgaler", "@JaneReporter"}}

AUTHOR = [
    case("author-equal", "author:ICOnews", True, author_handle="ICOnews"),
    case("author-case-insensitive", "author:ICOnews", True, author_handle="iconews"),
    case("author-not-prefix", "author:ICOnews", False, author_handle="ICOnews2"),
    case("author-not-substring", "author:ICO", False, author_handle="ICOnews"),
    case("author-empty-handle", "author:ICOnews", False),
    case("author-not-display-name", "author:ICOnews", False, author_handle="someone", author_name="ICOnews"),
    case("author-not-text", "author:ICOnews", False, text="ICOnews said", author_handle="bob"),
    case("author-at-in-query-ignored", "author:@ICOnews", True, author_handle="ICOnews"),
    case("author-at-in-post-ignored", "author:ICOnews", True, author_handle="@ICOnews"),
    case("author-dotted-handle", "author:jane.bsky.social", True, author_handle="jane.bsky.social"),
    case("author-quoted", 'author:"jane.bsky.social"', True, author_handle="Jane.bsky.social"),
    case("author-or-list-second", "author:(alice OR bob)", True, author_handle="bob"),
    case("author-or-list-first", "author:(alice OR bob)", True, author_handle="Alice"),
    case("author-or-list-none", "author:(alice OR bob)", False, author_handle="carol"),
    case("from-equal", "from:ICOnews", True, author_handle="ICOnews"),
    case("from-other", "from:ICOnews", False, author_handle="bob"),
    case("from-or-list", "from:(alice OR bob)", True, author_handle="bob"),
    case("field-name-capitalised", "Author:bob", True, author_handle="bob"),
    case("field-name-upper", "FROM:bob", True, author_handle="bob"),
    case("field-name-capitalised-negative", "Author:bob", False, author_handle="alice"),
]

TO = [
    case("to-reply-to-account", "to:commissioner", True, in_reply_to_handle="commissioner", kind="reply"),
    case("to-case-insensitive", "to:commissioner", True, in_reply_to_handle="Commissioner"),
    case("to-at-ignored", "to:commissioner", True, in_reply_to_handle="@commissioner"),
    case("to-other-account", "to:commissioner", False, in_reply_to_handle="someone"),
    case("to-not-a-reply", "to:commissioner", False),
    case("to-mention-is-not-reply", "to:commissioner", False, text="@commissioner hi",
         mentions=["commissioner"]),
]

MENTIONS = [
    case("mentions-field", "mentions:ICOnews", True, mentions=["ICOnews"]),
    case("mentions-field-case", "mentions:ICOnews", True, mentions=["iconews"]),
    case("mentions-field-at-ignored", "mentions:ICOnews", True, mentions=["@ICOnews"]),
    case("mentions-query-at-ignored", "mentions:@ICOnews", True, mentions=["ICOnews"]),
    case("mentions-token", "mentions:ICOnews", True, text="@iconews hi"),
    case("mentions-word-is-not-mention", "mentions:ICOnews", False, text="ICOnews hi"),
    case("mentions-hashtag-is-not-mention", "mentions:ICOnews", False, text="#ICOnews hi"),
    case("mentions-not-author", "mentions:ICOnews", False, author_handle="ICOnews"),
    case("mentions-other", "mentions:ICOnews", False, mentions=["ICOnewsroom"]),
    case("mentions-or-list", "mentions:(alice OR bob)", True, text="hi @bob"),
]

LINKS = [
    case("links-host", "links:ico.org.uk", True, links=["https://ico.org.uk/x"]),
    case("links-host-www-in-link", "links:ico.org.uk", True, links=["https://www.ico.org.uk/"]),
    case("links-host-www-in-value", "links:www.ico.org.uk", True, links=["https://ico.org.uk"]),
    case("links-host-www-value-subdomain", "links:www.ico.org.uk", True, links=["https://news.ico.org.uk"]),
    case("links-subdomain", "links:ico.org.uk", True, links=["https://news.ico.org.uk/"]),
    case("links-case-insensitive", "links:ICO.org.uk", True, links=["https://ico.ORG.uk/a"]),
    case("links-scheme-in-value", "links:https://ico.org.uk", True, links=["http://www.ico.org.uk/a"]),
    case("links-trailing-slash-in-value", "links:ico.org.uk/", True, links=["https://ico.org.uk"]),
    case("links-not-other-domain-suffix", "links:ico.org.uk", False, links=["https://notico.org.uk/"]),
    case("links-not-label-prefix", "links:ico.org.uk", False, links=["https://myico.org.uk/"]),
    case("links-not-host-prefix", "links:ico.org.uk", False, links=["https://ico.org.uk.evil.com/"]),
    case("links-not-in-query-string", "links:ico.org.uk", False, links=["https://example.com/?ref=ico.org.uk"]),
    case("links-not-in-path", "links:ico.org.uk", False, links=["https://example.com/ico.org.uk"]),
    case("links-no-links", "links:ico.org.uk", False),
    case("links-not-own-url", "links:ico.org.uk", False, url="https://ico.org.uk/news/1"),
    case("links-second-link", "links:ico.org.uk", True, links=["https://t.co/x", "https://ico.org.uk/y"]),
    case("links-path-prefix", "links:ico.org.uk/about", True, links=["https://ico.org.uk/about/x"]),
    case("links-path-exact", "links:ico.org.uk/about", True, links=["https://ico.org.uk/about"]),
    case("links-path-string-prefix", "links:ico.org.uk/about", True, links=["https://ico.org.uk/aboutus"]),
    case("links-path-subdomain", "links:ico.org.uk/about", True, links=["https://news.ico.org.uk/about/x"]),
    case("links-path-www", "links:ico.org.uk/about", True, links=["https://www.ico.org.uk/about"]),
    case("links-path-other-path", "links:ico.org.uk/about", False, links=["https://ico.org.uk/contact"]),
    case("links-path-subdomain-other-path", "links:ico.org.uk/about", False,
         links=["https://news.ico.org.uk/other"]),
    case("links-path-trailing-slash-value", "links:ico.org.uk/about/", True, links=["https://ico.org.uk/about"]),
    case("links-path-scheme-www-value", "links:https://www.ico.org.uk/about", True,
         links=["http://ico.org.uk/about/x"]),
    case("links-from-text-url", "links:ico.org.uk", True, text="Guidance: https://ico.org.uk/for-organisations/"),
    case("links-quoted-value", 'links:"ico.org.uk"', True, links=["https://ico.org.uk"]),
    case("links-or-list", "links:(bbc.co.uk OR ico.org.uk)", True, links=["https://ico.org.uk"]),
]

SITE = [
    case("site-host", "site:ico.org.uk", True, url="https://ico.org.uk/news/1"),
    case("site-www-in-url", "site:ico.org.uk", True, url="https://www.ico.org.uk/x"),
    case("site-subdomain", "site:ico.org.uk", True, url="https://blog.ico.org.uk/x"),
    case("site-www-in-value", "site:www.ico.org.uk", True, url="https://ico.org.uk/x"),
    case("site-scheme-trailing-slash-in-value", "site:https://www.ico.org.uk/", True, url="http://ico.org.uk/x"),
    case("site-case-insensitive", "site:ICO.ORG.UK", True, url="https://ico.org.uk/x"),
    case("site-other-host", "site:ico.org.uk", False, url="https://example.com/ico.org.uk"),
    case("site-not-label-prefix", "site:ico.org.uk", False, url="https://myico.org.uk/x"),
    case("site-not-links", "site:ico.org.uk", False, links=["https://ico.org.uk/x"]),
    case("site-no-url", "site:ico.org.uk", False),
    case("site-path-match", "site:ico.org.uk/news", True, url="https://ico.org.uk/news/1"),
    case("site-path-no-match", "site:ico.org.uk/news", False, url="https://ico.org.uk/blog"),
]

URL = [
    case("url-own-url", "url:ico.org.uk/about", True, url="https://ico.org.uk/about-us"),
    case("url-link", "url:ico.org.uk/about", True, links=["https://www.ico.org.uk/about"]),
    case("url-neither", "url:ico.org.uk/about", False, url="https://ico.org.uk/", links=["https://bbc.co.uk/about"]),
    case("url-substring-anywhere", "url:bbc", True, links=["https://www.bbc.co.uk/news"]),
    case("url-case-insensitive", "url:ABOUT", True, url="https://x.com/about"),
    case("url-not-text-words", "url:ico", False, text="the ico website"),
]

LANG = [
    case("lang-equal", "lang:en", True, lang="en"),
    case("lang-case-insensitive", "lang:en", True, lang="EN"),
    case("lang-other", "lang:en", False, lang="fr"),
    case("lang-unknown-never-matches", "lang:en", False, lang=""),
    case("language-equal", "language:fr", True, lang="fr"),
    case("language-other", "language:fr", False, lang="en"),
    case("lang-or-list", "lang:(en OR cy)", True, lang="cy"),
]

PLATFORM = [
    case("platform-equal", "platform:bluesky", True, platform="bluesky"),
    case("platform-case-insensitive", "platform:Bluesky", True, platform="bluesky"),
    case("platform-other", "platform:bluesky", False, platform="x"),
    case("platform-or-list", "platform:(x OR mastodon)", True, platform="mastodon"),
]

LIST = [
    case("list-author-on-list", 'list:"tech journalists"', True, lists=TECH, author_handle="sophiasgaler"),
    case("list-author-not-on-list", 'list:"tech journalists"', False, lists=TECH, author_handle="bob"),
    case("list-name-case-insensitive", 'list:"Tech Journalists"', True, lists=TECH, author_handle="sophiasgaler"),
    case("list-handle-case-insensitive", 'list:"tech journalists"', True, lists=TECH, author_handle="SophiaSGaler"),
    case("list-handle-at-on-list-ignored", 'list:"tech journalists"', True, lists=TECH, author_handle="janereporter"),
    case("list-bare-name", "list:journos", True, lists={"Journos": {"bob"}}, author_handle="bob"),
    case("list-unknown-never-matches", "list:unknown", False, lists=TECH, author_handle="sophiasgaler"),
    case("list-no-lists-given", 'list:"tech journalists"', False, author_handle="sophiasgaler"),
    case("list-empty-lists", 'list:"tech journalists"', False, lists={}, author_handle="sophiasgaler"),
    case("list-mention-not-author", 'list:"tech journalists"', False, lists=TECH, author_handle="bob",
         mentions=["sophiasgaler"]),
    case("list-negated-unknown-does-not-exclude", "privacy -list:unknown", True, lists=TECH,
         text="privacy", author_handle="sophiasgaler"),
]

IS = [
    case("is-reply-kind", "is:reply", True, kind="reply"),
    case("is-reply-in-reply-to", "is:reply", True, kind="post", in_reply_to_handle="bob"),
    case("is-reply-plain-post", "is:reply", False, kind="post"),
    case("is-reply-comment-without-reply-to", "is:reply", False, kind="comment"),
    case("is-reply-default-kind", "is:reply", False),
    case("is-repost-kind", "is:repost", True, kind="repost"),
    case("is-repost-not-quote", "is:repost", False, kind="quote"),
    case("is-repost-not-post", "is:repost", False, kind="post"),
    case("is-quote-kind", "is:quote", True, kind="quote"),
    case("is-quote-not-repost", "is:quote", False, kind="repost"),
    case("not-is-repost", "privacy -is:repost", False, text="privacy", kind="repost"),
    case("not-is-repost-post", "privacy -is:repost", True, text="privacy", kind="post"),
]

HAS = [
    case("has-links-field", "has:links", True, links=["https://a.example/"]),
    case("has-links-text-url", "has:links", True, text="read https://a.example/x"),
    case("has-links-none", "has:links", False, text="no link here"),
    case("has-links-own-url-is-not-a-link", "has:links", False, url="https://x.com/a/status/1"),
    case("has-mentions-field", "has:mentions", True, mentions=["bob"]),
    case("has-mentions-text", "has:mentions", True, text="hi @bob"),
    case("has-mentions-none", "has:mentions", False, text="hi bob"),
    case("has-hashtags-text", "has:hashtags", True, text="big #privacy day"),
    case("has-hashtags-title", "has:hashtags", True, title="big #privacy day"),
    case("has-hashtags-none", "has:hashtags", False, text="big privacy day"),
    case("has-hashtags-mention-is-not-hashtag", "has:hashtags", False, text="hi @privacy"),
]

COMBINED = [
    case("field-and-word", "from:ICOnews fine", True, author_handle="ICOnews", text="A fine issued"),
    case("field-and-word-no-word", "from:ICOnews fine", False, author_handle="ICOnews", text="hello"),
    case("field-or-word", "from:ICOnews OR fine", True, author_handle="bob", text="a fine"),
    case("colon-not-letters-is-words", "10:30 meeting", True, text="meeting at 10:30"),
    case("letters-and-digits-colon-is-words", "v2:thing", True, text="v2 thing"),
    case("field-in-or-group", "(from:bob OR privacy)", True, author_handle="bob"),
    case("field-or-list-in-group", "(author:(alice OR bob) privacy)", True, text="privacy", author_handle="bob"),
    case("negated-field-or-list", "privacy -author:(alice OR bob)", False, text="privacy", author_handle="bob"),
    case("is-or-list", "is:(reply OR quote)", True, kind="quote"),
    case("is-or-list-negative", "is:(reply OR quote)", False, kind="repost"),
    case("lang-value-upper", "lang:EN", True, lang="en"),
    case("platform-value-upper", "platform:X", True, platform="x"),
    case("links-port-ignored-in-host", "links:ico.org.uk", True, links=["https://ico.org.uk:8443/x"]),
    case("site-port-ignored-in-host", "site:ico.org.uk", True, url="https://ico.org.uk:443/x"),
    case("links-value-case-with-path", "links:ICO.ORG.UK/About", True, links=["https://ico.org.uk/about/x"]),
    case("url-query-string-kept", 'url:"b=1"', True, text="x https://ico.org.uk/a?b=1 y"),
]

ALL = AUTHOR + TO + MENTIONS + LINKS + SITE + URL + LANG + PLATFORM + LIST + IS + HAS + COMBINED


@pytest.mark.parametrize("query, post_kw, lists, expected", ALL)
def test_field_matching(check, query, post_kw, lists, expected):
    run(check, query, post_kw, lists, expected)


# ---------------------------------------------------------------------------
# Post defaults and shape
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "field, default",
    [
        pytest.param("text", "", id="text"),
        pytest.param("title", "", id="title"),
        pytest.param("url", "", id="url"),
        pytest.param("author_handle", "", id="author_handle"),
        pytest.param("author_name", "", id="author_name"),
        pytest.param("created_at", None, id="created_at"),
        pytest.param("lang", "", id="lang"),
        pytest.param("links", (), id="links"),
        pytest.param("mentions", (), id="mentions"),
        pytest.param("in_reply_to_handle", "", id="in_reply_to_handle"),
        pytest.param("kind", "post", id="kind"),
    ],
)
def test_post_defaults(field, default):
    from listening.posts import Post

    p = Post(platform="x", external_id="1")
    assert getattr(p, field) == default
    if isinstance(default, tuple):
        assert isinstance(getattr(p, field), tuple)


def test_post_raw_defaults_to_empty_mapping():
    from collections.abc import Mapping

    from listening.posts import Post

    p = Post(platform="x", external_id="1")
    assert isinstance(p.raw, Mapping)
    assert len(p.raw) == 0


@pytest.mark.parametrize(
    "kwargs",
    [pytest.param({}, id="none"), pytest.param({"platform": "x"}, id="no-external-id"),
     pytest.param({"external_id": "1"}, id="no-platform")],
)
def test_post_requires_platform_and_external_id(kwargs):
    from listening.posts import Post

    with pytest.raises(TypeError):
        Post(**kwargs)


def test_post_is_frozen():
    import dataclasses

    from listening.posts import Post

    p = Post(platform="x", external_id="1")
    assert dataclasses.is_dataclass(p)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.text = "changed"


def test_modules_import_and_run_without_django_configured():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    code = (
        "from listening.query import parse, QuerySyntaxError\n"
        "from listening.posts import Post\n"
        "assert parse('privacy').matches(Post(platform='x', external_id='1', text='privacy'))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=root, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
