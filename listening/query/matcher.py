"""Matching one post against many saved searches, fast.

`Matcher(entries)` takes `(key, Query)` pairs. `match(post)` returns the keys of
every query the post matches, in entry order, exactly as evaluating every query
would (`match_unfiltered`), but first narrows the queries down:

1. Each query's requirements (see `prefilter`: up to three clauses, each a set of
   alternatives) are indexed: text keys in one Aho-Corasick automaton, post
   attributes (author, reply-to, kind, …) and watch lists in dicts. A query
   without requirements is always evaluated.
2. Per post, one automaton pass over the post's haystack (its case-folded,
   accent-stripped text, title, URL, links and mentions) and a few dict lookups
   tell which clauses hold; a query is a candidate when all its clauses hold.
3. Only candidates are evaluated, sharing one `PreparedPost`, so the text is
   tokenised at most once and only when some candidate needs it.
4. Candidates are evaluated on a guarded copy of each query: a phrase, `~n` or
   NEAR is first looked for in the haystack, every term's key a substring of it,
   and only then on the tokens. A key missing means the part cannot match (the
   prefilter's own reasoning, without word boundaries), so a candidate that fails
   on its other words, or a branch of an OR that is absent, costs no tokenising.
   The queries themselves are untouched: `match_unfiltered` is the reference.
"""

from collections.abc import Iterable, Mapping

import ahocorasick

from listening.query.ast import And, Near, Node, Or, Phrase, Proximity
from listening.query.prefilter import TextKey, requirements, term_key
from listening.query.prepared import PreparedPost, WatchLists, prepare
from listening.query.query import Query, spans_of

_ATTRIBUTE_NAMES = ("author", "reply_to", "platform", "lang", "kind")


class Matcher:
    def __init__(self, entries: Iterable[tuple[object, Query]]):
        entries = list(entries)
        self.keys = [key for key, _ in entries]
        self._index_of_key = {key: index for index, key in reversed(list(enumerate(self.keys)))}
        self.queries = [query for _, query in entries]
        self._roots = [query.root for query in self.queries]
        self._guarded = [_guarded(root) for root in self._roots]
        self._needs = [_needs(root) for root in self._roots]
        self._always: list[int] = []
        self._clause_owner: list[int] = []  # clause id -> query index
        self._clause_count: dict[int, int] = {}  # query index -> how many clauses it needs
        self._attributes: dict[tuple, list[int]] = {}  # attribute -> clause ids
        self._lists: dict[str, list[int]] = {}  # watch-list name -> clause ids
        texts: dict[str, dict[tuple[bool, bool], list[int]]] = {}
        for index, query in enumerate(self.queries):
            clauses = requirements(query.root)
            if not clauses:
                self._always.append(index)
                continue
            self._clause_count[index] = len(clauses)
            for clause in clauses:
                clause_id = len(self._clause_owner)
                self._clause_owner.append(index)
                for alternative in clause:
                    if isinstance(alternative, TextKey):
                        groups = texts.setdefault(alternative.text, {})
                        groups.setdefault((alternative.left, alternative.right), []).append(clause_id)
                    elif alternative[0] == "list":
                        self._lists.setdefault(alternative[1], []).append(clause_id)
                    else:
                        self._attributes.setdefault(alternative, []).append(clause_id)
        # Per post attribute (author, reply_to, platform, lang, kind): value -> clause ids.
        by_name: dict[str, dict[str, list[int]]] = {}
        for attribute, ids in self._attributes.items():
            if len(attribute) == 2:
                by_name.setdefault(attribute[0], {})[attribute[1]] = ids
        self._attribute_values = [
            (position, by_name[name]) for position, name in enumerate(_ATTRIBUTE_NAMES) if name in by_name
        ]
        self._replying = self._attributes.get(("replying",), [])
        self._has_links = self._attributes.get(("has_links",), [])
        self._automaton = None
        if texts:
            automaton = ahocorasick.Automaton()
            for text, groups in texts.items():
                value = tuple((left, right, frozenset(ids)) for (left, right), ids in groups.items())
                automaton.add_word(text, (len(text), value))
            automaton.make_automaton()
            self._automaton = automaton
        self._cached_lists: tuple | None = None

    def __len__(self) -> int:
        return len(self.queries)

    def match(self, post, lists: Mapping[str, Iterable[str]] | WatchLists | None = None) -> list:
        """Keys of the queries the post matches, in entry order."""
        prepared = prepare(post)
        watch_lists = self._watch_lists(lists)
        found = []
        roots, needs, keys = self._guarded, self._needs, self.keys
        for index in self.candidates(prepared, watch_lists):
            if _holds(needs[index], prepared.haystack) and roots[index].evaluate(prepared, watch_lists):
                found.append(keys[index])
        return found

    def spans(self, key, post, lists: Mapping[str, Iterable[str]] | WatchLists | None = None) -> dict:
        """`Query.spans` of the query entered under `key` (the first, if several were)."""
        root = self._guarded[self._index_of_key[key]]
        return spans_of(root, prepare(post), self._watch_lists(lists))

    def match_unfiltered(self, post, lists: Mapping[str, Iterable[str]] | WatchLists | None = None) -> list:
        """The same answer as `match`, by evaluating every query (the reference)."""
        prepared = prepare(post)
        watch_lists = self._watch_lists(lists)
        return [key for key, root in zip(self.keys, self._roots) if root.evaluate(prepared, watch_lists)]

    def candidates(self, prepared: PreparedPost, watch_lists: WatchLists) -> list[int]:
        """Indices of the queries that may match, ascending; every query that matches is among them."""
        satisfied: set[int] = set()
        if self._automaton is not None:
            haystack = prepared.haystack
            check_boundaries = prepared.boundaries_hold
            last = len(haystack) - 1
            for end, (length, groups) in self._automaton.iter(haystack):
                for left, right, clause_ids in groups:
                    if check_boundaries:
                        if left and end >= length and _is_word(haystack[end - length]):
                            continue
                        if right and end < last and _is_word(haystack[end + 1]):
                            continue
                    satisfied |= clause_ids
        post_attributes = prepared.attributes
        for position, values in self._attribute_values:
            hit = values.get(post_attributes[position])
            if hit:
                satisfied.update(hit)
        if self._replying and post_attributes[1]:
            satisfied.update(self._replying)
        if self._has_links and prepared.post.links:
            satisfied.update(self._has_links)
        if self._lists:
            author = post_attributes[0]
            if author:
                for name in watch_lists.lists_of(author):
                    clause_ids = self._lists.get(name)
                    if clause_ids:
                        satisfied.update(clause_ids)
        found = list(self._always)
        if satisfied:
            owner, needed = self._clause_owner, self._clause_count
            counts: dict[int, int] = {}
            for clause_id in satisfied:
                index = owner[clause_id]
                counts[index] = counts.get(index, 0) + 1
            found.extend(index for index, count in counts.items() if count == needed[index])
            found.sort()
        return found

    def _watch_lists(self, lists) -> WatchLists:
        """Normalised lists, reused while the same mapping comes back with the same sizes.

        Ingest passes one mapping for a whole page of posts; normalising it once
        instead of per post matters. A mapping edited in place without changing
        any list's size is not noticed: pass a new mapping (or a `WatchLists`).
        """
        if isinstance(lists, WatchLists):
            return lists
        if not lists:
            return _NO_LISTS
        try:
            fingerprint = (len(lists), sum(map(len, lists.values())))
        except TypeError:  # handles given as an iterator: nothing to compare, normalise afresh
            return WatchLists(lists)
        cached = self._cached_lists
        if cached is not None and cached[0] is lists and cached[1] == fingerprint:
            return cached[2]
        normalised = WatchLists(lists)
        self._cached_lists = (lists, fingerprint, normalised)
        return normalised


_NO_LISTS = WatchLists(None)


def _is_word(char: str) -> bool:
    return char.isalpha() or char.isdecimal()


class _Guard(Node):
    """A text node that answers False without tokenising when the haystack lacks its words."""

    def __init__(self, node: Node, needs: tuple):
        self.node = node
        self.needs = needs  # see `_needs`

    def children(self):
        return (self.node,)

    def __str__(self) -> str:
        return str(self.node)

    def evaluate(self, post, lists) -> bool:
        return _holds(self.needs, post.haystack) and self.node.evaluate(post, lists)

    def collect_spans(self, post, lists, spans) -> None:
        self.node.collect_spans(post, lists, spans)


def _guarded(node: Node) -> Node:
    """`node` with each text part behind a `_Guard`; the same answers, cheaper on posts lacking its words."""
    if isinstance(node, And):
        return And(tuple((_guarded(child), negated) for child, negated in node.items), node.position)
    if isinstance(node, Or):
        return Or(tuple(_guarded(child) for child in node.items), node.position)
    if isinstance(node, (Phrase, Proximity, Near)):
        needs = _needs(node)
        return _Guard(node, needs) if needs else node
    return node


def _needs(node: Node) -> tuple:
    """What the haystack holds for every post the node matches: a tuple of requirements.

    Each requirement is a tuple of alternatives and holds when one alternative does;
    an alternative is a tuple of keys, all substrings of the haystack. Empty: nothing
    is known. The keys are the prefilter's, so the reasoning is the prefilter's.
    """
    if isinstance(node, (Phrase, Proximity)):
        keys = {key for key in map(term_key, node.terms) if key}
        # The longest key first: the likeliest to be missing, so the test ends soonest.
        return ((tuple(sorted(keys, key=lambda key: (-len(key), key))),),) if keys else ()
    if isinstance(node, Near):
        return _needs(node.left) + _needs(node.right)
    if isinstance(node, And):
        return tuple(need for child, negated in node.items if not negated for need in _needs(child))
    if isinstance(node, Or):
        alternatives = []
        for child in node.items:
            needs = _needs(child)
            if not needs:
                return ()
            # A child's first requirement alone is weaker than all of them, so still sound.
            alternatives.extend(needs[0])
        return (tuple(dict.fromkeys(alternatives)),)
    return ()


def _holds(needs: tuple, haystack: str) -> bool:
    for alternatives in needs:
        for keys in alternatives:
            for key in keys:
                if key not in haystack:
                    break
            else:
                break  # this alternative holds
        else:
            return False
    return True
