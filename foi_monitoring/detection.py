"""FOI signals in a post: `detect_signals(text) -> set[str]`.

Codes: `overdue` (late, no response, still waiting, ignored, a missed deadline),
`refused` (a refusal, an exemption, vexatious, the s.12 cost limit, withheld),
`internal_review` (a review asked for, or delayed) and `regulator_complaint`
(complained, or will complain, to the regulator).

The text is cut into words once (a fixed pattern that cannot backtrack) and read by
fixed phrase tables, so the cost is linear in the post's length whatever it says.
A phrase right after a negation ("not late", "no need to complain") does not count,
and praise or neutral news about FOI matches none of the phrases. Some signals need
two parts near each other: a review needs "internal review" near a word of asking or
delay, or "review" just after a verb of asking; a complaint needs a verb of complaining near the regulator.
"""

import re

OVERDUE, REFUSED, INTERNAL_REVIEW, REGULATOR_COMPLAINT = "overdue", "refused", "internal_review", "regulator_complaint"
CODES = frozenset({OVERDUE, REFUSED, INTERNAL_REVIEW, REGULATOR_COMPLAINT})

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# "s.12", "s 12", "sec. 12" all read as "section 12".
_SECTION = re.compile(r"\b(?:s|sec|sect)\.?\s?(\d{1,2})\b")

MAX_TEXT = 20_000

# Phrases that are signals on their own. `False` after a phrase: a negation before it
# does not undo it (it is already negative, e.g. "no response").
_PHRASES: dict[str, list[tuple[str, bool]]] = {
    OVERDUE: [
        ("overdue", True), ("late", True), ("still waiting", False), ("still no", False), ("still not", False),
        ("no response", False), ("no reply", False), ("no answer", False), ("not responded", False),
        ("not replied", False), ("never responded", False), ("never replied", False), ("hasn't responded", False),
        ("haven't responded", False), ("hasn't replied", False), ("haven't replied", False), ("have not responded", False),
        ("has not responded", False), ("has not replied", False), ("yet to respond", False), ("yet to reply", False),
        ("failed to respond", False), ("failed to reply", False), ("failure to respond", False), ("ignored", True),
        ("ignoring", True), ("ignores", True), ("missed the deadline", True), ("missed their deadline", True),
        ("missed its deadline", True), ("past the deadline", True), ("deadline passed", True), ("deadline has passed", True),
        ("breached the deadline", True), ("heard nothing", False), ("not heard back", False), ("nothing back", False),
        ("section 10 breach", True), ("breach of section 10", True), ("working days later", True), ("months later", True),
        ("weeks later", True), ("chasing", True), ("chased", True), ("delayed response", True), ("delayed their response", True),
        ("extended the deadline again", True), ("radio silence", False), ("no acknowledgement", False),
    ],
    REFUSED: [
        ("refused", True), ("refusal", True), ("refuse", True), ("refuses", True), ("refusing", True),
        ("exemption", True), ("exemptions", True), ("exempt", True), ("vexatious", True), ("cost limit", True),
        ("costs limit", True), ("appropriate limit", True), ("section 12", True), ("section 14", True),
        ("withheld", True), ("withholding", True), ("withhold", True), ("neither confirm nor deny", True), ("ncnd", True),
        ("turned down", True), ("rejected my request", True), ("rejected my foi", True), ("redacted", True),
        ("would exceed the cost", True), ("not in the public interest", True), ("declined to provide", True),
        ("declined my request", True), ("won't release", True), ("will not release", True), ("refuse to release", True),
    ],
    # A section 50 application is, by definition, a complaint to the Commissioner.
    REGULATOR_COMPLAINT: [("section 50", True), ("s50 complaint", True)],
}
_NEGATIONS = frozenset("not never no without isn't wasn't weren't aren't didn't don't doesn't hardly nor".split())
_NEGATION_PHRASES = ("no need to", "didn't need to", "no longer", "no reason to", "not going to", "instead of")

_REVIEW_ASK = frozenset(
    "asked ask asking requested request requesting requested lodged lodging submitted submit submitting "
    "demanded sought seeking seek want wanting chase chasing chased overdue late delayed delay delays waiting "
    "outstanding pending awaiting still months weeks days ignored extended".split()
)
_REVIEW_VERBS = frozenset("asked requested request requesting lodged submitted sought demanded demanding".split())
_COMPLAINT_VERBS = frozenset(
    "complain complained complaining complains complaint complaints report reported reporting escalate escalated "
    "escalating escalation referred refer referring appeal appealed appealing".split()
)
_COMPLAINT_PHRASES = ("going to the", "taking it to the", "take it to the", "taken it to the", "off to the")
_REGULATOR = ("ico", "iconews", "information commissioner", "information commissioner's office",
              "scottish information commissioner", "osic", "commissioner", "itspublicknowledge")


def _words(text: str) -> list[str]:
    text = text[:MAX_TEXT].lower().replace("\u2019", "'").replace("\u2018", "'")
    text = _SECTION.sub(r"section \1", text)
    return _WORD.findall(text)


def _compile(phrases):
    table: dict[str, list[tuple[tuple[str, ...], bool]]] = {}
    for phrase, negatable in phrases:
        words = tuple(_WORD.findall(phrase))
        table.setdefault(words[0], []).append((words, negatable))
    return table


_TABLES = {code: _compile(phrases) for code, phrases in _PHRASES.items()}
_REGULATOR_WORDS = [tuple(_WORD.findall(r)) for r in _REGULATOR]
_COMPLAINT_PHRASE_WORDS = [tuple(_WORD.findall(p)) for p in _COMPLAINT_PHRASES]
_NEGATION_PHRASE_WORDS = [tuple(_WORD.findall(p)) for p in _NEGATION_PHRASES]


def _negated(words: list[str], at: int) -> bool:
    window = words[max(0, at - 3) : at]
    if any(w in _NEGATIONS for w in window):
        return True
    for phrase in _NEGATION_PHRASE_WORDS:
        for start in range(max(0, at - len(phrase) - 2), at - len(phrase) + 1):
            if tuple(words[start : start + len(phrase)]) == phrase:
                return True
    return False


def _starts_at(words: list[str], i: int, phrase: tuple[str, ...]) -> bool:
    return tuple(words[i : i + len(phrase)]) == phrase


def _near(positions_a: list[int], positions_b: list[int], distance: int) -> bool:
    # Both lists are in order, so one merge pass suffices.
    i = j = 0
    while i < len(positions_a) and j < len(positions_b):
        if abs(positions_a[i] - positions_b[j]) <= distance:
            return True
        if positions_a[i] < positions_b[j]:
            i += 1
        else:
            j += 1
    return False


def detect_signals(text: str) -> set[str]:
    """The FOI signal codes a post carries; none for praise or neutral news."""
    words = _words(text or "")
    found: set[str] = set()
    reviews, asks, complaints, regulators = [], [], [], []
    for i, word in enumerate(words):
        for code, table in _TABLES.items():
            if code in found:
                continue
            for phrase, negatable in table.get(word, ()):
                if _starts_at(words, i, phrase) and not (negatable and _negated(words, i)):
                    found.add(code)
                    break
        if word == "review" and not _negated(words, i):
            if i > 0 and words[i - 1] == "internal":
                reviews.append(i)
            elif any(w in _REVIEW_VERBS for w in words[max(0, i - 4) : i]):
                # A bare "review" counts only when asked for: "requested a review".
                found.add(INTERNAL_REVIEW)
        if word in _REVIEW_ASK:
            asks.append(i)
        if word in _COMPLAINT_VERBS and not _negated(words, i):
            complaints.append(i)
        for phrase in _COMPLAINT_PHRASE_WORDS:
            if _starts_at(words, i, phrase) and not _negated(words, i):
                complaints.append(i)
        for phrase in _REGULATOR_WORDS:
            if _starts_at(words, i, phrase):
                regulators.append(i)
                break
    if reviews and _near(reviews, asks, 6):
        found.add(INTERNAL_REVIEW)
    if complaints and regulators and _near(sorted(complaints), regulators, 6):
        found.add(REGULATOR_COMPLAINT)
    return found
