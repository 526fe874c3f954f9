"""Field operators (`author:`, `links:`, `is:` …): validating values and matching.

Field names and values compare case-insensitively, and a leading `@` on a handle
is ignored. A field with a bracketed list of values (`author:(alice OR bob)`)
matches when any value does. A bare value runs to the next space, bracket,
quote, brace or comment, and loses trailing `?` (punctuation, as for terms), so
`is:reply?` is `is:reply`; a quoted value is kept as typed.

`url:` is a case-insensitive substring test on the post's own URL and on every
link (URLs in the text and title included), scheme and all. `lang:` and
`platform:` compare whole values.
"""

import difflib
import re

from listening.query.ast import Node
from listening.query.errors import QuerySyntaxError
from listening.query.links import link_matches, split_link, split_site_value
from listening.query.prepared import handle_key
from listening.query.terms import OPERATOR_WORDS
from listening.query.text import fold, has_letter_or_digit, nfc
from listening.query.tokenizer import MENTION

CANONICAL = {
    "author": "author",
    "from": "author",
    "to": "to",
    "mentions": "mentions",
    "links": "links",
    "site": "site",
    "url": "url",
    "lang": "lang",
    "language": "lang",
    "platform": "platform",
    "list": "list",
    "is": "is",
    "has": "has",
}
CHOICES = {"is": ("reply", "repost", "quote"), "has": ("links", "mentions", "hashtags")}
SYNONYMS = {
    "is": {
        "retweet": "repost",
        "retweets": "repost",
        "retweeted": "repost",
        "rt": "repost",
        "reposts": "repost",
        "reposted": "repost",
        "boost": "repost",
        "boosted": "repost",
        "reblog": "repost",
        "share": "repost",
        "shared": "repost",
        "replies": "reply",
        "comment": "reply",
        "quotes": "quote",
        "quoted": "quote",
    },
    "has": {
        "link": "links",
        "url": "links",
        "urls": "links",
        "mention": "mentions",
        "hashtag": "hashtags",
        "tag": "hashtags",
        "tags": "hashtags",
    },
}
_EXAMPLES = {
    "author": "author:ICOnews",
    "to": "to:ICOnews",
    "mentions": "mentions:ICOnews",
    "links": "links:ico.org.uk",
    "site": "site:bbc.co.uk",
    "url": "url:ico.org.uk/for-organisations",
    "lang": "lang:en",
    "platform": "platform:bluesky",
    "list": 'list:"tech journalists"',
    "is": "is:reply",
    "has": "has:links",
}
_SAFE_BARE = re.compile(r"[^\s()\"“”„{}<>]+")


def field_example(name: str) -> str:
    return _EXAMPLES[CANONICAL[name.casefold()]]


def known_field(name: str) -> bool:
    return name.casefold() in CANONICAL


# Names other search tools use for one of ours, suggested when spelling alone finds nothing close.
FIELD_SYNONYMS = {
    "domain": "links",
    "host": "site",
    "user": "author",
    "username": "author",
    "handle": "author",
    "by": "author",
    "account": "author",
    "reply": "to",
    "replyto": "to",
    "retweet": "is",
    "repost": "is",
    "quote": "is",
    "media": "has",
    "type": "is",
    "kind": "is",
}


def _close_field(key: str) -> str | None:
    close = difflib.get_close_matches(key, list(CANONICAL), n=1, cutoff=0.6)
    return close[0] if close else FIELD_SYNONYMS.get(key)


def unknown_field_message(name: str) -> str:
    """Suggest the nearest known operator; when even that is a long way off, list them all too."""
    key = name.casefold()
    close = _close_field(key)
    if close:
        return f"Unknown operator {name}: did you mean {close}:?"
    nearest = max(CANONICAL, key=lambda known: difflib.SequenceMatcher(None, key, known).ratio())
    names = ", ".join(f"{known}:" for known in CANONICAL)
    return (
        f"Unknown operator {name}: did you mean {nearest}:? The operators are {names}. "
        f'To search for the words, put them in quotes: "{name} …"'
    )


class Field(Node):
    """A field operator with one or more values (`written` are the values as typed)."""

    def __init__(self, name: str, written: tuple[str, ...], values: tuple, position: int = 0):
        self.name = name
        self.written = written
        self.values = values
        self.position = position

    def __str__(self) -> str:
        rendered = [_render_value(value) for value in self.written]
        if len(rendered) == 1:
            return f"{self.name}:{rendered[0]}"
        return f"{self.name}:(" + " OR ".join(rendered) + ")"

    def evaluate(self, post, lists) -> bool:
        return _MATCHERS[self.name](self, post, lists)

    def collect_spans(self, post, lists, spans) -> None:
        if self.name != "mentions":
            return
        for field_index, field in enumerate(post.fields):
            for position, (kind, form) in enumerate(zip(field.kinds, field.folded)):
                if kind == MENTION and form in self.values:
                    spans[field_index].add(field.spans()[position])


def _render_value(value: str) -> str:
    if _SAFE_BARE.fullmatch(value) and value not in OPERATOR_WORDS and not value.endswith("?"):
        return value
    return f'"{value}"'


def _is(field, post, lists) -> bool:
    author, reply_to, platform, lang, kind = post.attributes
    # A reply-to handle counts only if it names someone: a letter or digit once `@` and spaces go.
    return any(kind == value or (value == "reply" and has_letter_or_digit(reply_to)) for value in field.values)


def _has(field, post, lists) -> bool:
    for value in field.values:
        if value == "links" and post.links:
            return True
        if value == "mentions" and post.mention_keys:
            return True
        if value == "hashtags" and post.has_hashtags:
            return True
    return False


def _links(field, post, lists) -> bool:
    return any(link_matches(link, host, path) for link in post.link_parts for host, path in field.values)


def _site(field, post, lists) -> bool:
    own = split_link(post.post.url)
    return any(link_matches(own, host, path) for host, path in field.values)


def _url(field, post, lists) -> bool:
    addresses = [fold(post.post.url)] + [fold(link) for link in post.links]
    return any(value in address for value in field.values for address in addresses)


def _list(field, post, lists) -> bool:
    author = post.attributes[0]
    return author != "" and any(lists.contains(value, author) for value in field.values)


_MATCHERS = {
    "author": lambda field, post, lists: post.attributes[0] in field.values,
    "to": lambda field, post, lists: post.attributes[1] in field.values,
    "mentions": lambda field, post, lists: not post.mention_keys.isdisjoint(field.values),
    "links": _links,
    "site": _site,
    "url": _url,
    "lang": lambda field, post, lists: post.attributes[3] in field.values,
    "platform": lambda field, post, lists: post.attributes[2] in field.values,
    "list": _list,
    "is": _is,
    "has": _has,
}


def build_field(written_name: str, name_position: int, values: list[tuple[str, int, bool]]) -> Field:
    """Validate and normalise a field's values: (text, position, was quoted) each."""
    name = CANONICAL[written_name.casefold()]
    written, normalised = [], []
    for text, position, quoted in values:
        text = nfc(text).strip()
        if not quoted:
            text = text.rstrip("?")
        if not text:
            raise QuerySyntaxError(
                f"{written_name}: needs a value straight after the colon, e.g. {_EXAMPLES[name]}", position
            )
        written.append(text)
        normalised.append(_normalise(name, written_name, text, position))
    return Field(name, tuple(written), tuple(normalised), name_position)


def _normalise(name: str, written_name: str, text: str, position: int):
    if name in ("author", "to", "mentions"):
        key = handle_key(text)
        if not has_letter_or_digit(key):
            raise QuerySyntaxError(f"{written_name}: needs an account handle, e.g. {_EXAMPLES[name]}", position)
        return key
    if name in ("links", "site"):
        host, path = split_site_value(text)
        if not has_letter_or_digit(host):
            raise QuerySyntaxError(f"{written_name}: needs a web address, e.g. {_EXAMPLES[name]}", position)
        return host, path
    if name in CHOICES:
        value = fold(text)
        if value in CHOICES[name]:
            return value
        raise QuerySyntaxError(_choice_message(name, text, value), position)
    if not has_letter_or_digit(text):
        raise QuerySyntaxError(f"{written_name}: needs a value with a letter or digit, e.g. {_EXAMPLES[name]}", position)
    return fold(text)


def _choice_message(name: str, text: str, value: str) -> str:
    choices = CHOICES[name]
    suggestion = SYNONYMS[name].get(value) or next(iter(difflib.get_close_matches(value, choices, n=1)), None)
    listed = ", ".join(choices[:-1]) + f" or {choices[-1]}"
    if suggestion:
        return f"{name}:{text} isn't available: did you mean {name}:{suggestion}? ({name}: takes {listed})"
    return f"{name}:{text} isn't available: {name}: takes {listed}"
