"""`parse(text) -> Query`: the entry point of the query language."""

from collections.abc import Iterable, Mapping

from listening.posts import Post
from listening.query.ast import Node, walk
from listening.query.errors import QuerySyntaxError
from listening.query.fields import Field
from listening.query.lexer import Lexer
from listening.query.parser import parse_items
from listening.query.prepared import PreparedPost, prepare, watch_lists
from listening.query.text import nfc_with_offsets

MAX_LENGTH = 4096

Lists = Mapping[str, Iterable[str]]


def parse(text: str) -> "Query":
    """Parse a saved search's query; raises QuerySyntaxError with a message and position."""
    if not isinstance(text, str):
        raise TypeError("parse() takes the query as a string")
    # Checked before anything else, even an earlier mistake: it bounds the work of finding one.
    if len(text) > MAX_LENGTH:
        raise QuerySyntaxError(
            f"The query is {len(text):,} characters long; the limit is {MAX_LENGTH:,}. "
            "Split it into two saved searches.",
            MAX_LENGTH,
        )
    if not text.strip():
        raise QuerySyntaxError('The query is empty: type what to search for, e.g. "the ICO"', 0)
    normalised, offsets = nfc_with_offsets(text)
    try:
        lexer = Lexer(normalised)
        root = parse_items(lexer.run(), lexer.error)
    except QuerySyntaxError as error:
        if offsets is None:
            raise
        raise QuerySyntaxError(error.message, offsets[min(error.position, len(normalised))]) from None
    return Query(text, root)


class Query:
    """A parsed query. Match posts locally, or compile for a platform's search."""

    def __init__(self, source: str, root: Node):
        self.source = source
        self.root = root

    def __str__(self) -> str:
        """The query in canonical form: explicit AND, OR and NOT, no comments; parses back to itself."""
        return str(self.root)

    def __repr__(self) -> str:
        return f"<Query {self.source!r}>"

    def __eq__(self, other) -> bool:
        return isinstance(other, Query) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def matches(self, post: Post | PreparedPost, lists: Lists | None = None) -> bool:
        """Does the post match? `lists` maps watch-list names to handles, for `list:`."""
        return self.root.evaluate(prepare(post), watch_lists(lists))

    def spans(self, post: Post | PreparedPost, lists: Lists | None = None) -> dict[str, list[tuple[int, int]]]:
        """Where the post matched, for highlighting.

        `{"text": [(start, end), …], "title": […]}`: character offsets into the
        original `post.text` and `post.title` of the tokens that matched positive
        terms (a phrase is one span from its first to its last token), merged and
        sorted. Both lists are empty when the post does not match.
        """
        return spans_of(self.root, prepare(post), watch_lists(lists))

    def watch_lists(self) -> set[str]:
        """Names of the watch lists `list:` refers to, as written (compare case-insensitively)."""
        return {value for node in walk(self.root) if isinstance(node, Field) and node.name == "list" for value in node.written}

    def to_native(self, platform: str, *, x_max_length: int = 512, x_list_ids: Mapping[str, str] | None = None) -> str:
        """The platform's own search string (x, bluesky, mastodon); raises QueryNotSupported.

        `x_max_length` is X's query length limit; `x_list_ids` maps watch-list
        names (compared case-insensitively) to X list ids. See `native` for the
        widening rules and `platforms` for what each platform gets.
        """
        from listening.query.platforms import compile_query

        return compile_query(self.root, platform, x_max_length=x_max_length, x_list_ids=x_list_ids)

    def to_bluesky_params(self) -> dict:
        """Parameters for Bluesky's searchPosts. See `platforms`."""
        from listening.query.platforms import bluesky_params

        return bluesky_params(self.root)


def spans_of(root: Node, prepared: PreparedPost, lists) -> dict[str, list[tuple[int, int]]]:
    """`Query.spans` for a query's root (or an equivalent of it)."""
    found: tuple[set, set] = (set(), set())
    if root.evaluate(prepared, lists):
        root.collect_spans(prepared, lists, found)
    return {"text": _merge(found[0]), "title": _merge(found[1])}


def _merge(spans: set[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged
