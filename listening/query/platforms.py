"""What each platform's search can express (see `native` for the general rules).

- X: space for AND, OR, `-`, phrases, `#tag`, `@handle`, `from:`, `to:`, `url:`
  (for `links:` and `url:`), `lang:`, `list:<id>` (watch lists with an X list
  id), `is:reply`, `is:retweet`, `is:quote`, `has:links`, `has:mentions`,
  `has:hashtags`. X refuses `is:`, `has:` and `lang:` on their own, so those
  need a word, hashtag or account beside them. `site:` is dropped (X posts all
  live on x.com). X's `url:` does not look at a post's own x.com address, which
  `url:` in a query does; a saved search uses `url:` for what a post links to.
- Bluesky (`searchPosts`): words, phrases and `-word`/`-"phrase"` joined by
  spaces (AND); Bluesky has no OR. The filters Bluesky offers as parameters
  (`author`, `mentions`, `lang`, `domain`, `url`, `tag`) it also accepts inside
  `q` as `from:`, `mentions:`, `lang:`, `domain:`, `url:` and `#tag`, so
  `to_native("bluesky")` returns one self-contained `q` with them inline, where
  they stand in an AND: `from:`/`mentions:` for author:/from:/mentions: and
  @mentions, `lang:`, `domain:` (the host of links:; a path is dropped), `url:`
  (only a whole address starting http:// or https://), `#tag`. They are never
  negated (a NOT on them is dropped). `to_bluesky_params()` returns the same
  search as parameters: `q` with only the words and phrases (hashtags as their
  words), and the filters from the top-level AND. When nothing is left for `q`
  but filters, `q` is the inline form (Bluesky requires `q`).
- Mastodon (full-text search): words, phrases, `-word`, `from:` (one account),
  `is:reply`, `has:link` (for has:links), `language:`. No OR, no hashtag or
  mention operators: a hashtag is sent as its word, a mention is dropped.
  Mastodon only searches posts its server has indexed as searchable, so it may
  return fewer posts than exist whatever the query.
"""

from listening.query.ast import And, Node, Phrase
from listening.query.errors import QueryNotSupported
from listening.query.fields import Field
from listening.query.native import Native, Target, combine_or, compile_node, expr, finish, none
from listening.query.terms import HASHTAG, MENTION, TokenTerm
from listening.query.text import fold


class XTarget(Target):
    name = "x"

    def __init__(self, list_ids=None):
        self.list_ids = {fold(name.strip()): str(list_id) for name, list_id in (list_ids or {}).items()}

    def field(self, node: Field) -> Native:
        name = node.name
        parts = []
        for written, value in zip(node.written, node.values):
            if name in ("author", "to"):
                operator = "from" if name == "author" else "to"
                parts.append(expr(f"{operator}:{written.lstrip('@')}"))
            elif name == "mentions":
                parts.append(expr("@" + written.lstrip("@")))
            elif name in ("links", "url"):
                address = value[0] + value[1] if name == "links" else written
                parts.append(expr(f"url:{_quoted_if_needed(address)}", exact=False))
            elif name == "lang":
                parts.append(expr(f"lang:{value}", standalone=False))
            elif name == "list":
                list_id = self.list_ids.get(value)
                parts.append(expr(f"list:{list_id}") if list_id else none("list: (a watch list without an X list id)"))
            elif name == "is":
                parts.append(expr("is:" + {"repost": "retweet"}.get(value, value), standalone=False))
            elif name == "has":
                parts.append(expr(f"has:{value}", standalone=False))
            else:
                parts.append(none(field_label(node, written)))
        return combine_or(self, parts)


class BlueskyTarget(Target):
    """Words, phrases and `-` in `q`; with `inline`, also the filters as q operators."""

    name = "bluesky"
    has_or = False
    negates_groups = False

    def __init__(self, inline: bool):
        self.inline = inline

    def hashtag(self, term: TokenTerm) -> Native:
        if self.inline:
            return expr("#" + term.surface, exact=False)
        # The word is searched in q; the `tag` parameter narrows to the hashtag.
        return expr(term.surface, exact=False)

    def mention(self, term: TokenTerm) -> Native:
        return expr("mentions:" + term.surface, exact=False) if self.inline else none("@mentions")

    def field(self, node: Field) -> Native:
        if not self.inline:
            return none(field_label(node))
        if len(node.values) != 1:
            return none("OR")
        written, value = node.written[0], node.values[0]
        if node.name == "author":
            return expr("from:" + written.lstrip("@"), exact=False)
        if node.name == "mentions":
            return expr("mentions:" + written.lstrip("@"), exact=False)
        if node.name == "lang":
            return expr(f"lang:{value}", exact=False)
        if node.name == "links":
            return expr(f"domain:{value[0]}", exact=False)
        if node.name == "url" and _is_address(written):
            return expr(f"url:{written}", exact=False)
        return none(field_label(node))


def _is_address(text: str) -> bool:
    return text.lower().startswith(("http://", "https://"))


class MastodonTarget(Target):
    name = "mastodon"
    has_or = False
    negates_groups = False

    def hashtag(self, term: TokenTerm) -> Native:
        return expr(term.surface, exact=False)

    def mention(self, term: TokenTerm) -> Native:
        return none("@mentions")

    def field(self, node: Field) -> Native:
        parts = []
        for written, value in zip(node.written, node.values):
            if node.name == "author":
                parts.append(expr("from:" + written.lstrip("@")))
            elif node.name == "lang":
                parts.append(expr(f"language:{value}"))
            elif node.name == "is" and value == "reply":
                parts.append(expr("is:reply"))
            elif node.name == "has" and value == "links":
                parts.append(expr("has:link"))
            else:
                parts.append(none(field_label(node, written)))
        return combine_or(self, parts)


def field_label(node: Field, written: str | None = None) -> str:
    """How to name a field the platform lacks: `to:`, but `is:quote` (the value matters)."""
    if node.name in ("is", "has"):
        return f"{node.name}:{written or node.written[0]}"
    return f"{node.name}:"


def _quoted_if_needed(text: str) -> str:
    if all(char.isalnum() or char in "._-/" for char in text):
        return text
    return '"' + text.replace('"', "") + '"'


def compile_query(root: Node, platform: str, *, x_max_length: int = 512, x_list_ids=None) -> str:
    key = fold(platform or "")
    if key == "x":
        native = compile_node(XTarget(x_list_ids), root)
        text = finish(native, "X")
        if not native.standalone:
            raise QueryNotSupported(
                "X can't search for is:, has: or lang: on their own: add a word, a hashtag or an account to search for."
            )
        if len(text) > x_max_length:
            raise QueryNotSupported(
                f"The X version of this search is {len(text):,} characters; X allows {x_max_length:,}. "
                "Shorten the search or split it into two."
            )
        return text
    if key == "bluesky":
        return finish(compile_node(BlueskyTarget(inline=True), root), "Bluesky")
    if key == "mastodon":
        return finish(compile_node(MastodonTarget(), root), "Mastodon")
    raise QueryNotSupported(
        f"Earshot doesn't compile searches for {platform or 'this platform'}: its new posts are fetched in full "
        "and matched against the search locally."
    )


def bluesky_params(root: Node) -> dict:
    """`q` for Bluesky's searchPosts, plus filter parameters from the top-level AND."""
    inline = finish(compile_node(BlueskyTarget(inline=True), root), "Bluesky")
    words = compile_node(BlueskyTarget(inline=False), root)
    params: dict = {"q": words.text if words.kind == "expr" and words.positive else inline}
    for node in _top_level_conjuncts(root):
        if isinstance(node, Field) and len(node.values) == 1:
            written, value = node.written[0], node.values[0]
            if node.name == "author":
                params.setdefault("author", written.lstrip("@"))
            elif node.name == "mentions":
                params.setdefault("mentions", written.lstrip("@"))
            elif node.name == "lang":
                params.setdefault("lang", value)
            elif node.name == "links":
                params.setdefault("domain", value[0])
            elif node.name == "url" and _is_address(written):
                params.setdefault("url", written)
        elif isinstance(node, Phrase) and len(node.terms) == 1:
            term = node.terms[0]
            if term.wildcard:
                continue
            if term.kind == HASHTAG:
                params.setdefault("tag", []).append(term.surface)
            elif term.kind == MENTION:
                params.setdefault("mentions", term.surface)
    return params


def _top_level_conjuncts(root: Node) -> list[Node]:
    if isinstance(root, And):
        found = []
        for child, negated in root.items:
            if not negated:
                found.extend(_top_level_conjuncts(child))
        return found
    return [root]
