"""What a post must contain for a query to have any chance of matching.

`requirements(query_root)` returns clauses: every post the query matches
satisfies every clause, and a clause is satisfied when at least one of its
alternatives holds. An empty list means "always evaluate". Alternatives are:

- `TextKey(text, left, right)`: `text` occurs in the post's haystack (the skeleton
  of its text, title, URL, links and `@mentions`, see `PreparedPost.haystack`);
  with `left`/`right`, no letter or digit stands right before/after it.
- a tuple for a cheap post attribute: `("author", handle)`, `("reply_to",
  handle)`, `("platform", p)`, `("lang", l)`, `("kind", k)`, `("replying",)` (a
  reply-to handle is set), `("has_links",)` (the post's `links` are not empty),
  `("list", name)` (the author is on that watch list).

Why a term's key is found: a token's skeleton is a substring of the skeleton of
the text it was cut from, and a term equals a token only if their skeletons are
equal. An AND (and a phrase, NEAR or `~n`) needs all of its positive parts, so it
contributes all of their clauses; an OR needs one of its operands, so it gives one
clause joining each operand's most selective clause; NOT gives nothing. A query
keeps its few most selective clauses.
"""

import unicodedata
from typing import NamedTuple

from listening.query.ast import And, Near, Or, Phrase, Proximity
from listening.query.fields import Field
from listening.query.prepared import prepare
from listening.query.terms import HASHTAG, MENTION, TokenTerm, literal_segments
from listening.query.text import skeleton

MAX_CLAUSES = 3
EXTRA_CLAUSE_COST = 0.15


class TextKey(NamedTuple):
    text: str
    left: bool
    right: bool


Clause = frozenset

_ATTRIBUTE_COST = {"author": 0.01, "reply_to": 0.01, "list": 0.05, "kind": 0.2, "replying": 0.3, "has_links": 0.3}
_COMMON_WORDS = frozenset(
    "a an and are as at be but by for from has have i in is it its of on or our that the this to was we were "
    "will with you your".split()
)


def requirements(root) -> list[Clause]:
    """The most selective few clauses of a query, cheapest first."""
    clauses = sorted(set(_clauses(root)), key=cost)
    # More clauses narrow the candidates but each costs work per post; a clause
    # that holds for many posts (a common word) is not worth its keep.
    return clauses[:1] + [clause for clause in clauses[1:MAX_CLAUSES] if cost(clause) <= EXTRA_CLAUSE_COST]


def _clauses(node) -> list[Clause]:
    if isinstance(node, (Phrase, Proximity)):
        return [clause for term in node.terms for clause in _term_clauses(term)]
    if isinstance(node, Near):
        return _clauses(node.left) + _clauses(node.right)
    if isinstance(node, And):
        return [clause for child, negated in node.items if not negated for clause in _clauses(child)]
    if isinstance(node, Or):
        union: set = set()
        for child in node.items:
            found = _clauses(child)
            if not found:
                return []
            union |= min(found, key=cost)
        return [frozenset(union)]
    if isinstance(node, Field):
        found = _field_requirement(node)
        if not found or any(isinstance(key, TextKey) and not key.text for key in found):
            return []
        return [found]
    return []


def cost(alternatives: Clause) -> float:
    """Roughly how often a clause holds for an everyday post (lower is more selective)."""
    total = 0.0
    for alternative in alternatives:
        if isinstance(alternative, TextKey):
            text = alternative.text.lstrip("#@")
            if text in _COMMON_WORDS or not text:
                each = 1.0
            else:
                each = max(0.01, 2.0 ** -(len(text) - 1))
            if alternative.text[0] in "#@":
                each *= 0.25
            elif alternative.left and alternative.right:
                each *= 0.25
            elif alternative.left or alternative.right:
                each *= 0.6
            total += each
        else:
            total += _ATTRIBUTE_COST.get(alternative[0], 0.5)
    return total


def _term_clauses(term: TokenTerm) -> list[Clause]:
    best = _term_requirement(term)
    return [best] if best is not None else []


def _term_requirement(term: TokenTerm) -> frozenset | None:
    best = None
    for text, starts, ends in literal_segments(term):
        key = skeleton(text)
        if not key or _starts_with_mark(key):
            continue
        prefix = ""
        if starts and term.kind == HASHTAG:
            prefix = "#"
        elif starts and term.kind == MENTION:
            prefix = "@"
        candidate = TextKey(prefix + key, starts and not prefix, ends)
        if best is None or cost(frozenset([candidate])) < cost(frozenset([best])):
            best = candidate
    return frozenset([best]) if best is not None else None


def term_key(term: TokenTerm) -> str | None:
    """The text of the term's most selective key: in the haystack of every post holding the term."""
    best = _term_requirement(term)
    return next(iter(best)).text if best is not None else None


def _starts_with_mark(text: str) -> bool:
    return unicodedata.combining(text[0]) != 0 or unicodedata.category(text[0])[0] == "M"


def _field_requirement(node: Field) -> frozenset | None:
    name, values = node.name, node.values
    if name == "author":
        return frozenset(("author", value) for value in values)
    if name == "to":
        return frozenset(("reply_to", value) for value in values)
    if name == "list":
        return frozenset(("list", value) for value in values)
    if name in ("platform", "lang"):
        return frozenset((name, value) for value in values)
    if name == "mentions":
        return frozenset(TextKey("@" + skeleton(value), False, True) for value in values)
    if name in ("links", "site"):
        return frozenset(TextKey(skeleton(host), False, False) for host, path in values)
    if name == "url":
        return frozenset(TextKey(skeleton(value), False, False) for value in values)
    if name == "is":
        found = set()
        for value in values:
            found.add(("kind", value))
            if value == "reply":
                found.add(("replying",))
        return frozenset(found)
    if name == "has":
        found = set()
        for value in values:
            if value == "links":
                found |= {TextKey("http", False, False), TextKey("www.", False, False), ("has_links",)}
            else:
                found.add(TextKey("@" if value == "mentions" else "#", False, False))
        return frozenset(found)
    return None


def stored_haystack(post) -> str:
    """What the database keeps so a query's requirements can be checked in SQL.

    The post's haystack (see `PreparedPost.haystack`), then one line each for the
    skeletons of its author, reply-to handle, platform, language and kind. Every
    requirement's text, and the skeleton of every attribute value it names, is then
    a substring of this string for each post the query matches, so `LIKE
    '%key%'` over it is a necessary condition (see `listening.prefilter_sql`).
    Word boundaries are not checked there: a broader condition is still a sound one.
    A `PreparedPost` may be passed, to reuse the haystack matching built.
    """
    prepared = prepare(post)
    attributes = prepared.attributes
    return "\n".join([prepared.haystack, *(skeleton(value) for value in attributes)])
