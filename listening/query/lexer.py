"""Cutting a query into items: brackets, operators, terms and field operators.

Works on the NFC-normalised query; positions are offsets into that string.

- Whitespace and `<<<comments>>>` separate items (a comment may stand anywhere
  outside quotes, even inside `{ }`).
- `"…"` is a phrase, optionally followed straight away by `~n`. Typographic
  double quotes (“ ” „), as pasted from a word processor, work like `"`.
- `{…}` is a case-sensitive term or phrase; it may hold wildcards, hashtags
  and mentions. Quotes inside braces, and braces inside quotes, are punctuation.
- `AND`, `OR`, `NOT`, `NEAR/n`, `NEAR/nf` are operators only in capitals and
  only as a whole word; `-` straight before a term means NOT. A `-` with a
  space after it, or doubled (`--spam`), is an error.
- Letters followed by `:` and a value make a field operator. Letters and a colon
  followed by a space are words (`Note: privacy`), unless they name a known
  operator, which is an error (`author: bob`).
- Anything else up to the next space, bracket, quote, brace or `~` is a bare
  word, cut into tokens like a post's text (`e-mail` is the phrase `"e mail"`).
- `~` not followed by a digit separates terms as a space does; followed by a
  digit it is an error except straight after a quoted phrase, inside quotes and
  braces too (the rulings exempt only field values). Inside a field's value it
  is an ordinary character (`url:x.com/~u`).
- Inside a field's bracketed list, `NEAR` and `NEAR/n` are operators (errors
  there) as they are outside; `NEARBY` is a value.

A mistake does not stop the lexer: it notes the leftmost one, puts an `ERROR`
item where the broken part was and reads on from the end of that part, so the
parser can still find an earlier mistake (the query's reported error is the
leftmost of all). Only an unclosed quote, brace or comment ends the reading, as
everything after it belongs to it.
"""

import re
from dataclasses import dataclass

from listening.query.ast import Phrase, Proximity
from listening.query.errors import QuerySyntaxError
from listening.query.fields import build_field, field_example, known_field, unknown_field_message
from listening.query.terms import query_url_at, read_terms, url_in_query

QUOTES = '"“”„'
_STOPS = "()" + QUOTES + "{}~"
_VALUE_STOPS = "()" + QUOTES + "{}"
_FIELD = re.compile(r"([A-Za-z]+):")  # field names are ASCII letters; anything else before a colon is words
_NEAR = re.compile(r"NEAR/([0-9]+)(f?)")
MAX_DISTANCE = 1000

NEAR_NUMBER = "NEAR needs a distance: a whole number from 0 to 1000 straight after a slash, e.g. NEAR/3"
TILDE_PLACE = '~ goes only straight after a closing quote, e.g. "data breach"~5'
TILDE_NUMBER = '~ needs a whole number from 0 to 1000 straight after it, e.g. "data breach"~5'


@dataclass
class Item:
    kind: str  # "(", ")", "AND", "OR", "NOT", "-", "NEAR", "TERM", "FIELD", "ERROR"
    position: int
    text: str = ""
    node: object = None
    distance: int = 0
    ordered: bool = False


class Lexer:
    def __init__(self, text: str):
        self.text = text
        self.items: list[Item] = []
        self.error: QuerySyntaxError | None = None  # the leftmost mistake found
        self.resume = 0  # where to read on after a mistake in the current item

    def run(self) -> list[Item]:
        text, i = self.text, 0
        while i < len(text):
            # Until an item knows where it ends, a mistake in it ends the reading.
            self.resume = len(text)
            try:
                i = self._item(i)
            except QuerySyntaxError as error:
                if self.error is None or error.position < self.error.position:
                    self.error = error
                self.items.append(Item("ERROR", i))
                i = max(self.resume, i + 1)
        return self.items

    def _item(self, i: int) -> int:
        text = self.text
        char = text[i]
        if char.isspace():
            return i + 1
        if text.startswith("<<<", i):
            return self._skip_comment(i)
        if text.startswith(">>>", i):
            self.resume = i + 3
            raise QuerySyntaxError("Unmatched >>>: a comment starts with <<< and ends with >>>", i)
        if char in "()":
            self.items.append(Item(char, i, char))
            return i + 1
        if char in QUOTES:
            return self._phrase(i)
        if char == "{":
            return self._exact(i)
        if char == "}":
            self.resume = i + 1
            raise QuerySyntaxError("Unmatched }: an exact-case term starts with {, e.g. {ICO}", i)
        if char == "~":
            return self._tilde(i)
        if char == "-":
            return self._minus(i)
        return self._chunk(i)

    def _tilde(self, i: int) -> int:
        """A `~` that does not follow a quoted phrase: a separator, or an error before a number."""
        digits = re.match(r"~[0-9]+", self.text[i:])
        if digits:
            self.resume = i + len(digits.group())
            raise QuerySyntaxError(TILDE_PLACE, i)
        return i + 1

    def _skip_comment(self, start: int) -> int:
        end = self.text.find(">>>", start + 3)
        if end < 0:
            raise QuerySyntaxError("Unclosed comment: add >>> to end the comment that starts here", start)
        return end + 3

    def _is_stop(self, i: int, stops: str = _STOPS) -> bool:
        text = self.text
        return (
            i >= len(text)
            or text[i].isspace()
            or text[i] in stops
            or text.startswith("<<<", i)
            or text.startswith(">>>", i)
        )

    def _minus(self, i: int) -> int:
        text = self.text
        following = text[i + 1] if i + 1 < len(text) else ""
        if following == "" or following.isspace() or following == ")" or text.startswith("<<<", i + 1):
            self.resume = i + 1
            raise QuerySyntaxError(
                "A lone - can't be searched: put it straight before the term to leave out, e.g. privacy -spam", i
            )
        if following == "-":
            # The first - has no term straight after it: that is where the mistake starts.
            end = i
            while end < len(text) and text[end] == "-":
                end += 1
            self.resume = end
            raise QuerySyntaxError("Use a single - straight before the term to leave out, e.g. privacy -spam", i)
        self.items.append(Item("-", i, "-"))
        return i + 1

    def _phrase(self, start: int) -> int:
        text = self.text
        close = next((j for j in range(start + 1, len(text)) if text[j] in QUOTES), -1)
        if close < 0:
            raise QuerySyntaxError('Unclosed quote: add a closing " to finish the phrase', start)
        end = close + 1
        self.resume = end
        tilde = tilde_error = None
        if end < len(text) and text[end] == "~":
            number = re.match(r"~([0-9]+)", text[end:])
            self.resume = end + (len(number.group()) if number else 1)
            if not number or not self._is_stop(self.resume) or int(number.group(1)) > MAX_DISTANCE:
                self.resume = self._chunk_end(self.resume)
                tilde_error = QuerySyntaxError(TILDE_NUMBER, end)
            else:
                tilde = int(number.group(1))
        # Mistakes inside the quotes come before one in the ~ after them.
        content = text[start + 1 : close]
        _no_tilde_number(content, start + 1)
        terms = read_terms(content, start + 1)
        if not terms:
            raise QuerySyntaxError('Empty phrase: put words between the quotes, e.g. "the ICO"', start)
        if tilde_error is not None:
            raise tilde_error
        if tilde is None:
            self.items.append(Item("TERM", start, text[start:end], Phrase(tuple(terms), start, True)))
            return end
        if len(terms) > 1:
            node = Proximity(tuple(terms), tilde, start)
        else:
            node = Phrase(tuple(terms), start, True, tilde=True)
        self.items.append(Item("TERM", start, text[start : self.resume], node))
        return self.resume

    def _exact(self, start: int) -> int:
        text = self.text
        content = []
        j = start + 1
        misplaced = None  # a >>> inside the braces: reported once the braces are known to close
        while True:
            if j >= len(text):
                raise QuerySyntaxError("Unclosed {: add a closing } to finish the exact-case term", start)
            if text.startswith("<<<", j):
                end = self._skip_comment(j)
                content.append(" " * (end - j))
                j = end
            elif text.startswith(">>>", j):
                if misplaced is None:
                    misplaced = j
                content.append("   ")
                j += 3
            elif text[j] == "}":
                break
            else:
                content.append(text[j])
                j += 1
        self.resume = j + 1
        content = "".join(content)
        try:
            _no_tilde_number(content, start + 1)
            terms = read_terms(content, start + 1, case_sensitive=True)
        except QuerySyntaxError as error:
            if misplaced is None or error.position < misplaced:
                raise
            terms = []
        if misplaced is not None:
            raise QuerySyntaxError("Unmatched >>>: a comment starts with <<< and ends with >>>", misplaced)
        if not terms:
            raise QuerySyntaxError("Empty { }: put the exact word between the braces, e.g. {ICO}", start)
        self.items.append(Item("TERM", start, text[start : j + 1], Phrase(tuple(terms), start)))
        return j + 1

    def _chunk_end(self, start: int, stops: str = _STOPS) -> int:
        end = start
        while not self._is_stop(end, stops):
            end += 1
        return end

    def _chunk(self, start: int) -> int:
        text = self.text
        end = self._chunk_end(start)
        self.resume = max(end, start + 1)
        if query_url_at(text, start):
            self.resume = self._chunk_end(start, stops=" ")
            raise QuerySyntaxError(url_in_query(text[start:]), start)
        field = _FIELD.match(text, start)
        if field:
            after = field.end()
            missing = self._is_stop(after, _VALUE_STOPS) and not (
                after < len(text) and (text[after] == "(" or text[after] in QUOTES)
            )
            if not known_field(field.group(1)):
                if not missing:
                    self.resume = self._chunk_end(after, _VALUE_STOPS)
                    raise QuerySyntaxError(unknown_field_message(field.group(1)), start)
            elif missing:
                self.resume = after
                raise QuerySyntaxError(
                    f"Put the value straight after {field.group(0)} with no space, e.g. {field_example(field.group(1))}",
                    after,
                )
            else:
                return self._field(field.group(1), start, after)
        chunk = text[start:end]
        if chunk in ("AND", "OR", "NOT"):
            self.items.append(Item(chunk, start, chunk))
        elif chunk == "NEAR" or chunk.startswith("NEAR/"):
            self.items.append(self._near(chunk, start))
        else:
            terms = read_terms(chunk, start)
            if not terms:
                raise QuerySyntaxError(f"“{chunk}” can't be searched: a term needs at least one letter or digit", start)
            self.items.append(Item("TERM", start, chunk, Phrase(tuple(terms), start)))
        return end

    def _near(self, chunk: str, start: int) -> Item:
        match = _NEAR.fullmatch(chunk)
        if not match:
            if re.fullmatch(r"NEAR/[0-9]+F", chunk):
                raise QuerySyntaxError("NEAR/nf takes a lowercase f, e.g. NEAR/3f", start)
            raise QuerySyntaxError(NEAR_NUMBER, start)
        distance = int(match.group(1))
        if distance > MAX_DISTANCE:
            raise QuerySyntaxError(NEAR_NUMBER, start)
        return Item("NEAR", start, chunk, distance=distance, ordered=match.group(2) == "f")

    def _field(self, name: str, start: int, after: int) -> int:
        text = self.text
        self.resume = len(text)  # an unclosed quote or bracket in the value runs to the end
        if text[after] in QUOTES:
            value, end = self._quoted_value(after)
            values = [value]
        elif text[after] == "(":
            values, end = self._value_list(name, after)
        else:
            value, end = self._bare_value(after)
            values = [value]
        self.resume = end
        node = build_field(name, start, values)
        self.items.append(Item("FIELD", start, text[start:end], node))
        return end

    def _quoted_value(self, start: int) -> tuple[tuple[str, int, bool], int]:
        text = self.text
        close = next((j for j in range(start + 1, len(text)) if text[j] in QUOTES), -1)
        if close < 0:
            raise QuerySyntaxError('Unclosed quote: add a closing " to finish the value', start)
        return (text[start + 1 : close], start, True), close + 1

    def _bare_value(self, start: int) -> tuple[tuple[str, int, bool], int]:
        # `~` is an ordinary character in a value (`url:x.com/~u`).
        end = self._chunk_end(start, _VALUE_STOPS)
        return (self.text[start:end], start, False), end

    def _value_list(self, name: str, opening: int) -> tuple[list[tuple[str, int, bool]], int]:
        """`name:(a OR "b c" OR d)`: values joined by OR, nothing else."""
        try:
            return self._read_value_list(name, opening)
        except QuerySyntaxError:
            self.resume = self._value_list_end(opening)
            raise

    def _value_list_end(self, opening: int) -> int:
        """Just after the `)` closing a value list (quotes and comments skipped), or the end."""
        text, i = self.text, opening + 1
        while i < len(text):
            if text.startswith("<<<", i):
                close = text.find(">>>", i + 3)
                if close < 0:
                    return len(text)
                i = close + 3
            elif text[i] in QUOTES:
                close = next((j for j in range(i + 1, len(text)) if text[j] in QUOTES), -1)
                if close < 0:
                    return len(text)
                i = close + 1
            elif text[i] == ")":
                return i + 1
            else:
                i += 1
        return len(text)

    def _read_value_list(self, name: str, opening: int) -> tuple[list[tuple[str, int, bool]], int]:
        text, i = self.text, opening + 1
        values: list[tuple[str, int, bool]] = []
        last_or = None
        while True:
            while i < len(text) and text[i].isspace():
                i += 1
            if i >= len(text):
                raise QuerySyntaxError(f"Unclosed bracket: add a ) to close {name}:( here", opening)
            if text.startswith("<<<", i):
                i = self._skip_comment(i)
                continue
            if text.startswith(">>>", i):
                raise QuerySyntaxError("Unmatched >>>: a comment starts with <<< and ends with >>>", i)
            char = text[i]
            if char == ")":
                if not values:
                    raise QuerySyntaxError(f"Empty brackets: put values in {name}:( ), e.g. {name}:(alice OR bob)", opening)
                if last_or is not None:
                    raise QuerySyntaxError("OR needs a value on each side", last_or)
                return values, i + 1
            if char == "(":
                raise QuerySyntaxError(f"Brackets can't go inside {name}:( … ): list the values joined by OR", i)
            if char in QUOTES:
                value, end = self._quoted_value(i)
            else:
                value, end = self._bare_value(i)
                if not value[0]:
                    raise QuerySyntaxError(f"{char} can't go inside {name}:( … ): list the values joined by OR", i)
                if value[0] == "OR":
                    if not values:
                        raise QuerySyntaxError("OR needs a value on each side", i)
                    if last_or is not None:
                        # The first of two ORs in a row is the one without a value after it.
                        raise QuerySyntaxError("OR needs a value on each side", last_or)
                    last_or = i
                    i = end
                    continue
                if value[0] in ("AND", "NOT", "NEAR") or value[0].startswith("NEAR/"):
                    raise QuerySyntaxError(f"Only OR can join the values of {name}:( … ), e.g. {name}:(alice OR bob)", i)
            if values and last_or is None:
                raise QuerySyntaxError(f"Join the values of {name}:( … ) with OR, e.g. {name}:(alice OR bob)", i)
            values.append(value)
            last_or = None
            i = end


def _no_tilde_number(content: str, offset: int) -> None:
    """Inside quotes or braces too, `~` before a number is misplaced (outside field values it always is)."""
    found = re.search(r"~[0-9]", content)
    if found:
        raise QuerySyntaxError(TILDE_PLACE, offset + found.start())
