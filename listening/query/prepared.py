"""A post read once, shared by every query evaluated against it.

`PreparedPost` tokenises the text and title on first use and keeps per-term
lookups, so 200 saved searches looking for `privacy` look it up once.
`WatchLists` normalises the `lists` mapping (names and handles compare
case-insensitively, a leading `@` on a handle is ignored).
"""

from collections.abc import Iterable, Mapping

from listening.posts import Post
from listening.query.links import split_link
from listening.query.text import BOUNDARY_UNSAFE, fold, nfc, skeleton
from listening.query.tokenizer import MENTION, FieldTokens, HASHTAG, tokenize


def handle_body(handle: str) -> str:
    """A handle without surrounding spaces and exactly one leading `@` (`@@bob` is `@bob`), in NFC."""
    body = handle.strip()
    if body.startswith("@"):
        body = body[1:].strip()
    return nfc(body)


def handle_key(handle: str) -> str:
    """How handles compare: `handle_body`, case-folded (`fold` normalises to NFC too)."""
    if not handle:
        return ""
    body = handle.strip()
    if body[:1] == "@":
        body = body[1:].strip()
    return fold(body)


class PreparedPost:
    """Lazily computed views of one post. Build with `PreparedPost(post)`."""

    __slots__ = (
        "post",
        "_fields",
        "_links",
        "_link_parts",
        "_mention_keys",
        "_haystack",
        "_boundaries_hold",
        "cache",
        "_attributes",
    )

    def __init__(self, post: Post):
        self.post = post
        self._fields = None
        self._links = None
        self._link_parts = None
        self._mention_keys = None
        self._haystack = None
        self._attributes = None
        self.cache: dict = {}

    @property
    def fields(self) -> tuple[FieldTokens, FieldTokens]:
        """(text tokens, title tokens)."""
        if self._fields is None:
            self._fields = (tokenize(self.post.text), tokenize(self.post.title))
        return self._fields

    @property
    def links(self) -> tuple[str, ...]:
        """The post's links and the URLs found in its text and title."""
        if self._links is None:
            text, title = self.fields
            # An empty entry is no link (`has:links` on `links=("",)` is false).
            given = tuple(link for link in self.post.links if link.strip())
            self._links = given + tuple(text.links) + tuple(title.links)
        return self._links

    @property
    def link_parts(self) -> list[tuple[str, str]]:
        """(host, rest) of every link, folded, scheme and `www.` removed."""
        if self._link_parts is None:
            self._link_parts = [split_link(link) for link in self.links]
        return self._link_parts

    @property
    def mention_keys(self) -> frozenset[str]:
        """Folded handles mentioned, from `mentions` and from mention tokens."""
        if self._mention_keys is None:
            keys = {key for key in map(handle_key, self.post.mentions) if key}
            for field in self.fields:
                keys.update(form for kind, form in zip(field.kinds, field.folded) if kind == MENTION)
            self._mention_keys = frozenset(keys)
        return self._mention_keys

    @property
    def has_hashtags(self) -> bool:
        return any(kind == HASHTAG for field in self.fields for kind in field.kinds)

    @property
    def attributes(self) -> tuple[str, str, str, str, str]:
        """(author, in-reply-to, platform, lang, kind), each folded."""
        if self._attributes is None:
            post = self.post
            self._attributes = (
                handle_key(post.author_handle),
                handle_key(post.in_reply_to_handle),
                fold(post.platform),
                fold(post.lang),
                fold(post.kind),
            )
        return self._attributes

    @property
    def haystack(self) -> str:
        """Skeleton of everything a term or field value can be found in, for the prefilter.

        Text, title, links and the post's own URL, then `@handle` for each entry
        of `mentions`. Parts are separated by newlines.
        """
        if self._haystack is None:
            post = self.post
            parts = [post.text, post.title, post.url, *post.links]
            parts.extend("@" + handle_body(handle) for handle in post.mentions)
            joined = "\n".join(parts)
            self._haystack = skeleton(nfc(joined))
            self._boundaries_hold = joined.isascii() or BOUNDARY_UNSAFE not in joined
        return self._haystack

    @property
    def boundaries_hold(self) -> bool:
        """False when the haystack's word boundaries may have moved (see `text.BOUNDARY_UNSAFE`)."""
        if self._haystack is None:
            self.haystack  # noqa: B018 - computes both
        return self._boundaries_hold


def prepare(post: Post | PreparedPost) -> PreparedPost:
    return post if isinstance(post, PreparedPost) else PreparedPost(post)


class WatchLists:
    """Watch lists by name, normalised on first use of each list.

    Names compare case-insensitively and without surrounding spaces; two names
    that differ only in case are one list holding both sets of handles.

    Build one per batch of posts (`WatchLists(mapping)`) and pass it as `lists`
    to share the work; a plain mapping passed to `matches` is wrapped per call.
    """

    __slots__ = ("_source", "_names", "_members", "_lists_of")

    def __init__(self, lists: Mapping[str, Iterable[str]] | None = None):
        self._source = lists or {}
        self._names: dict[str, list[str]] | None = None
        self._members: dict[str, frozenset[str]] = {}
        self._lists_of: dict[str, frozenset[str]] | None = None

    def members(self, name_key: str) -> frozenset[str]:
        """Folded handles on the list whose folded name is `name_key` (empty if none)."""
        found = self._members.get(name_key)
        if found is None:
            if self._names is None:
                self._names = {}
                for name in self._source:
                    self._names.setdefault(fold(name.strip()), []).append(name)
            found = frozenset(
                handle_key(handle) for name in self._names.get(name_key, ()) for handle in self._source[name]
            )
            self._members[name_key] = found
        return found

    def contains(self, name_key: str, handle: str) -> bool:
        return handle in self.members(name_key)

    def lists_of(self, handle: str) -> frozenset[str]:
        """Folded names of every list the (folded) handle is on; normalises all lists once."""
        if self._lists_of is None:
            if self._names is None:
                self.members("")
            found: dict[str, set[str]] = {}
            for name_key in self._names:
                for member in self.members(name_key):
                    found.setdefault(member, set()).add(name_key)
            self._lists_of = {member: frozenset(names) for member, names in found.items()}
        return self._lists_of.get(handle, frozenset())


def watch_lists(lists) -> WatchLists:
    return lists if isinstance(lists, WatchLists) else WatchLists(lists)
