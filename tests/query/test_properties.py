"""Properties of the query language that must hold for any query and any post."""

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from listening.posts import Post
from listening.query import QuerySyntaxError, parse
from listening.query.matcher import Matcher

WORDS = ["privacy", "gdpr", "ico", "data", "breach", "café", "cafe", "straße", "strasse", "fine", "the", "FOI", "naïve"]
HANDLES = ["ICOnews", "jane.bsky.social", "bob_99", "commissioner"]
DOMAINS = ["ico.org.uk", "news.ico.org.uk", "gov.uk", "example.com"]
LIST_NAMES = ["tech journalists", "MPs"]
LISTS = {"Tech Journalists": {"@ICOnews", "jane.bsky.social"}, "mps": {"bob_99"}}

QUERY_PIECES = [
    "AND", "OR", "NOT", "NEAR/2", "NEAR/0f", "NEAR", "NEAR/x", "-", "(", ")", '"', "“", "{", "}", "<<<", ">>>",
    "~3", "~", "*", "?", "#", "@", ":", "author:", "autor:", "is:", "is:retweet", "has:links", "links:", "list:",
    "privacy", "gdpr?", "e-mail", "10:30", "https://ico.org.uk", "www.x", "journo*", "*x", "café", "&", "🙂",
    "\u0301", "ß", "İ", " ", "  ", "\n",
]

word = st.sampled_from(WORDS)
handle = st.sampled_from(HANDLES)


@st.composite
def text_terms(draw):
    kind = draw(st.integers(0, 7))
    if kind == 0:
        return draw(word)
    if kind == 1:
        chosen = draw(word)
        return chosen[: draw(st.integers(1, len(chosen)))] + "*"
    if kind == 2:
        return "#" + draw(word)
    if kind == 3:
        return "@" + draw(handle)
    if kind == 4:
        return '"' + " ".join(draw(st.lists(word, min_size=1, max_size=3))) + '"'
    if kind == 5:
        return "{" + draw(st.sampled_from(["ICO", "Privacy", "GDPR", "Café"])) + "}"
    if kind == 6:
        chosen = draw(word)
        at = draw(st.integers(1, len(chosen)))
        return chosen[:at] + "?" + chosen[at + 1 :] if at < len(chosen) else chosen
    return draw(st.sampled_from(["e-mail", "ico's", "gov.uk", "data-protection"]))


@st.composite
def field_terms(draw):
    return draw(
        st.sampled_from(
            [f"author:{h}" for h in HANDLES]
            + [f"from:@{h}" for h in HANDLES]
            + [f"to:{h}" for h in HANDLES]
            + [f"mentions:{h}" for h in HANDLES]
            + [f"links:{d}" for d in DOMAINS]
            + ["links:ico.org.uk/about", f"site:{draw(st.sampled_from(DOMAINS))}", "url:ico.org.uk/about"]
            + ["lang:en", "lang:cy", "platform:x", "platform:bluesky", "is:reply", "is:repost", "is:quote"]
            + ["has:links", "has:mentions", "has:hashtags", "author:(ICOnews OR bob_99)"]
            + [f'list:"{name}"' for name in LIST_NAMES]
        )
    )


@st.composite
def operands(draw, depth):
    choice = draw(st.integers(0, 9 if depth > 0 else 5))
    if choice <= 2:
        return draw(text_terms())
    if choice <= 4:
        return draw(field_terms())
    if choice == 5:
        near = f"NEAR/{draw(st.integers(0, 4))}{draw(st.sampled_from(['', 'f']))}"
        return f"{draw(text_terms())} {near} {draw(text_terms())}"
    if choice == 6:
        return '"' + " ".join(draw(st.lists(word, min_size=2, max_size=3))) + f'"~{draw(st.integers(0, 3))}'
    if choice <= 8:
        items = draw(st.lists(operands(depth - 1), min_size=2, max_size=3))
        return "(" + " OR ".join(items) + ")"
    first = draw(operands(depth - 1))
    rest = draw(st.lists(st.tuples(st.sampled_from(["", "AND ", "NOT ", "-", "AND NOT "]), operands(depth - 1)), max_size=2))
    return "(" + " ".join([first] + [connector + item for connector, item in rest]) + ")"


queries = operands(2)


@st.composite
def posts(draw):
    pieces = WORDS + ["Privacy", "PRIVACY", "GDPR", "Café", "CAFE", "STRASSE", "#privacy", "#GDPR", "#data_protection",
                      "@ICOnews", "@iconews.", "@jane.bsky.social", "jane@example.com", "e-mail", "e mail", "ICO's",
                      "(see https://ico.org.uk/about).", "www.gov.uk", "10:30", "🙂", "—", ",", ".", "cafe\u0301",
                      "ΣΊΣΥΦΟΣ", "x\u0345y", "\u0345", "İstanbul", "databreach"]
    separators = st.sampled_from([" ", " ", " ", "", "-", "\n", "_"])
    text = "".join(piece + draw(separators) for piece in draw(st.lists(st.sampled_from(pieces), max_size=12)))
    title = "".join(piece + draw(separators) for piece in draw(st.lists(st.sampled_from(pieces), max_size=4)))
    return Post(
        platform=draw(st.sampled_from(["x", "bluesky", "rss"])),
        external_id="1",
        text=text,
        title=title,
        url=draw(st.sampled_from(["", "https://www.ico.org.uk/news/1", "https://x.com/ICOnews/status/1"])),
        author_handle=draw(st.sampled_from(HANDLES + ["someone", "@ICONEWS", ""])),
        lang=draw(st.sampled_from(["en", "cy", ""])),
        links=tuple(draw(st.lists(st.sampled_from(["https://news.ico.org.uk/about/x", "http://gov.uk/", "example.com/a"]), max_size=2))),
        mentions=tuple(draw(st.lists(st.sampled_from(HANDLES + ["@Commissioner"]), max_size=2))),
        in_reply_to_handle=draw(st.sampled_from(["", "commissioner", "@ICOnews"])),
        kind=draw(st.sampled_from(["post", "reply", "repost", "quote"])),
    )


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60))
def test_parse_raises_only_query_syntax_error_on_any_text(text):
    try:
        parse(text)
    except QuerySyntaxError as error:
        assert isinstance(error.message, str) and error.message
        assert 0 <= error.position <= len(text)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(QUERY_PIECES), max_size=12).map("".join))
def test_parse_raises_only_query_syntax_error_on_query_like_text(text):
    try:
        parse(text)
    except QuerySyntaxError as error:
        assert 0 <= error.position <= len(text)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(queries)
def test_generated_queries_parse_and_their_canonical_form_is_stable(text):
    query = parse(text)
    again = parse(str(query))
    assert str(again) == str(query)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(queries, posts())
def test_the_canonical_form_matches_the_same_posts(text, post):
    query = parse(text)
    assert parse(str(query)).matches(post, lists=LISTS) == query.matches(post, lists=LISTS)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(queries, queries, posts())
def test_a_or_b_matches_exactly_when_a_or_b_does(a, b, post):
    either = parse(f"({a}) OR ({b})").matches(post, lists=LISTS)
    assert either == (parse(a).matches(post, lists=LISTS) or parse(b).matches(post, lists=LISTS))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(queries, queries, posts())
def test_a_not_b_matches_exactly_when_a_does_and_b_does_not(a, b, post):
    expected = parse(a).matches(post, lists=LISTS) and not parse(b).matches(post, lists=LISTS)
    assert parse(f"({a}) NOT ({b})").matches(post, lists=LISTS) == expected
    assert parse(f"({a}) -({b})").matches(post, lists=LISTS) == expected


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(queries, queries, posts())
def test_a_and_b_matches_exactly_when_both_do(a, b, post):
    both = parse(f"({a}) ({b})").matches(post, lists=LISTS)
    assert both == (parse(a).matches(post, lists=LISTS) and parse(b).matches(post, lists=LISTS))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(queries, min_size=1, max_size=12), st.lists(posts(), min_size=1, max_size=8))
def test_the_prefiltered_matcher_returns_what_evaluating_every_query_does(texts, batch):
    matcher = Matcher((index, parse(text)) for index, text in enumerate(texts))
    for post in batch:
        assert matcher.match(post, lists=LISTS) == matcher.match_unfiltered(post, lists=LISTS)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(queries, posts())
def test_spans_are_empty_exactly_when_a_query_without_text_terms_matches_or_nothing_matches(text, post):
    query = parse(text)
    spans = query.spans(post, lists=LISTS)
    if not query.matches(post, lists=LISTS):
        assert spans == {"text": [], "title": []}
    for field in ("text", "title"):
        source = getattr(post, field)
        previous_end = -1
        for start, end in spans[field]:
            assert 0 <= start < end <= len(source)
            assert start > previous_end
            previous_end = end


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40), word)
def test_matching_arbitrary_text_never_fails_and_the_matcher_agrees(text, term):
    post = Post(platform="x", external_id="1", text=text, title=text[::-1])
    queries = [parse(term), parse(f'"{term} {term}"~2'), parse(f"{term[:2]}*"), parse(f"#{term}"), parse("has:mentions")]
    matcher = Matcher(enumerate(queries))
    assert matcher.match(post) == matcher.match_unfiltered(post)


EXOTIC = ["\u0345", "\u0301", "\u0308", "ß", "ẞ", "İ", "ı", "ﬁ", "Σ", "ς", "🙂", "\u200d", "𝐀", "ǰ", "\u0f73", "ᾳ", "_", "#", "@", "."]


DENSE_WORDS = ["ico", "ICO", "privacy", "café", "Strasse", "data"]
DENSE_TERMS = DENSE_WORDS + ["ico*", "priv*", "caf?", "stra*e", "#ico", "@ico", "{ICO}", '"ico data"', "ico NEAR/1 data"]


@settings(max_examples=800, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(st.sampled_from(DENSE_WORDS + EXOTIC), st.characters(blacklist_categories=("Cs",))), max_size=8),
    st.lists(st.sampled_from(DENSE_TERMS), min_size=1, max_size=4),
)
@example(["\u0345", "ico"], ["ico"])
@example(["ICO", "\u0308", "data"], ['"ico data"'])
def test_the_prefilter_holds_for_words_run_into_unusual_characters(pieces, terms):
    text = "".join(pieces)
    post = Post(platform="x", external_id="1", text=text, title=text[::-1], mentions=tuple(pieces[:1]))
    matcher = Matcher((index, parse(term)) for index, term in enumerate(terms))
    assert matcher.match(post) == matcher.match_unfiltered(post)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(queries, min_size=1, max_size=6), st.lists(posts(), min_size=1, max_size=6))
def test_the_matchers_spans_are_the_querys_spans(texts, batch):
    parsed = [parse(text) for text in texts]
    matcher = Matcher(enumerate(parsed))
    for post in batch:
        for index, query in enumerate(parsed):
            assert matcher.spans(index, post, lists=LISTS) == query.spans(post, lists=LISTS)
