"""How a post's text is cut into tokens, and how terms compare with them."""

import pytest

from listening.posts import Post
from listening.query import parse
from listening.query.prepared import PreparedPost
from listening.query.tokenizer import HASHTAG, MENTION, WORD, find_urls, tokenize


def tokens(text):
    field = tokenize(text)
    names = {WORD: "", HASHTAG: "#", MENTION: "@"}
    return [names[kind] + body for kind, body in zip(field.kinds, field.bodies)]


def post(text="", **fields):
    return Post(platform="x", external_id="1", text=text, **fields)


def test_it_splits_words_at_apostrophes_hyphens_and_colons():
    assert tokens("ICO's data-protection at 10:30") == ["ICO", "s", "data", "protection", "at", "10", "30"]


def test_it_keeps_hashtags_and_mentions_as_single_tokens():
    assert tokens("#GDPR day with @ICOnews and @jane.bsky.social.") == ["#GDPR", "day", "with", "@ICOnews", "and", "@jane.bsky.social"]


def test_it_keeps_underscores_inside_hashtags_and_mentions_only():
    assert tokens("#data_protection @bob_99 snake_case") == ["#data_protection", "@bob_99", "snake", "case"]


def test_it_finds_no_mention_inside_an_email_address():
    assert tokens("jane@example.com") == ["jane", "example", "com"]
    assert PreparedPost(post("jane@example.com")).mention_keys == frozenset()


def test_it_starts_a_mention_after_punctuation():
    assert tokens("(@ICOnews)") == ["@ICOnews"]


def test_it_keeps_combining_marks_inside_their_word():
    assert tokens("cafe\u0301 ok") == ["café", "ok"]  # NFC composes it
    assert tokens("हिन्दी भाषा") == ["हिन्दी", "भाषा"]


def test_it_treats_emoji_and_symbols_as_separators():
    assert tokens("privacy🙂matters — ok") == ["privacy", "matters", "ok"]


def test_it_reads_letters_beyond_the_basic_plane():
    assert tokens("𝐀𝐁 x") == ["𝐀𝐁", "x"]


def test_it_takes_urls_out_of_the_words():
    field = tokenize("see https://ico.org.uk/about now")
    assert tokens("see https://ico.org.uk/about now") == ["see", "now"]
    assert field.links == ["https://ico.org.uk/about"]


@pytest.mark.parametrize(
    "text, url",
    [
        ("(see https://ico.org.uk).", "https://ico.org.uk"),
        ("go to www.ico.org.uk, then", "www.ico.org.uk"),
        ('"https://ico.org.uk/a?b=1!"', "https://ico.org.uk/a?b=1"),
        ("HTTPS://ICO.ORG.UK]", "HTTPS://ICO.ORG.UK"),
    ],
)
def test_it_leaves_trailing_punctuation_out_of_urls(text, url):
    assert [text[start:end] for start, end in find_urls(text)] == [url]


def test_it_only_starts_a_url_after_a_non_letter():
    assert find_urls("xhttps://ico.org.uk") == []
    assert tokens("xhttps://ico.org.uk") == ["xhttps", "ico", "org", "uk"]


def test_a_bare_scheme_is_not_a_url():
    assert find_urls("https:// and www.") == []


def test_urls_in_text_count_as_links():
    assert parse("links:ico.org.uk").matches(post("read (https://news.ico.org.uk/x)."))
    assert parse("has:links").matches(post("www.example.com"))
    assert not parse("ico").matches(post("https://ico.org.uk"))


def test_spans_map_back_to_the_original_text_when_it_was_not_normalised():
    text = "Cafe\u0301 and privacy"  # five characters before NFC composes them into four
    field = tokenize(text)
    assert [text[start:end] for start, end in field.spans()] == ["Cafe\u0301", "and", "privacy"]


@pytest.mark.parametrize(
    "query, text, expected",
    [
        ("cafe", "Café", True),
        ("café", "cafe", False),
        ("café", "CAFÉ", True),
        ("resumé", "résumé", False),
        ("straße", "STRASSE", True),
        ("STRASSE", "straße", True),
        ("{ICO}", "ico", False),
        ("{ICO}", "ICO", True),
        ("{Café}", "Cafe", False),
        ("istanbul", "İstanbul", True),
        ("σίσυφος", "ΣΊΣΥΦΟΣ", True),
    ],
)
def test_it_compares_with_case_folding_and_the_accent_rule(query, text, expected):
    assert parse(query).matches(post(text)) is expected


def test_a_word_term_matches_a_hashtag_but_never_a_mention():
    assert parse("privacy").matches(post("#Privacy"))
    assert not parse("privacy").matches(post("@privacy"))


def test_a_mention_term_matches_the_posts_mentions_field():
    assert parse("@ICOnews").matches(post("thanks", mentions=("@iconews",)))
    assert not parse("@ICOnews").matches(post("ICOnews"))


def test_hashtag_and_mention_terms_search_the_title_too():
    assert parse("#gdpr").matches(post("", title="#GDPR explained"))
    assert parse("@ICOnews").matches(post("", title="reply to @ICOnews"))


def test_a_phrase_never_spans_from_the_title_into_the_text():
    assert not parse('"fine issued"').matches(post("issued today", title="Big fine"))


def test_a_wildcard_stands_for_letters_and_digits_only():
    assert parse("#data*").matches(post("#database"))
    assert not parse("#data*").matches(post("#data_protection"))
    assert parse("colo?r").matches(post("colour"))
    assert not parse("colo?r").matches(post("color"))
    assert parse("journo*").matches(post("#journorequest"))


def test_trailing_question_marks_are_punctuation():
    assert str(parse("GDPR??")) == "GDPR"
    assert parse("colo?r?").matches(post("colour"))


def test_the_fast_paths_cut_tokens_as_the_full_pattern_does():
    from hypothesis import HealthCheck, assume, given, settings
    from hypothesis import strategies as st

    from listening.query.text import nfc_with_offsets
    from listening.query.tokenizer import _TOKEN, _original_spans, _scan

    pieces = st.sampled_from(
        ["ico", "ICO", " ", "#", "@", ".", "_", "🙂", "𝐀", "𐐨", "\U0001d7ce", "\U000e0100", "\u0301", "é", "x.", "a@b", "\n"]
    )

    @settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.one_of(pieces, st.characters(blacklist_categories=("Cs",))), max_size=12))
    def check(parts):
        text = "".join(parts)
        assume(not find_urls(text))  # URLs are blanked out before tokens are cut
        field = tokenize(text)
        normalised, offsets = nfc_with_offsets(text)
        kinds, bodies, spans = _scan(normalised, _TOKEN)
        assert (field.kinds, field.bodies, field.spans()) == (kinds, bodies, _original_spans(spans, offsets))

    check()
    assert tokens("a 🙂 @b. #c 𝐀 d") == ["a", "@b", "#c", "𝐀", "d"]


def test_the_shortcut_for_emoji_and_symbols_normalises_as_the_full_path_does():
    import unicodedata

    from listening.query.text import _inert, _skeleton, nfc, skeleton

    inert = [chr(point) for point in range(0x80, 0x110000) if not 0xD800 <= point <= 0xDFFF and _inert(chr(point))]
    assert "🙂" in inert and "—" in inert and "\u0301" not in inert and "é" not in inert and "ẞ" not in inert
    # No canonical composition takes one as its second character.
    for point in range(0x80, 0x110000):
        parts = unicodedata.decomposition(chr(point)).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            assert not _inert(chr(int(parts[1], 16)))
    for char in inert:
        for text in (f"Ab{char}Cd", f"{char}\u0301e", f"e{char}\u0345", f"ß{char}"):
            assert nfc(text) == unicodedata.normalize("NFC", text)
            assert skeleton(text) == _skeleton(text)
