"""Checks on the bundled demo sample, listening/sources/demo_posts.json.

The demo source replays these posts so a new installation shows mentions arriving
without platform keys, so the file has to be well formed and rich enough to
exercise every one of the regulator's saved searches. Plain pytest: no Django.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

SAMPLE_PATH = Path(__file__).resolve().parents[2] / "listening/sources/demo_posts.json"

POST_KEYS = {
    "author_handle": str,
    "author_name": str,
    "text": str,
    "title": str,
    "lang": str,
    "links": list,
    "mentions": list,
    "in_reply_to_handle": str,
    "kind": str,
}
# A repost may name the sample post it reposts, by offset, so the demo inbox shows a group.
OPTIONAL_KEYS = {"repost_of": int}
KINDS = {"post", "reply", "repost", "quote", "article"}
REGULATOR = "ICOnews"
WATCH_LIST = "tech journalists"

# URLs in text, as QUERY_LANGUAGE.md reads them: they start at the beginning of the
# text or after a character that is not a letter or digit, end before whitespace, and
# lose trailing . , ; : ! ? ' " ) ] }
URL_RE = re.compile(r"(?<![^\W_])(?:https?://|www\.)\S+")
URL_TRAILING = ".,;:!?'\")]}"
MENTION_RE = re.compile(r"(?<!\w)@([\w.]+)")
HANDLE_RE = re.compile(r"^[A-Za-z0-9_.]+$")

# Real UK public authorities, each with the spellings people use for it.
PUBLIC_BODIES = {
    "Birmingham City Council": ["birmingham city council", "brum council", "@bhamcitycouncil"],
    "London Borough of Lewisham": ["lewisham council", "@lewishamcouncil", "london borough of lewisham"],
    "Manchester City Council": ["manchester city council", "@mancitycouncil"],
    "Cardiff Council": ["cardiff council", "@cardiffcouncil", "cyngor caerdydd"],
    "Glasgow City Council": ["glasgow city council"],
    "Belfast City Council": ["belfast city council", "@belfastcc"],
    "Leeds City Council": ["leeds city council", "leeds council"],
    "Kent County Council": ["kent county council", "@kent_cc"],
    "Bristol City Council": ["bristol city council", "bristol council"],
    "Liverpool City Council": ["liverpool city council"],
    "Sheffield City Council": ["sheffield city council", "sheffield council"],
    "Newcastle City Council": ["newcastle city council"],
    "Nottingham City Council": ["nottingham city council"],
    "City of Edinburgh Council": ["city of edinburgh council"],
    "Swansea Council": ["swansea council", "cyngor abertawe"],
    "Hackney Council": ["hackney council"],
    "Tower Hamlets Council": ["tower hamlets council"],
    "Croydon Council": ["croydon council"],
    "Surrey County Council": ["surrey county council"],
    "Norfolk County Council": ["norfolk county council"],
    "Cornwall Council": ["cornwall council"],
    "Leicester City Council": ["leicester city council"],
    "Brighton and Hove City Council": ["brighton & hove city council", "brighton and hove city council"],
    "Derry City and Strabane District Council": ["derry city and strabane district council"],
    "The Highland Council": ["the highland council", "highland council"],
    "Hampshire County Council": ["hampshire county council"],
    "Essex County Council": ["essex county council"],
    "Lancashire County Council": ["lancashire county council"],
    "Southwark Council": ["@lb_southwark", "southwark council"],
    "Wrexham County Borough Council": ["wrexham council"],
    "Gwynedd Council": ["cyngor gwynedd", "gwynedd council"],
    "Metropolitan Police Service": ["metropolitan police"],
    "Greater Manchester Police": ["greater manchester police", "gmp's", "gmp "],
    "West Midlands Police": ["west midlands police"],
    "Police Scotland": ["police scotland"],
    "South Wales Police": ["south wales police"],
    "Manchester University NHS Foundation Trust": ["manchester university nhs foundation trust"],
    "Leeds Teaching Hospitals NHS Trust": ["leeds teaching hospitals nhs trust"],
    "Barts Health NHS Trust": ["barts health nhs trust"],
    "Belfast Health and Social Care Trust": ["belfast health and social care trust"],
    "Betsi Cadwaladr University Health Board": ["betsi cadwaladr"],
    "NHS England": ["nhs england"],
    "Department for Work and Pensions": ["dwp", "department for work and pensions"],
    "Home Office": ["home office"],
    "Department for Education": ["department for education"],
    "Transport for London": ["@tfl", "transport for london"],
    "Ofsted": ["ofsted"],
    "DVLA": ["dvla"],
}


@pytest.fixture(scope="module")
def sample() -> dict:
    return json.loads(SAMPLE_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def posts(sample) -> list[dict]:
    return sample["posts"]


@pytest.fixture(scope="module")
def watch_handles(sample) -> set[str]:
    return {h.lower() for h in sample["watch_lists"][WATCH_LIST]}


def urls_in(text: str) -> list[str]:
    return [m.group(0).rstrip(URL_TRAILING) for m in URL_RE.finditer(text)]


def describe(post: dict) -> str:
    return f"{post.get('author_handle')}: {post.get('text', '')[:70]!r}"


def test_top_level_shape(sample):
    assert set(sample) == {"regulator_handle", "watch_lists", "posts"}
    assert sample["regulator_handle"] == REGULATOR
    assert set(sample["watch_lists"]) == {WATCH_LIST}
    handles = sample["watch_lists"][WATCH_LIST]
    assert isinstance(handles, list) and len(handles) == 8
    assert len({h.lower() for h in handles}) == 8
    for handle in handles:
        assert isinstance(handle, str) and HANDLE_RE.match(handle), handle
    assert isinstance(sample["posts"], list)


def test_a_repost_names_an_earlier_post_of_the_sample(posts):
    for offset, post in enumerate(posts):
        if "repost_of" in post:
            assert post["kind"] == "repost" and 0 <= post["repost_of"] < offset, describe(post)


def test_enough_posts(posts):
    assert len(posts) >= 300


def test_every_post_has_exactly_the_keys_with_the_right_types(posts):
    for post in posts:
        assert isinstance(post, dict)
        assert set(POST_KEYS) <= set(post) <= set(POST_KEYS) | set(OPTIONAL_KEYS), describe(post)
        for key, expected in POST_KEYS.items():
            assert isinstance(post[key], expected), (key, describe(post))
        for key in ("links", "mentions"):
            assert all(isinstance(v, str) and v for v in post[key]), (key, describe(post))
            assert len(post[key]) == len(set(post[key])), (key, describe(post))


def test_no_ids_or_times(posts):
    for post in posts:
        assert "id" not in post and "created_at" not in post, describe(post)


def test_kinds_are_allowed_and_consistent(posts):
    for post in posts:
        assert post["kind"] in KINDS, describe(post)
        if post["kind"] == "reply":
            assert post["in_reply_to_handle"], describe(post)
        if post["title"]:
            assert post["kind"] == "article", describe(post)
        if post["kind"] == "article":
            assert post["title"] and post["links"], describe(post)
    kinds = Counter(post["kind"] for post in posts)
    assert all(kinds[k] for k in KINDS), kinds


def test_handles_and_text(posts):
    for post in posts:
        assert HANDLE_RE.match(post["author_handle"]), describe(post)
        assert post["author_name"].strip(), describe(post)
        assert post["text"].strip(), describe(post)
        if post["in_reply_to_handle"]:
            assert HANDLE_RE.match(post["in_reply_to_handle"]), describe(post)
        for handle in post["mentions"]:
            assert HANDLE_RE.match(handle) and not handle.endswith("."), describe(post)


def test_languages(posts):
    langs = Counter(post["lang"] for post in posts)
    for lang in langs:
        assert lang == "" or re.fullmatch(r"[a-z]{2}", lang), lang
    assert langs["en"] > len(posts) * 0.8
    assert langs["cy"] >= 3
    assert langs[""] >= 1
    assert langs["fr"] >= 1


def test_every_url_in_the_text_is_in_links(posts):
    for post in posts:
        links = set(post["links"])
        for url in urls_in(post["text"]):
            if url.startswith("www."):
                assert {f"https://{url}", f"http://{url}", url} & links, (url, describe(post))
            else:
                assert url in links, (url, describe(post))
        for link in post["links"]:
            assert re.match(r"https?://", link), (link, describe(post))


def test_every_mention_in_the_text_is_in_mentions(posts):
    for post in posts:
        mentioned = {h.lower() for h in post["mentions"]}
        for match in MENTION_RE.finditer(post["text"]):
            handle = match.group(1).rstrip(".")
            if handle:
                assert handle.lower() in mentioned, (handle, describe(post))


def test_direct_engagement_with_the_regulator(posts):
    engaging = [
        post for post in posts
        if post["in_reply_to_handle"].lower() == REGULATOR.lower()
        or REGULATOR.lower() in {h.lower() for h in post["mentions"]}
    ]
    assert len(engaging) >= 40
    replies = [post for post in engaging if post["in_reply_to_handle"] == REGULATOR]
    assert len(replies) >= 20


def test_posts_saying_the_ico(posts):
    saying = [post for post in posts if re.search(r"\bthe\s+ico\b", post["text"], re.I)]
    assert len(saying) >= 30


def test_posts_linking_to_the_regulators_site(posts):
    host = re.compile(r"^https?://(?:[^/@]*\.)?ico\.org\.uk(?:[/:?#]|$)", re.I)
    linking = [post for post in posts if any(host.match(link) for link in post["links"])]
    assert len(linking) >= 25
    assert any(post["kind"] == "article" for post in linking)


def test_fee_scam_posts(posts):
    fee = re.compile(r"data protection fee|ico registration letter", re.I)
    assert len([post for post in posts if fee.search(post["text"])]) >= 20


def test_at_least_20_distinct_public_bodies_named(posts):
    haystack = "\n".join(
        post["text"] + " " + " ".join("@" + h for h in post["mentions"]) for post in posts
    ).lower()
    named = {body for body, spellings in PUBLIC_BODIES.items() if any(s in haystack for s in spellings)}
    assert len(named) >= 20, sorted(named)


def test_watch_list_authors(posts, watch_handles):
    by_list = [post for post in posts if post["author_handle"].lower() in watch_handles]
    assert len(by_list) >= 30
    assert len({post["author_handle"].lower() for post in by_list}) == len(watch_handles)
    outsiders = [
        post for post in posts
        if post["author_handle"].lower() not in watch_handles
        and re.search(r"journorequest|pr ?request", post["text"], re.I)
    ]
    assert outsiders, "some #journorequest posts should come from people not on the list"


def test_no_duplicate_texts(posts):
    def norm(text: str) -> str:
        return " ".join(unicodedata.normalize("NFC", text).casefold().split())

    counts = Counter(norm(post["text"]) for post in posts)
    assert [t for t, n in counts.items() if n > 1] == []


def test_tricky_content_is_present(posts):
    texts = [post["text"] for post in posts]
    assert any("<script>alert('x')</script>" in t for t in texts)
    assert any("<b>bold</b>" in t for t in texts)
    assert any("\n" in t for t in texts)
    names = " ".join(post["author_name"] for post in posts)
    assert "Zoë" in names and "José" in names
