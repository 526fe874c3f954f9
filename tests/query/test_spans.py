"""Where a post matched, for highlighting in the triage inbox."""

from listening.posts import Post
from listening.query import parse
from listening.query.prepared import PreparedPost


def post(text="", **fields):
    return Post(platform="x", external_id="1", text=text, **fields)


def highlighted(query, text, **fields):
    found = parse(query).spans(post(text, **fields))
    return [text[start:end] for start, end in found["text"]]


def test_it_returns_the_offsets_of_each_matched_word():
    assert parse("privacy OR gdpr").spans(post("GDPR and privacy")) == {"text": [(0, 4), (9, 16)], "title": []}


def test_a_phrase_is_one_span_from_its_first_to_its_last_token():
    assert highlighted('"the ICO"', "Today the  ICO said") == ["the  ICO"]


def test_it_highlights_every_occurrence():
    assert highlighted("ico", "ICO, ico and Ico") == ["ICO", "ico", "Ico"]


def test_hashtags_and_mentions_include_their_sign():
    assert highlighted("privacy @ICOnews", "#privacy by @ICOnews.") == ["#privacy", "@ICOnews"]


def test_negated_terms_are_not_highlighted():
    assert highlighted("privacy -spam", "privacy notice") == ["privacy"]
    assert highlighted("privacy NOT (spam OR scam)", "privacy notice") == ["privacy"]


def test_near_highlights_the_occurrences_it_joined():
    assert highlighted("data NEAR/1 breach", "data breach, x y z data") == ["data", "breach"]


def test_a_proximity_phrase_highlights_its_words():
    assert highlighted('"data breach"~1', "a breach of data") == ["breach", "data"]


def test_only_the_or_branches_that_matched_are_highlighted():
    assert highlighted('gdpr OR "data breach"', "gdpr data or breach") == ["gdpr"]


def test_the_title_has_its_own_spans():
    assert parse("fine").spans(post("a fine day", title="Fine issued")) == {"text": [(2, 6)], "title": [(0, 4)]}


def test_nothing_is_highlighted_when_the_post_does_not_match():
    assert parse("privacy gdpr").spans(post("privacy only")) == {"text": [], "title": []}


def test_field_operators_alone_highlight_nothing():
    assert parse("author:bob").spans(post("hello", author_handle="bob")) == {"text": [], "title": []}


def test_mentions_operator_highlights_the_mention_in_the_text():
    assert highlighted("mentions:ICOnews", "thanks @iconews") == ["@iconews"]


def test_overlapping_spans_are_merged():
    assert highlighted('"data breach" OR breach', "data breach") == ["data breach"]


def test_offsets_refer_to_the_text_as_stored_not_normalised():
    text = "Cafe\u0301 privacy"
    assert parse("café privacy").spans(post(text)) == {"text": [(0, 5), (6, 13)], "title": []}


def test_spans_accept_a_prepared_post():
    prepared = PreparedPost(post("privacy"))
    assert parse("privacy").matches(prepared)
    assert parse("privacy").spans(prepared)["text"] == [(0, 7)]
