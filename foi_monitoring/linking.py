"""Which public authorities a post is about: `find_authorities(text, links=(), mentions=())`.

One Aho-Corasick automaton holds every name form of every active authority in the
register; a post's text is read once, whatever the register's size. It is rebuilt
when the register changes: the cache is keyed by a stamp (how many authorities, the
newest id, the newest change), read with one small query per call.

Name forms are the official name, the register's aliases, and the forms people write,
generated from the official name and the authority's type ("Lewisham Council",
"London Borough of Lewisham", "LB Lewisham", "Kent County Council", "Edinburgh City
Council"). A bare place name is never a form: "Lewisham", "Manchester" or "Kent" name
a place, not a council, so an alias without a word such as council, borough or
authority is left out. Matching is case-insensitive (acronyms such as "DVLA" excepted),
on word boundaries; where matches overlap the longest wins, so "Nottinghamshire
County Council" is never "Nottingham City Council", and "West Lancashire Borough
Council" never "Lancashire".

Handles (in the post's `mentions`, or written as @handle) and web domains (in its
links, or written in the text) count for more than names. Authorities are ranked by
the weight of their evidence, then by where they are first named.
"""

import re
import threading
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import urlsplit

import ahocorasick
from django.db.models import Count, Max, Q

from foi_monitoring.models import PublicAuthority

# Evidence weights: a handle is chosen by the writer, a link points at the body itself.
HANDLE_WEIGHT = 5.0
DOMAIN_LINK_WEIGHT = 4.0
OFFICIAL_WEIGHT = 3.0
FORM_WEIGHT = 3.0  # a written form names the body as surely as its official name
DOMAIN_TEXT_WEIGHT = 2.5
ACRONYM_WEIGHT = 2.0

# An alias must carry one of these words to be more than a place name.
INSTITUTION_WORDS = frozenset(
    "council borough corporation authority comhairle cyngor cyngor commission commissioner board trust service "
    "office agency police constabulary university college school academy department ministry executive "
    "committee tribunal ombudsman inspectorate assembly parliament government nhs hospital".split()
)
# The regulator watches the others: naming it ("complained to the ICO") is not about an authority.
REGULATOR_NAMES = frozenset({"information commissioner's office", "scottish information commissioner", "ico"})
# Hosts shared by many bodies say nothing about which one is meant.
GENERIC_DOMAINS = frozenset({"gov.uk", "nhs.uk", "ac.uk", "sch.uk", "gov.scot", "gov.wales", "org.uk", "co.uk"})

_NORMALISE = str.maketrans({"-": " ", "\u2010": " ", "\u2011": " ", "\u2013": " ", "\u2019": "'", "\u2018": "'",
                            "\t": " ", "\n": " ", "\r": " ", "\u00a0": " "})
_HANDLE_IN_TEXT = re.compile(r"(?<![\w@])@([A-Za-z0-9_][A-Za-z0-9_.]{0,99})")
_URL_IN_TEXT = re.compile(r"https?://([^\s/?#<>\"']{1,253})", re.IGNORECASE)
_ACRONYM = re.compile(r"^[A-Z][A-Za-z&+]{1,11}$")


def normalise(text: str) -> str:
    """Lower case with dashes as spaces and one apostrophe, keeping every character's position."""
    lowered = text.lower()
    if len(lowered) != len(text):
        # A few characters grow when lowered (İ); keep those as they are, so positions hold.
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    return lowered.translate(_NORMALISE)


def _spaced(form: str) -> str:
    return " ".join(form.split())


def _is_institutional(form: str) -> bool:
    words = set(re.findall(r"[a-z]+", normalise(form)))
    return bool(words & INSTITUTION_WORDS) or normalise(form).startswith(("lb ", "rb "))


def name_forms(authority: PublicAuthority) -> list[tuple[str, float, bool]]:
    """(form, weight, case-sensitive) for every way of writing this authority's name."""
    official = _spaced(authority.name)
    forms: list[tuple[str, float, bool]] = [(official, OFFICIAL_WEIGHT, False)]
    bracketed = re.match(r"^(.+?)\s*\(([^()]+)\)$", official)
    if bracketed:
        # "Metropolitan Police Service (MPS)": the name, and the acronym on its own.
        official = bracketed.group(1)
        forms.append((official, OFFICIAL_WEIGHT, False))
        if _ACRONYM.match(bracketed.group(2)) and len(bracketed.group(2)) >= 3:
            forms.append((bracketed.group(2), ACRONYM_WEIGHT, True))
    place = _spaced(authority.short_name)
    if authority.code and place and not _is_institutional(place):
        forms += [(f, FORM_WEIGHT, False) for f in _council_forms(official, place, authority.authority_type)]
    elif place and _ACRONYM.match(place) and sum(c.isupper() for c in place) >= 2 and len(place) >= 3:
        forms.append((place, ACRONYM_WEIGHT, True))
    elif place and _is_institutional(place):
        forms.append((place, FORM_WEIGHT, False))
    for alias in authority.aliases:
        alias = _spaced(alias)
        if _is_institutional(alias):
            forms.append((alias, FORM_WEIGHT, False))
        elif _ACRONYM.match(alias) and sum(c.isupper() for c in alias) >= 2 and len(alias) >= 3:
            forms.append((alias, ACRONYM_WEIGHT, True))
    expanded = []
    for form, weight, exact in forms:
        expanded.append((form, weight, exact))
        lowered = form.lower()
        if lowered.startswith("the "):
            expanded.append((form[4:], weight, exact))
        if " and " in lowered:
            expanded.append((re.sub(" and ", " & ", form, flags=re.IGNORECASE), weight, exact))
        if "'" in form or "\u2019" in form:
            expanded.append((form.replace("'", "").replace("\u2019", ""), weight, exact))
    return [(f, w, e) for f, w, e in expanded if normalise(f) not in REGULATOR_NAMES]


def _council_forms(official: str, place: str, kind: str) -> list[str]:
    """The forms people write for a local authority, from its official name and type."""
    kind = kind.lower()
    forms = [f"{place} Council"]
    match = re.match(r"^(?:the )?city of (.+?) council$", official, re.IGNORECASE)
    if match:
        forms += [f"{match.group(1)} City Council", f"{match.group(1)} Council", f"City of {match.group(1)} Council"]
    if official.lower().endswith(" city council"):
        forms.append(f"City of {place} Council")
    if kind == "london borough":
        royal = official.lower().startswith("royal borough")
        prefix = "RB" if royal else "LB"
        long_prefix = "Royal Borough of" if royal else "London Borough of"
        forms += [f"{long_prefix} {place}", f"{prefix} {place}", f"{prefix} of {place}", f"{place} Borough Council",
                  f"{place} London Borough Council", f"{long_prefix} {place} Council"]
    elif kind == "county":
        forms.append(f"{place} County Council")
    elif kind == "metropolitan district":
        forms += [f"{place} Metropolitan Borough Council", f"{place} MBC", f"{place} Metropolitan District Council"]
    elif kind == "welsh unitary authority":
        forms += [f"{place} County Borough Council", f"{place} County Council"]
    elif kind == "scottish unitary authority":
        forms.append(f"The {place} Council")
    return forms


@dataclass
class _Entry:
    authority_id: int
    weight: float
    exact: str | None  # the form as written, when it must match case-sensitively
    kind: str  # "name" or "domain"


class Linker:
    """The automaton over one state of the register, plus its handle and domain maps."""

    def __init__(self, authorities: list[PublicAuthority]):
        self.authorities = {a.id: a for a in authorities}
        by_form: dict[str, dict[int, _Entry]] = defaultdict(dict)
        official: dict[str, set[int]] = defaultdict(set)
        for authority in authorities:
            official[normalise(_spaced(authority.name))].add(authority.id)
            for form, weight, exact in name_forms(authority):
                key = normalise(form)
                if len(key.strip()) < 3:
                    continue
                current = by_form[key].get(authority.id)
                if current is None or current.weight < weight:
                    by_form[key][authority.id] = _Entry(authority.id, weight, form if exact else None, "name")
        # A form several authorities share is the official name's owner's, if one has it as its name.
        for key, entries in by_form.items():
            owners = official.get(key, set()) & set(entries)
            if len(entries) > 1 and owners:
                by_form[key] = {i: e for i, e in entries.items() if i in owners}

        domain_owners: dict[str, set[int]] = defaultdict(set)
        self.handles: dict[str, set[int]] = defaultdict(set)
        for authority in authorities:
            for domain in authority.web_domains:
                domain = domain.strip().lower().removeprefix("www.")
                if domain and domain not in GENERIC_DOMAINS:
                    domain_owners[domain].add(authority.id)
            for _platform, handle in authority.handle_list():
                self.handles[handle.lower()].add(authority.id)
        self.domains = {}
        for domain, ids in domain_owners.items():
            # A council's site shared with its own boards and homes is the council's.
            councils = [i for i in ids if self.authorities[i].code]
            if len(ids) == 1 or len(councils) == 1:
                self.domains[domain] = councils[0] if len(councils) == 1 else next(iter(ids))
        for domain, authority_id in self.domains.items():
            by_form[normalise(domain)].setdefault(authority_id, _Entry(authority_id, DOMAIN_TEXT_WEIGHT, None, "domain"))

        self.automaton = ahocorasick.Automaton()
        for key, entries in by_form.items():
            if entries:
                self.automaton.add_word(key, (len(key), tuple(entries.values())))
        if len(self.automaton):
            self.automaton.make_automaton()

    def _name_matches(self, text: str) -> list[tuple[int, int, tuple]]:
        if not text or not len(self.automaton):
            return []
        haystack = normalise(text)
        found = []
        for end, (length, entries) in self.automaton.iter(haystack):
            start = end - length + 1
            before = haystack[start - 1] if start > 0 else " "
            after = haystack[end + 1] if end + 1 < len(haystack) else " "
            is_domain = entries[0].kind == "domain"
            if before.isalnum() or (before == "." and not is_domain) or before in "@_":
                continue
            if after.isalnum() or after in "_":
                continue
            if after == "'" and haystack[end + 2 : end + 3].isalpha() and not haystack[end + 2 : end + 3] == "s":
                continue
            entries = tuple(e for e in entries if e.exact is None or text[start : end + 1] == e.exact)
            if entries:
                found.append((start, end + 1, entries))
        # Longest first; a match inside (or across) a longer one is dropped. The characters
        # already taken are marked, so a post repeating a name costs its length times the
        # longest name, not the square of its matches.
        found.sort(key=lambda m: (-(m[1] - m[0]), m[0]))
        taken = bytearray(len(haystack) + 1)
        kept = []
        for start, end, entries in found:
            if any(taken[start:end]):
                continue
            taken[start:end] = b"\x01" * (end - start)
            kept.append((start, end, entries))
        return kept

    def find(self, text: str, links=(), mentions=()) -> list[PublicAuthority]:
        score: dict[int, float] = defaultdict(float)
        first: dict[int, int] = {}

        def credit(authority_id: int, weight: float, position: int) -> None:
            score[authority_id] += weight
            first[authority_id] = min(first.get(authority_id, position), position)

        text = text or ""
        for start, _end, entries in self._name_matches(text):
            for entry in entries:
                credit(entry.authority_id, entry.weight, start)
        handles = [(str(h).strip().lstrip("@").lower(), -1) for h in mentions or ()]
        handles += [(m.group(1).rstrip(".").lower(), m.start()) for m in _HANDLE_IN_TEXT.finditer(text)]
        seen_handles = set()
        for handle, position in handles:
            if handle in seen_handles:
                continue
            seen_handles.add(handle)
            for authority_id in self.handles.get(handle, ()):
                credit(authority_id, HANDLE_WEIGHT, position)
        hosts = [(_host(link), -1) for link in links or ()]
        hosts += [(_host("http://" + m.group(1)), m.start()) for m in _URL_IN_TEXT.finditer(text)]
        seen_hosts = set()
        for host, position in hosts:
            if not host or host in seen_hosts:
                continue
            seen_hosts.add(host)
            authority_id = self._domain_owner(host)
            if authority_id is not None:
                credit(authority_id, DOMAIN_LINK_WEIGHT, position)
        ranked = sorted(score, key=lambda i: (-score[i], first[i], self.authorities[i].name))
        return [self.authorities[i] for i in ranked]

    def _domain_owner(self, host: str) -> int | None:
        # foi.lewisham.gov.uk belongs to lewisham.gov.uk: try each parent in turn.
        parts = host.split(".")
        for i in range(len(parts) - 1):
            owner = self.domains.get(".".join(parts[i:]))
            if owner is not None:
                return owner
        return None


def _host(link) -> str:
    link = str(link or "").strip()
    if not link:
        return ""
    if "//" not in link:
        link = "http://" + link
    try:
        host = (urlsplit(link).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""
    return host.removeprefix("www.")


_lock = threading.Lock()
_cached: tuple[tuple, Linker] | None = None


def register_stamp() -> tuple:
    stamp = PublicAuthority.objects.aggregate(
        n=Count("id"), active=Count("id", filter=Q(active=True)), top=Max("id"), changed=Max("updated_at")
    )
    return (stamp["n"], stamp["active"], stamp["top"], stamp["changed"])


def current_linker() -> Linker:
    """The automaton for the register as it is now, rebuilt only when its stamp moved."""
    global _cached
    stamp = register_stamp()
    cached = _cached
    if cached is not None and cached[0] == stamp:
        return cached[1]
    with _lock:
        if _cached is not None and _cached[0] == stamp:
            return _cached[1]
        linker = Linker(list(PublicAuthority.objects.filter(active=True)))
        _cached = (stamp, linker)
        return linker


def find_authorities(text: str, links=(), mentions=()) -> list[PublicAuthority]:
    """The public authorities a post is about, most confident first."""
    return current_linker().find(text or "", links=links, mentions=mentions)
