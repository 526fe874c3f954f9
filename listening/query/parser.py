"""Building the tree from the lexer's items, and every structural error.

Grammar (no precedence guessing):

    query    := level
    level    := operand ( connector operand )*      all connectors OR, or all AND-like
    connector:= OR | AND | AND NOT | AND - | NOT | - | (nothing: adjacency)
    operand  := primary [ NEAR/n primary ]           NEAR binds tightest, never chains
    primary  := term | field | "(" level ")"

A level (the whole query, or the inside of one pair of brackets) may not start
with NOT or `-`, and joins its operands either all by OR or all by AND, adjacency
and NOT. NEAR's operands are phrases (a word is a phrase of one) or bracketed
OR-lists of them. Brackets nest at most 50 deep.

Error positions: an operator without its operand points at the operator (for
`a NEAR/2 NOT b`, at NEAR); mixed AND/OR at the first connector that disagrees
(for adjacency, the operand after it); unclosed and unmatched brackets at the
bracket. A NEAR operand it does not take is reported at that operand; inside
brackets, at the thing in them NEAR does not take (`a NEAR/2 (b OR author:x)` at
`author:x`), and a bracketed AND, NOT or NEAR group at its first operand.

When a query has several mistakes, the one reported is the leftmost (QUERY_LANGUAGE.md,
rulings): the lexer's first, every unbalanced bracket (found before parsing, so an
unclosed `(` counts at its own place) and the parser's first are compared. The
parser meets its own mistakes in the order of their places: the few it finds late
(a NEAR operand) are checked as soon as the operand is known to be one.
"""

from listening.query.ast import And, Near, Node, Or, Phrase, Proximity
from listening.query.errors import QuerySyntaxError
from listening.query.fields import Field
from listening.query.lexer import Item

_OPERATORS = ("AND", "OR", "NOT", "-", "NEAR")
MAX_DEPTH = 50  # brackets inside brackets; far beyond any real search, well within Python's stack
MIXED = (
    "Add brackets to show what goes together: OR can't be mixed with AND, NOT or spaces in the same "
    "brackets, e.g. (GDPR OR privacy) fine"
)


def _describe(item: Item) -> str:
    return "-" if item.kind == "-" else item.text


class _Broken(Node):
    """Where the lexer found a mistake: parsing goes on past it to find an earlier one."""

    def __init__(self, position: int):
        self.position = position

    def evaluate(self, post, lists) -> bool:  # pragma: no cover - a query with a mistake is never built
        raise AssertionError("a query with a syntax error has no matches")


def parse_items(items: list[Item], lexer_error: QuerySyntaxError | None) -> Node:
    """The tree of a lexed query, or the leftmost of all its mistakes raised."""
    found = [lexer_error] if lexer_error is not None else []
    found.extend(_bracket_errors(items))
    try:
        node = Parser(items).parse()
    except QuerySyntaxError as error:
        found.append(error)
    if found:
        raise min(found, key=lambda error: error.position)
    return node


def _bracket_errors(items: list[Item]) -> list[QuerySyntaxError]:
    errors, open_brackets = [], []
    for item in items:
        if item.kind == "(":
            open_brackets.append(item)
        elif item.kind == ")":
            if open_brackets:
                open_brackets.pop()
            else:
                errors.append(QuerySyntaxError("Unmatched ): there is no ( before it", item.position))
    errors.extend(
        QuerySyntaxError("Unclosed bracket: add a ) to close the ( here", item.position) for item in open_brackets
    )
    return errors


class Parser:
    def __init__(self, items: list[Item]):
        self.items = items
        self.index = 0
        self.depth = 0
        self.closing = _closing_brackets(items)  # index of a "(" -> index of its ")"

    def peek(self) -> Item | None:
        return self.items[self.index] if self.index < len(self.items) else None

    def take(self) -> Item:
        item = self.items[self.index]
        self.index += 1
        return item

    def parse(self) -> Node:
        if not self.items:
            raise QuerySyntaxError("The query is empty: type what to search for, e.g. \"the ICO\"", 0)
        node = self.level(None, near_operand=False)
        leftover = self.peek()
        if leftover is not None:
            raise QuerySyntaxError("Unmatched ): there is no ( before it", leftover.position)
        return node

    def level(self, opening: Item | None, near_operand: bool) -> Node:
        """The inside of one pair of brackets (or the whole query).

        `near_operand`: the brackets are an operand of NEAR, which takes only an
        OR-list of words and phrases; anything else is reported as soon as it shows.
        """
        item = self.peek()
        if item is None or item.kind == ")":
            if opening is None:
                raise QuerySyntaxError("Unmatched ): there is no ( before it", item.position)
            raise QuerySyntaxError("Empty brackets: put something to search for between ( and )", opening.position)
        if item.kind in ("NOT", "-"):
            where = "A query" if opening is None else "Brackets"
            raise QuerySyntaxError(
                f"{where} can't start with {_describe(item)}: it means “and not”, so put what you want to find "
                "first, e.g. privacy NOT spam",
                item.position,
            )
        if item.kind in ("AND", "OR", "NEAR"):
            raise QuerySyntaxError(f"{_describe(item)} needs a term on each side", item.position)

        parts: list[tuple[Node, bool]] = [(self.operand(near_operand), False)]
        mode = None
        while True:
            item = self.peek()
            if item is None or item.kind == ")":
                break
            connector, negated, where = self.connector(mode)
            if near_operand and connector == "AND":
                raise QuerySyntaxError(_NEAR_OPERAND, parts[0][0].position)
            mode = connector
            parts.append((self.operand(near_operand), negated))

        position = opening.position if opening is not None else parts[0][0].position
        if len(parts) == 1:
            return parts[0][0]
        if mode == "OR":
            return Or(tuple(node for node, _ in parts), position)
        return And(tuple(parts), position)

    def connector(self, mode: str | None) -> tuple[str, bool, int]:
        """Consume the connector before the next operand: (OR or AND, negated, position).

        Mixing AND and OR is checked before the operand after the connector: its
        place (the connector) comes first.
        """
        item = self.peek()
        kind = "OR" if item.kind == "OR" else "AND"
        if item.kind == "NEAR":
            raise QuerySyntaxError(
                "NEAR can't be chained: it joins one word or phrase on each side. Use an OR-list in brackets, "
                "or two NEARs joined by AND",
                item.position,
            )
        if mode is not None and mode != kind:
            raise QuerySyntaxError(MIXED, item.position)
        if item.kind == "OR":
            self.take()
            following = self.peek()
            if following is not None and following.kind in ("NOT", "-"):
                raise QuerySyntaxError(
                    f"{_describe(following)} can't follow OR: it means “and not”. Use brackets, e.g. "
                    "(privacy OR GDPR) NOT spam",
                    following.position,
                )
            self._need_operand(item)
            return "OR", False, item.position
        if item.kind == "AND":
            self.take()
            following = self.peek()
            if following is not None and following.kind in ("NOT", "-"):
                self.take()
                self._need_operand(following)
                return "AND", True, item.position
            self._need_operand(item)
            return "AND", False, item.position
        if item.kind in ("NOT", "-"):
            self.take()
            self._need_operand(item)
            return "AND", True, item.position
        return "AND", False, item.position

    def _need_operand(self, operator: Item) -> None:
        following = self.peek()
        if following is None or following.kind in _OPERATORS or following.kind == ")":
            if operator.kind in ("NOT", "-"):
                message = f"{_describe(operator)} needs a term straight after it, e.g. privacy NOT spam"
            else:
                message = f"{_describe(operator)} needs a term on each side"
            raise QuerySyntaxError(message, operator.position)

    def operand(self, near_operand: bool = False) -> Node:
        left = self.primary(near_operand or self._bracket_before_near())
        near = self.peek()
        if near is None or near.kind != "NEAR":
            if near_operand:
                _check_near_operand(left)
            return left
        if near_operand:
            # A NEAR inside brackets NEAR takes: reported at the group's first operand.
            raise QuerySyntaxError(_NEAR_OPERAND, left.position)
        self.take()
        _check_near_operand(left)
        following = self.peek()
        if following is None or following.kind in _OPERATORS or following.kind == ")":
            raise QuerySyntaxError(
                f"{near.text} needs a word or phrase on each side (not AND, OR, NOT or another NEAR)", near.position
            )
        right = self.primary(near_operand=True)
        _check_near_operand(right)
        chained = self.peek()
        if chained is not None and chained.kind == "NEAR":
            raise QuerySyntaxError(
                "NEAR can't be chained: it joins one word or phrase on each side. Use an OR-list in brackets, "
                "or two NEARs joined by AND",
                chained.position,
            )
        return Near(left, right, near.distance, near.ordered, left.position)

    def _bracket_before_near(self) -> bool:
        """Is the next item a "(" whose ")" is followed by NEAR (so the brackets are a NEAR operand)?"""
        if self.index >= len(self.items) or self.items[self.index].kind != "(":
            return False
        closing = self.closing.get(self.index)
        return closing is not None and closing + 1 < len(self.items) and self.items[closing + 1].kind == "NEAR"

    def primary(self, near_operand: bool = False) -> Node:
        item = self.take()
        if item.kind in ("TERM", "FIELD"):
            return item.node
        if item.kind == "ERROR":
            return _Broken(item.position)
        # The lexer only yields "(" here: operators and ")" are checked before an operand.
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QuerySyntaxError(f"Too many brackets inside each other: at most {MAX_DEPTH} levels", item.position)
        node = self.level(item, near_operand)
        if self.peek() is None:
            raise QuerySyntaxError("Unclosed bracket: add a ) to close the ( here", item.position)
        self.take()
        self.depth -= 1
        node.position = item.position
        return node


def _closing_brackets(items: list[Item]) -> dict[int, int]:
    closing, open_brackets = {}, []
    for index, item in enumerate(items):
        if item.kind == "(":
            open_brackets.append(index)
        elif item.kind == ")" and open_brackets:
            closing[open_brackets.pop()] = index
    return closing


_NEAR_OPERAND = "NEAR takes a word, a phrase, or an OR-list of them in brackets on each side"


def _check_near_operand(node: Node) -> None:
    if isinstance(node, _Broken) or (isinstance(node, Phrase) and not node.tilde):
        return
    if isinstance(node, Or):
        for child in node.items:
            _check_near_operand(child)
        return
    if isinstance(node, (Proximity, Phrase)):
        message = 'A "…"~n phrase can\'t be used with NEAR: use NEAR between single words or phrases'
    elif isinstance(node, Field):
        message = f"NEAR works on words and phrases, not on {node.name}:"
    else:
        message = _NEAR_OPERAND
    raise QuerySyntaxError(message, node.position)
