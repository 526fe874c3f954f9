"""Compiling a query into a platform's own search syntax, to fetch candidates.

The compiled search may be broader than the query (every fetched post is matched
locally afterwards), never narrower where the platform can express the query:

- NEAR and `"…"~n` become the AND of their operands; a phrase with a wildcard
  keeps its wildcard-free runs; `{ }` loses its case.
- Something the platform cannot express (a wildcard word, a field it lacks) is
  dropped from an AND; it makes an OR unexpressible, and so on upward.
- A NOT is kept only when what it excludes is expressed exactly; otherwise it is
  dropped (excluding a widened term would exclude too much).
- `platform:` is settled here: true for this platform, false otherwise.
- If nothing positive is left, or the result is longer than the platform allows,
  `QueryNotSupported` is raised with a reason for the UI.

The platforms themselves are in `platforms`.
"""

from dataclasses import dataclass, replace

from listening.query.ast import And, Near, Node, Or, Phrase, Proximity
from listening.query.errors import QueryNotSupported
from listening.query.fields import Field
from listening.query.terms import HASHTAG, MENTION, OPERATOR_WORDS, TokenTerm


@dataclass(frozen=True)
class Native:
    """A compiled piece. kind: "expr", "true", "false" or "none" (cannot be expressed)."""

    kind: str
    text: str = ""
    exact: bool = True
    group: str = ""  # "and" or "or" when the text joins several parts
    positive: bool = True  # False for an AND made only of exclusions
    standalone: bool = True  # X: may stand on its own
    simple: bool = True  # a word, phrase or operator (negatable on every platform)
    dropped: tuple[str, ...] = ()  # what was left out because the platform can't express it


TRUE = Native("true")
FALSE = Native("false")
NONE = Native("none", exact=False)


def none(why: str) -> Native:
    return Native("none", exact=False, dropped=(why,))


def expr(text: str, *, exact: bool = True, standalone: bool = True) -> Native:
    return Native("expr", text, exact=exact, standalone=standalone)


class Target:
    """What one platform can express. Subclasses fill in terms and fields."""

    name = ""
    has_or = True
    negates_groups = True

    def word(self, term: TokenTerm) -> Native:
        text = term.surface
        if text in OPERATOR_WORDS:
            text = f'"{text}"'
        return expr(text, exact=not (term.case_sensitive or term.accented))

    def hashtag(self, term: TokenTerm) -> Native:
        return expr("#" + term.surface, exact=not (term.case_sensitive or term.accented))

    def mention(self, term: TokenTerm) -> Native:
        return expr("@" + term.surface, exact=not term.case_sensitive)

    def field(self, node: Field) -> Native:
        from listening.query.platforms import field_label  # platforms imports this module

        return none(field_label(node))

    def platform_field(self, node: Field) -> Native:
        return TRUE if self.name in node.values else FALSE


def compile_node(target: Target, node: Node) -> Native:
    if isinstance(node, Phrase):
        return compile_phrase(target, node.terms)
    if isinstance(node, Proximity):
        return _widened(combine_and(target, [(compile_phrase(target, (term,)), False) for term in node.terms]))
    if isinstance(node, Near):
        parts = [(compile_node(target, node.left), False), (compile_node(target, node.right), False)]
        return _widened(combine_and(target, parts))
    if isinstance(node, And):
        return combine_and(target, [(compile_node(target, child), negated) for child, negated in node.items])
    if isinstance(node, Or):
        return combine_or(target, [compile_node(target, child) for child in node.items])
    if isinstance(node, Field):
        return target.platform_field(node) if node.name == "platform" else target.field(node)
    raise TypeError(f"cannot compile {node!r}")


def _widened(native: Native) -> Native:
    return replace(native, exact=False) if native.kind == "expr" else (NONE if native.kind == "true" else native)


def compile_phrase(target: Target, terms: tuple[TokenTerm, ...]) -> Native:
    if any(term.wildcard for term in terms):
        runs, current = [], []
        for term in terms:
            if term.wildcard:
                if current:
                    runs.append(tuple(current))
                current = []
            else:
                current.append(term)
        if current:
            runs.append(tuple(current))
        parts = [(compile_phrase(target, run), False) for run in runs] + [(none("wildcards such as journo*"), False)]
        return _widened(combine_and(target, parts))
    if len(terms) == 1:
        term = terms[0]
        if term.kind == HASHTAG:
            return target.hashtag(term)
        if term.kind == MENTION:
            return target.mention(term)
        return target.word(term)
    exact = not any(term.case_sensitive or term.accented for term in terms)
    return expr('"' + " ".join(term.bare() for term in terms) + '"', exact=exact)


def combine_and(target: Target, parts: list[tuple[Native, bool]]) -> Native:
    positives, negatives, exact, dropped = [], [], True, []
    for native, negated in parts:
        dropped.extend(native.dropped)
        if not negated:
            if native.kind == "false":
                return FALSE
            if native.kind != "expr":
                exact = exact and native.kind == "true"
                continue
            positives.append(native)
            exact = exact and native.exact
        else:
            if native.kind == "false":
                continue
            if native.kind == "true":
                return FALSE
            usable = native.kind == "expr" and native.exact and native.positive
            if usable and not target.negates_groups and not native.simple:
                usable = False
            if not usable:
                exact = False
                continue
            negatives.append(native)
    dropped = tuple(dict.fromkeys(dropped))
    if not positives and not negatives:
        return TRUE if exact else Native("none", exact=False, dropped=dropped)
    if len(positives) + len(negatives) == 1 and positives:
        return replace(positives[0], exact=exact and positives[0].exact, dropped=dropped)
    text = " ".join(
        [f"({part.text})" if part.group == "or" else part.text for part in positives]
        + [f"-({part.text})" if part.group else f"-{part.text}" for part in negatives]
    )
    return Native(
        "expr",
        text,
        exact=exact,
        group="and",
        positive=bool(positives),
        standalone=any(part.standalone for part in positives),
        simple=False,
        dropped=dropped,
    )


def combine_or(target: Target, parts: list[Native]) -> Native:
    kept = []
    for native in parts:
        if native.kind == "none":
            return native
        if native.kind == "expr" and not native.positive:
            return none("NOT")
        if native.kind == "true":
            return TRUE
        if native.kind == "expr":
            kept.append(native)
    if not kept:
        return FALSE
    if len(kept) == 1:
        return kept[0]
    if not target.has_or:
        return none("OR")
    text = " OR ".join(f"({part.text})" if part.group == "and" else part.text for part in kept)
    return Native(
        "expr",
        text,
        exact=all(part.exact for part in kept),
        group="or",
        standalone=all(part.standalone for part in kept),
        simple=False,
        dropped=tuple(dict.fromkeys(why for part in kept for why in part.dropped)),
    )


def finish(native: Native, label: str) -> str:
    if native.kind == "false":
        raise QueryNotSupported(f"This search can never match posts from {label}: its platform: rules them out.")
    if native.kind != "expr" or not native.positive:
        if native.dropped:
            cannot = ", ".join(native.dropped)
            raise QueryNotSupported(
                f"{label}'s search can't express {cannot}, and nothing else in this search is left to look for "
                f"there. Add a word, a phrase or an account that {label} can search for."
            )
        raise QueryNotSupported(
            f"Nothing in this search can be looked for on {label} (exclusions alone can't be searched). "
            f"Add a word, a phrase or an account that {label} can search for."
        )
    return native.text
