"""Single-token terms: a word, a wildcard word, a hashtag or a mention.

A query's words, phrases and `{ }` terms are cut into tokens the way a post's text
is (so `e-mail` is the two tokens `e`, `mail`), except that `*` and `?` are
wildcards inside a token. One or more `?` at the end of a token are punctuation
(`GDPR?` is `GDPR`); a token may not start with a wildcard.

How a term compares with a post's token:

- a word matches a word or the hashtag of that word; a hashtag only hashtags; a
  mention only mentions (in the text, the title, or the post's `mentions`);
- inside `{ }` the token must be exactly the same (no case or accent folding);
- otherwise case-folded; a term without accents ignores the token's accents,
  a term with any accent needs the same accents.

A term with `*` or `?` is compared by `wildcards.WildcardTerm`, in time linear in
the token (never by a regular expression built from the query).
"""

import re

from listening.query.errors import QuerySyntaxError
from listening.query.prepared import handle_body
from listening.query.text import alnum, fold, has_accent, has_letter_or_digit, unaccent, word_char
from listening.query.tokenizer import HASHTAG, KIND_OF_GROUP, MENTION, URL, URL_TRAILING, WORD, FieldTokens
from listening.query.wildcards import WildcardTerm

_TERM_TOKEN = re.compile(
    rf"(#{alnum('_*?')}{word_char('_*?')}*)"
    # As in text, `@` starts a mention after anything but a letter, digit or `_`: `x*@y` is `x*`, `@y`.
    rf"|(@(?<!{word_char('_')}@){alnum('_.*?')}{word_char('_.*?')}*)"
    rf"|({alnum('*?')}{word_char('*?')}*)"
)
_PREFIX = {WORD: "", HASHTAG: "#", MENTION: "@"}
_ACCEPTS = {WORD: (WORD, HASHTAG), HASHTAG: (HASHTAG,), MENTION: (MENTION,)}
OPERATOR_WORDS = frozenset({"AND", "OR", "NOT", "NEAR"})



def _is_query_url(match: re.Match) -> bool:
    """A web address typed into a query; a bare `www.` (nothing after the dot) is the word `www`.

    A bare `https://` stays an error: nobody searches for the word `https`, and the
    message pointing to links: and url: is what the officer needs.
    """
    found = match.group()
    return found[0] not in "wW" or len(found.rstrip(URL_TRAILING)) > 4


def query_url_at(text: str, start: int) -> bool:
    match = URL.match(text, start)
    return match is not None and _is_query_url(match)


def url_in_query(text: str) -> str:
    """The message for a web address typed as a term, suggesting links: and url:."""
    address = re.sub(r"^(?i:https?://)?(?i:www\.)?", "", text.split()[0] if text.split() else text)
    address = address.rstrip(".,;:!?'\")]}/\"")
    if not address:
        return (
            "Web addresses can't be searched as words: use links: to find posts that link to a site "
            "(e.g. links:ico.org.uk), or url: to match part of an address"
        )
    return (
        f"Web addresses can't be searched as words: use links:{address} to find posts that link there, "
        f"or url:{address} to match part of an address"
    )


class TokenTerm:
    """One token of a query. `form` is what tokens are compared with."""

    __slots__ = ("kind", "surface", "case_sensitive", "wildcard", "accented", "form", "matcher", "key")

    def __init__(self, kind: int, surface: str, case_sensitive: bool = False):
        self.kind = kind
        self.surface = surface
        self.case_sensitive = case_sensitive
        self.wildcard = "*" in surface or "?" in surface
        self.form = surface if case_sensitive else fold(surface)
        self.accented = not case_sensitive and has_accent(self.form)
        self.matcher = WildcardTerm(self.form) if self.wildcard else None
        self.key = (kind, self.form, case_sensitive, self.accented)

    def __eq__(self, other):
        return isinstance(other, TokenTerm) and self.key == other.key

    def __hash__(self):
        return hash(self.key)

    def __str__(self) -> str:
        text = _PREFIX[self.kind] + self.surface
        if self.case_sensitive:
            return "{" + text + "}"
        if self.kind == WORD and (self.surface in OPERATOR_WORDS or self.surface.startswith("NEAR/")):
            return f'"{text}"'
        return text

    def bare(self) -> str:
        """The term as written inside quotes or braces."""
        return _PREFIX[self.kind] + self.surface

    def forms_of(self, field: FieldTokens) -> list[str]:
        if self.case_sensitive:
            return field.bodies
        return field.folded if self.accented else field.plain

    def index_of(self, field: FieldTokens) -> dict[str, list[int]]:
        if self.case_sensitive:
            return field.by_body()
        return field.by_folded() if self.accented else field.by_plain()

    def positions(self, field: FieldTokens) -> list[int]:
        """Indices of the field's tokens this term matches, ascending."""
        if not field.kinds:
            return []
        index = self.index_of(field)
        if self.matcher is None:
            found = index.get(self.form)
            if not found:
                return []
        else:
            matches = self.matcher.matches
            found = [position for form, positions in index.items() if matches(form) for position in positions]
            if not found:
                return []
            found.sort()
        accepts = _ACCEPTS[self.kind]
        kinds = field.kinds
        return [position for position in found if kinds[position] in accepts]

    def matches_handle(self, handle: str) -> bool:
        """For mention terms: does this term match a handle from the post's `mentions`?"""
        body = handle_body(handle)
        if not self.case_sensitive:
            body = fold(body)
            if not self.accented:
                body = unaccent(body)
        if self.matcher is not None:
            return self.matcher.matches(body)
        return body == self.form


def literal_segments(term: TokenTerm) -> list[tuple[str, bool, bool]]:
    """The wildcard-free pieces of a term: (text, starts the term, ends the term)."""
    pieces = [piece for piece in re.split(r"([*?]+)", term.form)]
    segments = []
    for index, piece in enumerate(pieces):
        if piece and piece[0] not in "*?":
            segments.append((piece, index == 0, index == len(pieces) - 1))
    return segments


def read_terms(text: str, offset: int, case_sensitive: bool = False) -> list[TokenTerm]:
    """Cut query text (a bare word, a phrase's or a `{ }` term's content) into terms.

    `offset` is where `text` starts in the query, for error positions. Returns an
    empty list when the text holds no letter or digit.
    """
    url = next((match for match in URL.finditer(text) if _is_query_url(match)), None)
    if url:
        raise QuerySyntaxError(url_in_query(text[url.start() :]), offset + url.start())
    terms = []
    for match in _TERM_TOKEN.finditer(text):
        kind = KIND_OF_GROUP[match.lastindex]
        start, end = match.span()
        body_start = start + (1 if kind else 0)
        strip = ".?" if kind == MENTION else "?"
        while end > body_start and text[end - 1] in strip:
            end -= 1
        body = text[body_start:end]
        if not body:
            continue
        if body[0] in "*?":
            raise QuerySyntaxError(
                "A term can't start with a wildcard (* or ?): put at least one letter before it, e.g. journo*",
                offset + body_start,
            )
        if not has_letter_or_digit(body):
            raise QuerySyntaxError(
                f"“{text[start:end]}” can't be searched: a term needs at least one letter or digit",
                offset + start,
            )
        terms.append(TokenTerm(kind, body, case_sensitive))
    return terms
