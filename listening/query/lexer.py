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
- Anything else up to the next space, bracket, quote or brace is a bare word,
  cut into tokens like a post's text (`e-mail` is the phrase `"e mail"`).
"""

import re
from dataclasses import dataclass

from listening.query.ast import Phrase, Proximity
from listening.query.errors import QuerySyntaxError
from listening.query.fields import build_field, field_example, known_field, unknown_field_message
from listening.query.terms import read_terms, url_in_query
from listening.query.text import LETTERS
from listening.query.tokenizer import URL

QUOTES = '"“”„'
_STOPS = "()" + QUOTES + "{}"
_FIELD = re.compile(rf"((?:{LETTERS})+):")
_NEAR = re.compile(r"NEAR/([0-9]+)(f?)")
_TILDE_NUMBER = re.compile(r"~[0-9]")
MAX_DISTANCE = 1000

NEAR_NUMBER = "NEAR needs a distance: a whole number from 0 to 1000 straight after a slash, e.g. NEAR/3"
TILDE_PLACE = '~ goes only straight after a closing quote, e.g. "data breach"~5'
TILDE_NUMBER = '~ needs a whole number from 0 to 1000 straight after it, e.g. "data breach"~5'


@dataclass
class Item:
    kind: str  # "(", ")", "AND", "OR", "NOT", "-", "NEAR", "TERM", "FIELD"
    position: int
    text: str = ""
    node: object = None
    distance: int = 0
    ordered: bool = False


class Lexer:
    def __init__(self, text: str):
        self.text = text
        self.items: list[Item] = []

    def run(self) -> list[Item]:
        text, i = self.text, 0
        while i < len(text):
            char = text[i]
            if char.isspace():
                i += 1
            elif text.startswith("<<<", i):
                i = self._skip_comment(i)
            elif text.startswith(">>>", i):
                raise QuerySyntaxError("Unmatched >>>: a comment starts with <<< and ends with >>>", i)
            elif char in "()":
                self.items.append(Item(char, i, char))
                i += 1
            elif char in QUOTES:
                i = self._phrase(i)
            elif char == "{":
                i = self._exact(i)
            elif char == "}":
                raise QuerySyntaxError("Unmatched }: an exact-case term starts with {, e.g. {ICO}", i)
            elif char == "-":
                i = self._minus(i)
            else:
                i = self._chunk(i)
        return self.items

    def _skip_comment(self, start: int) -> int:
        end = self.text.find(">>>", start + 3)
        if end < 0:
            raise QuerySyntaxError("Unclosed comment: add >>> to end the comment that starts here", start)
        return end + 3

    def _is_stop(self, i: int) -> bool:
        text = self.text
        return (
            i >= len(text)
            or text[i].isspace()
            or text[i] in _STOPS
            or text.startswith("<<<", i)
            or text.startswith(">>>", i)
        )

    def _minus(self, i: int) -> int:
        text = self.text
        following = text[i + 1] if i + 1 < len(text) else ""
        if following == "" or following.isspace() or following == ")" or text.startswith("<<<", i + 1):
            raise QuerySyntaxError(
                "A lone - can't be searched: put it straight before the term to leave out, e.g. privacy -spam", i
            )
        if following == "-":
            raise QuerySyntaxError("Use a single - straight before the term to leave out, e.g. privacy -spam", i + 1)
        self.items.append(Item("-", i, "-"))
        return i + 1

    def _phrase(self, start: int) -> int:
        text = self.text
        close = next((j for j in range(start + 1, len(text)) if text[j] in QUOTES), -1)
        if close < 0:
            raise QuerySyntaxError('Unclosed quote: add a closing " to finish the phrase', start)
        terms = read_terms(text[start + 1 : close], start + 1)
        if not terms:
            raise QuerySyntaxError('Empty phrase: put words between the quotes, e.g. "the ICO"', start)
        end = close + 1
        if end < len(text) and text[end] == "~":
            number = re.match(r"~([0-9]+)", text[end:])
            if not number or not self._is_stop(end + len(number.group())):
                raise QuerySyntaxError(TILDE_NUMBER, end)
            distance = int(number.group(1))
            if distance > MAX_DISTANCE:
                raise QuerySyntaxError(TILDE_NUMBER, end)
            node = Proximity(tuple(terms), distance, start) if len(terms) > 1 else Phrase(tuple(terms), start, True)
            self.items.append(Item("TERM", start, text[start : end + len(number.group())], node))
            return end + len(number.group())
        self.items.append(Item("TERM", start, text[start:end], Phrase(tuple(terms), start, True)))
        return end

    def _exact(self, start: int) -> int:
        text = self.text
        content = []
        j = start + 1
        while True:
            if j >= len(text):
                raise QuerySyntaxError("Unclosed {: add a closing } to finish the exact-case term", start)
            if text.startswith("<<<", j):
                end = self._skip_comment(j)
                content.append(" " * (end - j))
                j = end
            elif text.startswith(">>>", j):
                raise QuerySyntaxError("Unmatched >>>: a comment starts with <<< and ends with >>>", j)
            elif text[j] == "}":
                break
            else:
                content.append(text[j])
                j += 1
        terms = read_terms("".join(content), start + 1, case_sensitive=True)
        if not terms:
            raise QuerySyntaxError("Empty { }: put the exact word between the braces, e.g. {ICO}", start)
        if j + 1 < len(text) and text[j + 1] == "~":
            raise QuerySyntaxError(TILDE_PLACE, j + 1)
        self.items.append(Item("TERM", start, text[start : j + 1], Phrase(tuple(terms), start)))
        return j + 1

    def _chunk(self, start: int) -> int:
        text = self.text
        if URL.match(text, start):
            raise QuerySyntaxError(url_in_query(text[start:]), start)
        field = _FIELD.match(text, start)
        if field:
            after = field.end()
            missing = self._is_stop(after) and not (after < len(text) and (text[after] == "(" or text[after] in QUOTES))
            if not known_field(field.group(1)):
                if not missing:
                    raise QuerySyntaxError(unknown_field_message(field.group(1)), start)
            elif missing:
                raise QuerySyntaxError(
                    f"Put the value straight after {field.group(0)} with no space, e.g. {field_example(field.group(1))}",
                    after,
                )
            else:
                return self._field(field.group(1), start, after)
        end = start
        while not self._is_stop(end):
            end += 1
        chunk = text[start:end]
        if chunk in ("AND", "OR", "NOT"):
            self.items.append(Item(chunk, start, chunk))
        elif chunk == "NEAR" or chunk.startswith("NEAR/"):
            self.items.append(self._near(chunk, start))
        else:
            tilde = _TILDE_NUMBER.search(chunk)
            if tilde:
                raise QuerySyntaxError(TILDE_PLACE, start + tilde.start())
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
        if text[after] in QUOTES:
            value, end = self._quoted_value(after)
            values = [value]
        elif text[after] == "(":
            values, end = self._value_list(name, after)
        else:
            value, end = self._bare_value(after)
            values = [value]
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
        end = start
        while not self._is_stop(end):
            end += 1
        return (self.text[start:end], start, False), end

    def _value_list(self, name: str, opening: int) -> tuple[list[tuple[str, int, bool]], int]:
        """`name:(a OR "b c" OR d)`: values joined by OR, nothing else."""
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
                    if last_or is not None or not values:
                        raise QuerySyntaxError("OR needs a value on each side", i)
                    last_or = i
                    i = end
                    continue
                if value[0] in ("AND", "NOT") or value[0].startswith("NEAR"):
                    raise QuerySyntaxError(f"Only OR can join the values of {name}:( … ), e.g. {name}:(alice OR bob)", i)
            if values and last_or is None:
                raise QuerySyntaxError(f"Join the values of {name}:( … ) with OR, e.g. {name}:(alice OR bob)", i)
            values.append(value)
            last_or = None
            i = end
