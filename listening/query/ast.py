"""The parsed form of a query, and how each part matches a prepared post.

Text nodes (`Phrase`, `Proximity`, `Near`, and an `Or` of text nodes used as a
NEAR operand) match within one field at a time: a phrase never runs from the
title into the text, and NEAR joins occurrences in the same field.

Every node has `evaluate(post, lists) -> bool` and `collect_spans(post, lists,
spans)`, which adds the (start, end) offsets of what matched to `spans[field]`
(0 = text, 1 = title); it is only called on a node that evaluated true.
"""

from abc import ABC, abstractmethod

from listening.query.terms import MENTION, TokenTerm

TEXT, TITLE = 0, 1


class Node(ABC):
    position = 0  # where the node starts in the (normalised) query, for error messages

    @abstractmethod
    def evaluate(self, post, lists) -> bool:
        """Whether the prepared post matches this part of the query."""

    def collect_spans(self, post, lists, spans) -> None:
        """Add the spans of what matched. Nodes without text add nothing."""

    def children(self) -> tuple["Node", ...]:
        return ()


class Phrase(Node):
    """One or more terms on consecutive tokens. A single word is a phrase of one.

    `tilde` marks a one-word `"word"~n`: it matches as the word does, but like any
    `~n` phrase it is not a NEAR operand.
    """

    def __init__(self, terms: tuple[TokenTerm, ...], position: int = 0, quoted: bool = False, tilde: bool = False):
        self.terms = terms
        self.position = position
        self.quoted = quoted
        self.tilde = tilde
        self.key = ("phrase",) + tuple(term.key for term in terms)

    def __str__(self) -> str:
        if len(self.terms) == 1:
            return str(self.terms[0])
        body = " ".join(term.bare() for term in self.terms)
        return "{" + body + "}" if self.terms[0].case_sensitive else f'"{body}"'

    def occurrences(self, post) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """(first token, last token) of each occurrence, per field, ascending."""
        found = post.cache.get(self.key)
        if found is None:
            found = tuple(self._find(field) for field in post.fields)
            post.cache[self.key] = found
        return found

    def _find(self, field) -> list[tuple[int, int]]:
        first = self.terms[0].positions(field)
        if len(self.terms) == 1 or not first:
            return [(position, position) for position in first]
        following = []
        for term in self.terms[1:]:
            positions = term.positions(field)
            if not positions:
                return []
            following.append(set(positions))
        length = len(self.terms)
        return [
            (start, start + length - 1)
            for start in first
            if all(start + offset in positions for offset, positions in enumerate(following, 1))
        ]

    def evaluate(self, post, lists) -> bool:
        text, title = self.occurrences(post)
        if text or title:
            return True
        term = self.terms[0]
        if len(self.terms) == 1 and term.kind == MENTION:
            return any(term.matches_handle(handle) for handle in post.post.mentions)
        return False

    def collect_spans(self, post, lists, spans) -> None:
        for field_index, occurrences in enumerate(self.occurrences(post)):
            offsets = post.fields[field_index].spans() if occurrences else ()
            for first, last in occurrences:
                spans[field_index].add((offsets[first][0], offsets[last][1]))


class Proximity(Node):
    """`"a b c"~n`: all the words, on different tokens, within n other tokens."""

    def __init__(self, terms: tuple[TokenTerm, ...], distance: int, position: int = 0):
        self.terms = terms
        self.distance = distance
        self.position = position

    def __str__(self) -> str:
        return '"' + " ".join(term.bare() for term in self.terms) + f'"~{self.distance}'

    def _windows(self, field, first_only: bool) -> list[tuple[int, ...]]:
        positions = []
        for term in self.terms:
            found = term.positions(field)
            if not found:
                return []
            positions.append(found)
        width = self.distance + len(self.terms)
        results = []
        for left in sorted({p for found in positions for p in found}):
            right = left + width - 1
            windowed = [[p for p in found if left <= p <= right] for found in positions]
            if not all(windowed):
                continue
            chosen = distinct_choice(windowed)
            if chosen is not None:
                results.append(chosen)
                if first_only:
                    break
        return results

    def evaluate(self, post, lists) -> bool:
        return any(self._windows(field, True) for field in post.fields)

    def collect_spans(self, post, lists, spans) -> None:
        for field_index, field in enumerate(post.fields):
            for chosen in self._windows(field, False):
                spans[field_index].update(field.spans()[p] for p in chosen)


def distinct_choice(options: list[list[int]]) -> tuple[int, ...] | None:
    """Pick a different position from each list (a bipartite matching), or None."""
    owner: dict[int, int] = {}

    def place(item: int, seen: set[int]) -> bool:
        for position in options[item]:
            if position in seen:
                continue
            seen.add(position)
            if position not in owner or place(owner[position], seen):
                owner[position] = item
                return True
        return False

    for item in range(len(options)):
        if not place(item, set()):
            return None
    return tuple(sorted(owner))


def text_occurrences(node, post) -> tuple[list[tuple[int, int]], ...]:
    """Occurrences of a NEAR operand: a phrase, or an OR-list of them."""
    if isinstance(node, Phrase):
        return node.occurrences(post)
    merged: tuple[set, set] = (set(), set())
    for child in node.children():
        for field_index, found in enumerate(text_occurrences(child, post)):
            merged[field_index].update(found)
    return tuple(sorted(found) for found in merged)


class Near(Node):
    """`a NEAR/n b` (any order) and `a NEAR/nf b` (`a` first)."""

    def __init__(self, left: Node, right: Node, distance: int, ordered: bool, position: int = 0):
        self.left = left
        self.right = right
        self.distance = distance
        self.ordered = ordered
        self.position = position

    def children(self):
        return (self.left, self.right)

    def __str__(self) -> str:
        operator = f"NEAR/{self.distance}{'f' if self.ordered else ''}"
        return f"{_operand(self.left)} {operator} {_operand(self.right)}"

    def _pairs(self, post, first_only: bool):
        lefts = text_occurrences(self.left, post)
        rights = text_occurrences(self.right, post)
        distance, ordered = self.distance, self.ordered
        for field_index in (TEXT, TITLE):
            for a_first, a_last in lefts[field_index]:
                for b_first, b_last in rights[field_index]:
                    if a_last < b_first:
                        gap = b_first - a_last - 1
                    elif b_last < a_first and not ordered:
                        gap = a_first - b_last - 1
                    else:
                        continue
                    if gap <= distance:
                        yield field_index, (a_first, a_last), (b_first, b_last)
                        if first_only:
                            return

    def evaluate(self, post, lists) -> bool:
        return next(self._pairs(post, True), None) is not None

    def collect_spans(self, post, lists, spans) -> None:
        for field_index, left, right in self._pairs(post, False):
            offsets = post.fields[field_index].spans()
            for first, last in (left, right):
                spans[field_index].add((offsets[first][0], offsets[last][1]))


class And(Node):
    """Operands joined by AND, adjacency or NOT: `items` are (node, negated)."""

    def __init__(self, items: tuple[tuple[Node, bool], ...], position: int = 0):
        self.items = items
        self.position = position

    def children(self):
        return tuple(node for node, _ in self.items)

    def __str__(self) -> str:
        parts = [str(self.items[0][0]) if not isinstance(self.items[0][0], (And, Or)) else f"({self.items[0][0]})"]
        for node, negated in self.items[1:]:
            text = f"({node})" if isinstance(node, (And, Or)) else str(node)
            parts.append(("NOT " if negated else "AND ") + text)
        return " ".join(parts)

    def evaluate(self, post, lists) -> bool:
        for node, negated in self.items:
            if node.evaluate(post, lists) == negated:
                return False
        return True

    def collect_spans(self, post, lists, spans) -> None:
        for node, negated in self.items:
            if not negated:
                node.collect_spans(post, lists, spans)


class Or(Node):
    def __init__(self, items: tuple[Node, ...], position: int = 0):
        self.items = items
        self.position = position

    def children(self):
        return self.items

    def __str__(self) -> str:
        return " OR ".join(f"({node})" if isinstance(node, (And, Or)) else str(node) for node in self.items)

    def evaluate(self, post, lists) -> bool:
        return any(node.evaluate(post, lists) for node in self.items)

    def collect_spans(self, post, lists, spans) -> None:
        for node in self.items:
            if node.evaluate(post, lists):
                node.collect_spans(post, lists, spans)


def _operand(node: Node) -> str:
    return f"({node})" if isinstance(node, Or) else str(node)


def walk(node: Node):
    yield node
    for child in node.children():
        yield from walk(child)
