"""The parsed form of a query, and how each part matches a prepared post.

Text nodes (`Phrase`, `Proximity`, `Near`, and an `Or` of text nodes used as a
NEAR operand) match within one field at a time: a phrase never runs from the
title into the text, and NEAR joins occurrences in the same field.

Every node has `evaluate(post, lists) -> bool` and `collect_spans(post, lists,
spans)`, which adds the (start, end) offsets of what matched to `spans[field]`
(0 = text, 1 = title); it is only called on a node that evaluated true.
"""

from abc import ABC, abstractmethod
from bisect import bisect_left, bisect_right

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
        """Each stretch starting at a matched token that holds all the words on different tokens.

        A word written several times is looked up once and needs that many tokens.
        Work per stretch is its contents, found by bisection, not the whole field,
        so a long post costs its length, not its length squared.
        """
        counts: dict[tuple, int] = {}
        terms: dict[tuple, TokenTerm] = {}
        for term in self.terms:
            counts[term.key] = counts.get(term.key, 0) + 1
            terms.setdefault(term.key, term)
        demands = list(counts.values())
        positions = []
        for key in counts:
            found = terms[key].positions(field)  # ascending
            if len(found) < counts[key]:
                return []
            positions.append(found)
        width = self.distance + len(self.terms)
        results = []
        for left in sorted({p for found in positions for p in found}):
            right = left + width - 1
            windowed = [found[bisect_left(found, left) : bisect_right(found, right)] for found in positions]
            chosen = distinct_choice(windowed, demands)
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


def distinct_choice(options: list[list[int]], demands: list[int] | None = None) -> tuple[int, ...] | None:
    """Give list i `demands[i]` positions (default one) from it, no position twice, or None.

    A bipartite matching: first each list takes free positions in order, then any
    list still short finds an augmenting path, followed with an explicit stack (a
    phrase of many words makes paths longer than Python's recursion allows).
    """
    demands = demands or [1] * len(options)
    if any(len(option) < demand for option, demand in zip(options, demands)):
        return None
    if len({position for option in options for position in option}) < sum(demands):
        return None
    owner: dict[int, int] = {}  # position -> the list that took it
    short = []
    for item, option in enumerate(options):
        need = demands[item]
        for position in option:
            if not need:
                break
            if position not in owner:
                owner[position] = item
                need -= 1
        short.extend([item] * need)
    for item in short:
        if not _augment(options, owner, item):
            return None
    return tuple(sorted(owner))


def _augment(options: list[list[int]], owner: dict[int, int], item: int) -> bool:
    """Give `item` one more position, moving others' positions along a path if need be."""
    seen: set[int] = set()
    stack, choices, via = [item], [iter(options[item])], []
    while True:
        position = next((p for p in choices[-1] if p not in seen), None)
        if position is None:
            stack.pop()
            choices.pop()
            if not stack:
                return False
            via.pop()
            continue
        seen.add(position)
        holder = owner.get(position)
        if holder is None:
            # Each list on the path takes the position it reached the next one by.
            owner[position] = stack[-1]
            for index, taken in enumerate(via):
                owner[taken] = stack[index]
            return True
        stack.append(holder)
        choices.append(iter(options[holder]))
        via.append(position)


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
        """(field, left occurrence, right occurrences in reach) for each left occurrence with any.

        The right occurrences in reach of a left one are two slices of them sorted
        by where they start and where they end, found by bisection: a long post
        costs its length, not the product of the two operands' counts.
        """
        lefts = text_occurrences(self.left, post)
        rights = text_occurrences(self.right, post)
        distance, ordered = self.distance, self.ordered
        for field_index in (TEXT, TITLE):
            if not lefts[field_index] or not rights[field_index]:
                continue
            by_first = sorted(rights[field_index])
            firsts = [first for first, _ in by_first]
            by_last = sorted(rights[field_index], key=lambda occurrence: occurrence[1])
            lasts = [last for _, last in by_last]
            for a_first, a_last in lefts[field_index]:
                # After `a`: at most `distance` tokens between a's last and b's first.
                after = by_first[bisect_left(firsts, a_last + 1) : bisect_right(firsts, a_last + 1 + distance)]
                before = []
                if not ordered:
                    before = by_last[bisect_left(lasts, a_first - 1 - distance) : bisect_right(lasts, a_first - 1)]
                if after or before:
                    yield field_index, (a_first, a_last), after + before
                    if first_only:
                        return

    def evaluate(self, post, lists) -> bool:
        return next(self._pairs(post, True), None) is not None

    def collect_spans(self, post, lists, spans) -> None:
        for field_index, left, partners in self._pairs(post, False):
            offsets = post.fields[field_index].spans()
            for first, last in [left, *partners]:
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
