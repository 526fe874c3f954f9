"""The stable interface other code depends on: Post, parse, Query."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from listening.posts import Post
from listening.query import Query, parse


def test_post_needs_only_platform_and_external_id():
    post = Post(platform="x", external_id="1")
    assert (post.text, post.title, post.url, post.author_handle, post.author_name) == ("", "", "", "", "")
    assert (post.created_at, post.lang, post.links, post.mentions) == (None, "", (), ())
    assert (post.in_reply_to_handle, post.kind, dict(post.raw)) == ("", "post", {})


def test_post_is_frozen_and_hashable_with_a_raw_payload():
    post = Post(platform="x", external_id="1", raw={"id": "1", "nested": {"a": [1]}})
    with pytest.raises(dataclasses.FrozenInstanceError):
        post.text = "changed"
    assert hash(post) == hash(Post(platform="x", external_id="1", raw={"other": True}))


def test_the_query_package_imports_without_django_configured():
    root = Path(__file__).resolve().parents[2]
    code = (
        "import sys; from listening.query import parse; from listening.query.matcher import Matcher; "
        "from listening.benchmarks import matching; "
        "assert parse('privacy').matches(__import__('listening.posts').posts.Post('x', '1', 'privacy')); "
        "assert not any(name == 'django' or name.startswith('django.') for name in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True, env={"PYTHONPATH": str(root)})


def test_a_query_keeps_its_source_and_prints_its_canonical_form():
    query = parse("privacy  gdpr -spam <<<why>>> OR-less")
    assert query.source == "privacy  gdpr -spam <<<why>>> OR-less"
    assert str(query) == 'privacy AND gdpr NOT spam AND "OR less"'
    assert isinstance(query, Query)


@pytest.mark.parametrize(
    "text",
    [
        '"the ICO" OR links:ico.org.uk',
        'list:"tech journalists" (#journorequest OR "PR request" OR journo*)',
        "(a OR b) NEAR/3f {ICO}",
        '"data breach fine"~5 -is:repost lang:EN',
        "author:(@Alice OR bob) @ICOnews #GDPR colo?r",
        'url:"https://ico.org.uk/a b" site:www.bbc.co.uk/news/',
        '"AND" OR {OR} OR "NEAR/2"',
    ],
)
def test_the_canonical_form_parses_back_to_itself(text):
    canonical = str(parse(text))
    assert str(parse(canonical)) == canonical


def test_queries_with_the_same_canonical_form_are_equal():
    assert parse("a b") == parse("a AND b")
    assert parse("a b") != parse("a OR b")
    assert len({parse("a b"), parse("a  AND  b")}) == 1


def test_watch_lists_names_every_list_the_query_refers_to():
    query = parse('list:"tech journalists" OR list:(MPs OR "FOI campaigners") OR author:bob')
    assert query.watch_lists() == {"tech journalists", "MPs", "FOI campaigners"}
    assert parse("privacy").watch_lists() == set()


def test_an_unknown_watch_list_never_matches():
    post = Post(platform="x", external_id="1", author_handle="bob")
    assert not parse("list:ghosts").matches(post, lists={"mps": {"bob"}})
    assert not parse("list:ghosts").matches(post)


def test_lists_accept_any_iterable_of_handles():
    post = Post(platform="x", external_id="1", author_handle="Bob")
    assert parse("list:MPs").matches(post, lists={"mps": ["@BOB"]})
    assert parse("list:MPs").matches(post, lists={"mps": ("bob",)})
