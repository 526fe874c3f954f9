"""Matching a wildcard term against a token, in time linear in the token's length.

A term such as `a*a*a*b` used to become a backtracking regular expression, which
takes exponential time on a long token. Here no regular expression is built from
the query: `WildcardTerm(form).matches(token)` compares the two directly.

The rules (QUERY_LANGUAGE.md, "Wildcards" and the rulings on combining marks):

- A combining mark (category M) belongs to the letter before it. A *unit* of a
  token is one character that is not a mark with the marks after it.
- `?` takes one unit whose first character is a letter or digit: the letter with
  all its marks. It never takes a bare mark (`i?o` does not match `iिo`).
- `*` takes zero or more whole units, never `_` or `.` (hashtags and mentions hold
  those; wildcards stand for letters and digits). After a literal letter it also
  takes that letter's remaining marks (`journo*` matches `journoि`).
- A mark typed straight after `?` or `*` is not a character to find: it must be
  among the marks (after NFD, one for each typed mark) of the last unit the
  wildcard takes, or, when `*` takes no unit, of the marks it takes after the
  letter before it (`t?́` matches `tá`; `t?ि` matches `taि`, not `ta`).
- Every other character of the term is compared exactly; the caller has already
  folded both sides as the term requires.

Two ways of matching, both linear:

1. A term whose only wildcards are `*` with no typed marks (`journo*`,
   `a*a*b`, the usual case) is a list of literal pieces. The first must start the
   token and the last end it; each piece in between is found left to right with
   `str.find` from where the previous one ended. Taking the leftmost place is never
   wrong: it leaves the most room for the pieces after it, and the gap a `*` must
   cover is only ever made smaller. A gap holding `_` or `.` fails.
2. Any other term runs as a small automaton over the token's units, all of its
   states at once as the bits of an integer (bit k: the first k elements of the term
   have matched). Each unit costs a few integer operations, whatever the term, so
   the time is the token's length times the term's length over the machine word,
   and never grows with how the wildcards could be arranged.
"""

import re
import unicodedata
from collections import Counter

from listening.query.unicode_classes import char_class

_MARK = char_class("marks")
# A unit: a character that is not a mark with the marks after it, or marks alone
# (only at the very start, which a token never has). One pass, no backtracking.
_UNIT = re.compile(rf"(?:(?!{_MARK}).){_MARK}*|{_MARK}+", re.DOTALL)

_LITERAL, _ONE, _ANY = 0, 1, 2  # a literal unit, `?`, `*`
_NOT_TAKEN_BY_STAR = "_."
_MAX_REMEMBERED_UNITS = 4096  # per term: what each unit does is worked out once, within reason


def _is_mark(char: str) -> bool:
    return unicodedata.category(char)[0] == "M"


def _marks(text: str) -> Counter:
    """The marks of `text` after canonical decomposition, counted."""
    return Counter(char for char in unicodedata.normalize("NFD", text) if _is_mark(char))


def _holds(marks: Counter, typed: Counter) -> bool:
    return all(marks[mark] >= count for mark, count in typed.items())


def _is_letter_or_digit(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] == "L" or category == "Nd"


def _elements(form: str) -> list[tuple[int, object]]:
    """The term as literal units, `?` and `*`, each wildcard with the marks typed after it."""
    elements: list[tuple[int, object]] = []
    i, length = 0, len(form)
    while i < length:
        end = i + 1
        while end < length and _is_mark(form[end]):
            end += 1
        char = form[i]
        if char == "*" or char == "?":
            typed = _marks(form[i + 1 : end]) if end > i + 1 else None
            elements.append((_ANY if char == "*" else _ONE, typed))
        else:
            elements.append((_LITERAL, form[i:end]))
        i = end
    # `**` is `*`; a plain `*` right before another `*` adds nothing to what the
    # pair can take, and dropping it keeps the automaton's steps short.
    return [
        element
        for index, element in enumerate(elements)
        if not (
            element == (_ANY, None) and index + 1 < len(elements) and elements[index + 1][0] == _ANY
        )
    ]


class WildcardTerm:
    """A term's form holding `*` or `?`, ready to compare with tokens."""

    __slots__ = ("form", "_pieces", "_lead", "_tail", "_automaton")

    def __init__(self, form: str):
        self.form = form
        elements = _elements(form)
        self._automaton = None
        self._pieces = None
        if all(kind == _LITERAL or (kind == _ANY and typed is None) for kind, typed in elements):
            pieces = [""]
            for kind, value in elements:
                if kind == _LITERAL:
                    pieces[-1] += value
                else:
                    pieces.append("")
            self._pieces = pieces
        else:
            self._automaton = _Automaton(elements)
        # Cheap checks before any real work: the literal text before the first
        # wildcard starts every token that matches, and the text after the last
        # wildcard (and its typed marks) ends it.
        first_wildcard = next(i for i, (kind, _) in enumerate(elements) if kind != _LITERAL)
        last_wildcard = max(i for i, (kind, _) in enumerate(elements) if kind != _LITERAL)
        self._lead = "".join(value for _, value in elements[:first_wildcard])
        self._tail = "".join(value for _, value in elements[last_wildcard + 1 :])

    def matches(self, token: str) -> bool:
        if not token.startswith(self._lead) or not token.endswith(self._tail):
            return False
        if self._pieces is not None:
            return _pieces_match(self._pieces, token)
        return self._automaton.run(token)


def _pieces_match(pieces: list[str], token: str) -> bool:
    """Literal pieces joined by `*`: first at the start, last at the end, the rest leftmost."""
    first, last = pieces[0], pieces[-1]
    position = len(first)
    limit = len(token) - len(last)
    if limit < position:
        return False
    for piece in pieces[1:-1]:
        found = token.find(piece, position, limit)
        if found < 0 or _star_cannot_take(token, position, found):
            return False
        position = found + len(piece)
    return not _star_cannot_take(token, position, limit)


def _star_cannot_take(token: str, start: int, end: int) -> bool:
    return any(token.find(char, start, end) >= 0 for char in _NOT_TAKEN_BY_STAR)


class _Automaton:
    """The term as a set of states run over a token's units, all at once as bits.

    Bit k of `waiting` means the first k elements have matched and element k is
    next; for a `*` it means the star is open but its typed marks are not yet
    satisfied, and bit k of `satisfied` that they are (so the star may end). Bit
    `len(elements)` means the whole term has matched.
    """

    def __init__(self, elements: list[tuple[int, object]]):
        self.size = len(elements)
        self.literal_exact: dict[str, int] = {}  # unit -> literal elements it completes
        self.literal_prefix: dict[str, list[int]] = {}  # unit -> literals right before a `*`
        self.one_groups: dict[tuple, int] = {}  # typed marks -> `?` elements
        self.star_groups: dict[tuple, int] = {}  # typed marks -> `*` elements
        self.typed: dict[int, Counter | None] = {}
        self.stars = 0
        self.open_stars = 0  # `*` with no typed marks: satisfied from the start
        for index, (kind, value) in enumerate(elements):
            bit = 1 << index
            if kind == _LITERAL:
                before_star = index + 1 < self.size and elements[index + 1][0] == _ANY
                if before_star:
                    self.literal_prefix.setdefault(value, []).append(index)
                else:
                    self.literal_exact[value] = self.literal_exact.get(value, 0) | bit
            else:
                key = tuple(sorted(value.items())) if value else ()
                groups = self.one_groups if kind == _ONE else self.star_groups
                groups[key] = groups.get(key, 0) | bit
                if kind == _ANY:
                    self.typed[index] = value
                    self.stars |= bit
                    if not value:
                        self.open_stars |= bit
        self.longest_prefix = max(map(len, self.literal_prefix), default=0)
        self.steps: dict[str, tuple[int, int, int, int, int]] = {}  # unit -> `_step_for(unit)`

    def run(self, token: str) -> bool:
        steps = self.steps
        if len(steps) > _MAX_REMEMBERED_UNITS:
            steps.clear()
        waiting, satisfied = self._settle(0, 0, 1, 0)
        for unit in token if token.isascii() else _UNIT.findall(token):
            step = steps.get(unit)
            if step is None:
                step = steps[unit] = self._step_for(unit)
            completes, enters_satisfied, enters_waiting, star_takes, star_satisfied = step
            open_stars = (waiting | satisfied) & star_takes
            now_satisfied = open_stars & star_satisfied
            waiting, satisfied = self._settle(
                open_stars & ~star_satisfied,
                now_satisfied,
                ((waiting & completes) << 1) | ((waiting & enters_waiting) << 1) | (now_satisfied << 1),
                (waiting & enters_satisfied) << 1,
            )
            if not (waiting | satisfied):
                return False
        return bool(waiting >> self.size & 1)

    def _settle(self, waiting: int, satisfied: int, entering: int, entering_satisfied: int) -> tuple[int, int]:
        """Add the states entered, following every `*` that may end as soon as it is entered."""
        while entering or entering_satisfied:
            waiting |= entering | entering_satisfied
            ready = (entering & self.open_stars) | entering_satisfied
            satisfied |= ready
            entering, entering_satisfied = ready << 1, 0
        return waiting, satisfied

    def _step_for(self, unit: str) -> tuple[int, int, int, int, int]:
        """What one unit does: which elements it completes and which stars it feeds."""
        base = unit[0]
        plain = len(unit) == 1 and base.isascii()
        marks = Counter() if plain else _marks(unit)
        completes = self.literal_exact.get(unit, 0)
        if base.isalnum() if plain else _is_letter_or_digit(base):
            for key, bits in self.one_groups.items():
                if _holds(marks, dict(key)):
                    completes |= bits
        # A literal before a `*` may match the unit's letter and only some of its
        # marks; the `*` then starts with the rest of them.
        enters_satisfied = enters_waiting = 0
        for length in range(1, min(len(unit), self.longest_prefix) + 1):
            for index in self.literal_prefix.get(unit[:length], ()):
                typed = self.typed[index + 1]
                rest = unit[length:]
                if not typed or (rest and _holds(_marks(rest), typed)):
                    enters_satisfied |= 1 << index
                else:
                    enters_waiting |= 1 << index
        star_takes = star_satisfied = 0
        if base not in _NOT_TAKEN_BY_STAR:
            star_takes = self.stars
            for key, bits in self.star_groups.items():
                if not key or _holds(marks, dict(key)):
                    star_satisfied |= bits
        return completes, enters_satisfied, enters_waiting, star_takes, star_satisfied
