"""Reading a post's text or title as a sequence of tokens.

Left to right: URLs are taken out first (they become links, never words); then
hashtags (`#` and word characters), mentions (`@`, letters, digits, `_`, `.`, not
ending in a dot, only where the `@` does not follow a letter, digit or `_`), and
words (maximal runs of letters and digits; combining marks stay inside). Anything
else separates tokens.

A URL starts at the beginning of the text or after a character that is not a
letter or digit, and runs to the next whitespace, less any trailing
`. , ; : ! ? ' " ) ] }`. A bare `https://` or `www.` with nothing after it is not a
URL. Because URLs come out first, `#tag_https://x.com` holds the URL and `#tag_`.

A hashtag needs nothing before its `#` (`abc#def` holds the word `abc` and the
hashtag `#def`): only URLs and mentions have a rule about what precedes them.
"""

import re
import unicodedata

from listening.query.text import alnum, fold, nfc_with_offsets, unaccent, word_char

WORD, HASHTAG, MENTION = 0, 1, 2
KIND_OF_GROUP = (None, HASHTAG, MENTION, WORD)  # regex group number -> token kind

URL = re.compile(rf"(?<!{word_char()})(?i:https?://|www\.)\S*")
URL_TRAILING = ".,;:!?'\")]}"


def _token_pattern(bmp_only: bool) -> re.Pattern:
    return re.compile(
        rf"(#{alnum('_', bmp_only)}{word_char('_', bmp_only)}*)"
        rf"|(@(?<!{word_char('_', bmp_only)}@){alnum('_.', bmp_only)}{word_char('_.', bmp_only)}*)"
        rf"|({alnum('', bmp_only)}{word_char('', bmp_only)}*)"
    )


# Most posts hold no letter, digit or mark beyond U+FFFF (emoji are none of these),
# and the pattern without the astral classes is much faster; the full one is used
# only for text that needs it.
_TOKEN_BMP = _token_pattern(bmp_only=True)
_TOKEN = _token_pattern(bmp_only=False)
# Text without `#` or `@` holds words only: the third alternative alone, without groups.
_WORD_BMP = re.compile(f"{alnum('', True)}{word_char('', True)}*")
_WORD = re.compile(f"{alnum()}{word_char()}*")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _needs_astral_classes(text: str) -> bool:
    """Whether a character beyond U+FFFF is a letter, digit or mark (the classes' categories)."""
    if max(text) < "\U00010000":
        return False
    categories = [unicodedata.category(char) for char in _ASTRAL.findall(text)]
    return any(category[0] in "LM" or category == "Nd" for category in categories)


def find_urls(text: str) -> list[tuple[int, int]]:
    """(start, end) of every URL in `text`, trailing punctuation left out."""
    found = []
    for match in URL.finditer(text):
        start, end = match.span()
        while end > start and text[end - 1] in URL_TRAILING:
            end -= 1
        prefix_length = 4 if text[start] in "wW" else text.index("//", start) + 2 - start
        if end - start > prefix_length:
            found.append((start, end))
    return found


class FieldTokens:
    """The tokens of one field (text or title), with lookups built on first use.

    `bodies` are tokens without their `#`/`@`; `folded` are case-folded bodies and
    `plain` folded bodies without accents. `spans()` gives each token's (start,
    end) in the original field string, covering the `#`/`@`; it is worked out
    only when asked for (highlighting), not for matching.
    """

    __slots__ = ("kinds", "bodies", "folded", "plain", "links", "_spans", "_by_plain", "_by_folded", "_by_body")

    def __init__(self, kinds, bodies, folded, plain, links, spans):
        self.kinds = kinds
        self.bodies = bodies
        self.folded = folded
        self.plain = plain
        self.links = links
        self._spans = spans  # a list, or a function that computes it
        self._by_plain = self._by_folded = self._by_body = None

    def __len__(self) -> int:
        return len(self.kinds)

    def spans(self) -> list[tuple[int, int]]:
        if callable(self._spans):
            self._spans = self._spans()
        return self._spans

    def by_plain(self) -> dict[str, list[int]]:
        if self._by_plain is None:
            self._by_plain = _index(self.plain)
        return self._by_plain

    def by_folded(self) -> dict[str, list[int]]:
        if self._by_folded is None:
            self._by_folded = _index(self.folded)
        return self._by_folded

    def by_body(self) -> dict[str, list[int]]:
        if self._by_body is None:
            self._by_body = _index(self.bodies)
        return self._by_body


def _index(forms: list[str]) -> dict[str, list[int]]:
    index: dict[str, list[int]] = {}
    for position, form in enumerate(forms):
        found = index.get(form)
        if found is None:
            index[form] = [position]
        else:
            found.append(position)
    return index


EMPTY = FieldTokens([], [], [], [], [], [])


def tokenize(raw: str) -> FieldTokens:
    """Tokenise one field of a post. See the module docstring for the rules."""
    if not raw:
        return EMPTY
    text, offsets = nfc_with_offsets(raw)
    links = []
    if "://" in text or "ww." in text or "WW." in text or "wW." in text or "Ww." in text:
        spans = find_urls(text)
        if spans:
            links = [text[start:end] for start, end in spans]
            # Blank URLs out (same length, so offsets hold); a space separates tokens.
            pieces, cursor = [], 0
            for start, end in spans:
                pieces.append(text[cursor:start])
                pieces.append(" " * (end - start))
                cursor = end
            pieces.append(text[cursor:])
            text = "".join(pieces)

    ascii_only = text.isascii()
    bmp = ascii_only or not _needs_astral_classes(text)
    pattern = _TOKEN_BMP if bmp else _TOKEN
    if "#" in text or "@" in text:
        kinds, bodies = _kinds_and_bodies(pattern.findall(text))
    else:
        bodies = (_WORD_BMP if bmp else _WORD).findall(text)
        kinds = [WORD] * len(bodies)
    # Offsets are only needed to highlight a match: found again then, token by token.
    spans = lambda: _original_spans(_scan(text, pattern)[2], offsets)  # noqa: E731

    if ascii_only:
        folded = [body.lower() for body in bodies]
        plain = folded
    else:
        folded = [body.lower() if body.isascii() else fold(body) for body in bodies]
        plain = [form if form.isascii() else unaccent(form) for form in folded]
    return FieldTokens(kinds, bodies, folded, plain, links, spans)


def _kinds_and_bodies(found: list[tuple[str, str, str]]) -> tuple[list[int], list[str]]:
    """`_scan`'s kinds and bodies, from `findall`'s groups (hashtag, mention, word)."""
    kinds, bodies = [], []
    for hashtag, mention, word in found:
        if word:
            kinds.append(WORD)
            bodies.append(word)
        elif hashtag:
            kinds.append(HASHTAG)
            bodies.append(hashtag[1:])
        else:
            body = mention[1:].rstrip(".")  # a mention never ends in a dot
            if body:
                kinds.append(MENTION)
                bodies.append(body)
    return kinds, bodies


def _scan(text: str, pattern: re.Pattern) -> tuple[list[int], list[str], list[tuple[int, int]]]:
    kinds, bodies, spans = [], [], []
    for match in pattern.finditer(text):
        kind = KIND_OF_GROUP[match.lastindex]
        start, end = match.span()
        if kind == MENTION:
            while text[end - 1] == ".":
                end -= 1
            if end - start == 1:
                continue
        kinds.append(kind)
        bodies.append(text[start + 1 : end] if kind else text[start:end])
        spans.append((start, end))
    return kinds, bodies, spans


def _original_spans(spans: list[tuple[int, int]], offsets: list[int] | None) -> list[tuple[int, int]]:
    if offsets is None:
        return spans
    return [(offsets[start], offsets[end]) for start, end in spans]
