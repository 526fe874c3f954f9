"""How strings are compared: NFC, full case folding, and the accent rule.

- `nfc_with_offsets` normalises a string and remembers where each normalised
  character came from, so matches can be reported as offsets into the original.
- `fold` is Unicode full case folding (`straße` and `STRASSE` fold alike).
- `unaccent` removes accents: the nonspacing marks (category Mn, in any plane)
  left after canonical decomposition, so `Café` becomes `cafe`. Spacing marks
  (the vowel signs of Indic scripts) are part of the letter and stay.
- `skeleton` folds and removes accents, keeping the string decomposed. The
  prefilter searches skeletons, because the skeleton of a token is always a
  substring of the skeleton of the text it came from.
"""

import functools
import re
import unicodedata

from listening.query.unicode_classes import char_class


def alnum(extra: str = "", bmp_only: bool = False) -> str:
    """Regex for one letter or digit (or a character of `extra`)."""
    return char_class("letters", "digits", extra=extra, bmp_only=bmp_only)


def word_char(extra: str = "", bmp_only: bool = False) -> str:
    """Regex for one character a word may continue with: letters, digits, marks (or `extra`)."""
    return char_class("letters", "digits", "marks", extra=extra, bmp_only=bmp_only)


# Accents are the nonspacing marks of every plane. Text without characters beyond
# U+FFFF (nearly all) is searched with the smaller, faster class.
_ACCENT_BMP = re.compile(char_class("accents", bmp_only=True) + "+")
_ACCENT_ALL = re.compile(char_class("accents") + "+")


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _accents(text: str) -> re.Pattern:
    if max(text) < "\U00010000":
        return _ACCENT_BMP
    # Emoji are beyond U+FFFF too but are no accents: the slower class only when needed.
    if any(unicodedata.category(char) == "Mn" for char in _ASTRAL.findall(text)):
        return _ACCENT_ALL
    return _ACCENT_BMP
_LETTER_OR_DIGIT = re.compile(alnum())
LETTERS = char_class("letters")


def nfc_with_offsets(raw: str) -> tuple[str, list[int] | None]:
    """NFC-normalise `raw`; return it with a map from each normalised index to `raw`.

    The map has one extra entry, `len(raw)`, so an end offset maps too. It is
    None when `raw` was already normalised (offsets are then the same).
    """
    if raw.isascii() or unicodedata.is_normalized("NFC", raw):
        return raw, None
    pieces = _composition_groups(raw)
    normalised_parts = []
    offsets: list[int] = []
    for start, end in pieces:
        part = unicodedata.normalize("NFC", raw[start:end])
        normalised_parts.append(part)
        offsets.extend([start] * len(part))
    offsets.append(len(raw))
    return "".join(normalised_parts), offsets


def _composition_groups(raw: str) -> list[tuple[int, int]]:
    """Split `raw` into runs that NFC-normalise independently of each other.

    A run starts at a character with combining class 0; neighbouring runs are
    merged while normalising them apart would differ from normalising them
    together (Hangul jamo, for one, compose across starters).
    """
    starts = [i for i, ch in enumerate(raw) if i == 0 or unicodedata.combining(ch) == 0]
    groups: list[tuple[int, int]] = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(raw)
        if groups:
            previous_start, previous_end = groups[-1]
            joined = unicodedata.normalize("NFC", raw[previous_start:end])
            apart = unicodedata.normalize("NFC", raw[previous_start:previous_end]) + unicodedata.normalize(
                "NFC", raw[start:end]
            )
            if joined != apart:
                groups[-1] = (previous_start, end)
                continue
        groups.append((start, end))
    return groups


_NON_ASCII = re.compile("[^\x00-\x7f]")


@functools.lru_cache(maxsize=4096)
def _inert(char: str) -> bool:
    """A symbol, punctuation or space that normalising, case folding and unaccenting leave as it is.

    Such a character has no decomposition, is no mark and combines with nothing
    (the second character of every canonical composition is a mark or a letter),
    so it changes none of its neighbours either.
    """
    return (
        unicodedata.category(char)[0] in "SPZ"
        and not unicodedata.decomposition(char)
        and unicodedata.combining(char) == 0
        and char.casefold() == char == char.lower()
    )


def _plain(text: str) -> bool:
    """Only ASCII and inert characters (an emoji, a dash): NFC as it is, and its skeleton is `lower()`."""
    return all(map(_inert, _NON_ASCII.findall(text)))


def nfc(raw: str) -> str:
    if raw.isascii() or _plain(raw):
        return raw
    return unicodedata.normalize("NFC", raw)


def fold(text: str) -> str:
    """Full case folding, kept in NFC."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFC", text.casefold())


def unaccent(folded: str) -> str:
    """Remove the accents of an already folded string, kept in NFC."""
    if folded.isascii():
        return folded
    decomposed = unicodedata.normalize("NFD", folded)
    return unicodedata.normalize("NFC", _accents(decomposed).sub("", decomposed))


def has_accent(folded: str) -> bool:
    """True when the string holds an accented letter (a mark that decomposition splits off)."""
    if folded.isascii():
        return False
    decomposed = unicodedata.normalize("NFD", folded)
    return _accents(decomposed).search(decomposed) is not None


def skeleton(text: str) -> str:
    """Fold, decompose and remove accents: the form the prefilter searches."""
    if text.isascii() or _plain(text):
        return text.lower()
    return _skeleton(text)


def _skeleton(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.casefold())
    accents = _accents(decomposed)
    if accents.search(decomposed) is None:
        return decomposed
    # Removing a mark can leave other marks out of canonical order; decompose again.
    return unicodedata.normalize("NFD", accents.sub("", decomposed))


def has_letter_or_digit(text: str) -> bool:
    return _LETTER_OR_DIGIT.search(text) is not None


# U+0345 is the only character that is neither a letter nor a digit but folds to a
# letter (iota). Where it stands outside a word, a skeleton's word boundaries shift.
BOUNDARY_UNSAFE = "\u0345"
