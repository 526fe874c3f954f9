"""Loading the public authority register: the bundled UK datasets, or an uploaded CSV.

The bundled data (foi_monitoring/data/, see SOURCES.md there) is mySociety's UK local
authorities, with every alternative spelling from its name lookup, and the
publicbodies list without its defunct rows. A publicbodies council that is one of
mySociety's authorities is merged into it (its name becomes an alias, its home page
a web domain) rather than made a second authority. Rows are keyed by `source_id`
(`mysociety:LEW`, `publicbodies:gb/...`), so importing again updates them in place.

An uploaded CSV is checked row by row; if any row is wrong, nothing is imported and
every row's errors are reported.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from foi_monitoring.models import PublicAuthority
from listening.models import Platform

DATA_DIR = Path(__file__).resolve().parent / "data"
LOCAL_AUTHORITIES = DATA_DIR / "uk_local_authorities_current.csv"
NAME_LOOKUP = DATA_DIR / "uk_local_authorities_name_lookup.csv"
PUBLIC_BODIES = DATA_DIR / "publicbodies_gb.csv"

CSV_MAX_BYTES = 2 * 1024 * 1024
CSV_MAX_ROWS = 10_000
CSV_COLUMNS = ("name", "short_name", "aliases", "handles", "web_domains", "authority_type", "nation", "region", "code", "active")
REQUIRED_COLUMNS = ("name",)

_COUNCIL_SUFFIX = re.compile(
    r"\s+(metropolitan borough|borough|district|city|county)?\s*council$", re.IGNORECASE
)
_DOMAIN = re.compile(r"^(?=.{1,200}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_HANDLE = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,20}$")
_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"0", "false", "no", "n"}


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, list[str]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def domain_of(url: str) -> str:
    """The host of a home page, without www., or "" when there is none."""
    url = (url or "").strip()
    if not url:
        return ""
    if "//" not in url:
        url = "http://" + url
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""
    if host.startswith("www."):
        host = host[4:]
    return host if _DOMAIN.match(host) else ""


def _unique(values) -> list[str]:
    seen, out = set(), []
    for value in values:
        value = " ".join(value.split())
        if value and value.lower() not in seen:
            seen.add(value.lower())
            out.append(value)
    return out


def bundled_rows() -> list[dict]:
    """The bundled register as field dicts, keyed by source_id."""
    lookup: dict[str, list[str]] = {}
    with NAME_LOOKUP.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            lookup.setdefault(row["local-authority-code"], []).append(row["la-name"])

    rows: dict[str, dict] = {}
    by_name: dict[str, str] = {}
    by_place: dict[str, list[str]] = {}
    with LOCAL_AUTHORITIES.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code = row["local-authority-code"].strip()
            source_id = f"mysociety:{code}"
            # alt-names is comma-separated but names hold commas ("Edinburgh, City of"): the lookup file is exact.
            alt = lookup.get(code, [])
            rows[source_id] = {
                "source_id": source_id,
                "code": code,
                "name": row["official-name"].strip(),
                "short_name": row["nice-name"].strip()[:120],
                "aliases": _unique(a for a in alt if a.strip().lower() != row["official-name"].strip().lower()),
                "web_domains": [],
                "authority_type": row["local-authority-type-name"].strip(),
                "nation": row["nation"].strip(),
                "region": row["region"].strip(),
                "active": row["current-authority"].strip() == "True",
            }
            for name in [row["official-name"], *alt]:
                by_name.setdefault(name.strip().lower(), source_id)
            by_place.setdefault(row["nice-name"].strip().lower(), []).append(source_id)

    with PUBLIC_BODIES.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            tags = row["tags"].split()
            if "defunct" in tags or not row["name"].strip():
                continue
            name = row["name"].strip()
            domain = domain_of(row["url"])
            abbreviation = row["abbreviation"].strip()
            if "local_council" in tags:
                place = _COUNCIL_SUFFIX.sub("", name).strip().lower()
                match = by_name.get(name.lower()) or (by_place[place][0] if len(by_place.get(place, [])) == 1 else None)
                if match:
                    merged = rows[match]
                    merged["aliases"] = _unique([*merged["aliases"], name] if name.lower() != merged["name"].lower() else merged["aliases"])
                    if domain and domain not in merged["web_domains"]:
                        merged["web_domains"].append(domain)
                    continue
            source_id = f"publicbodies:{row['id'].strip()}"[:200]
            rows[source_id] = {
                "source_id": source_id,
                "code": "",
                "name": name[:300],
                "short_name": abbreviation[:120] if abbreviation and len(abbreviation) <= 120 else "",
                "aliases": [],
                "web_domains": [domain] if domain else [],
                "authority_type": _body_type(tags),
                "nation": _body_nation(tags),
                "region": "",
                "active": True,
            }
    return list(rows.values())


_TYPE_TAGS = (
    ("local_council", "Local council"), ("parish_council", "Parish council"), ("town_council", "Town council"),
    ("nhstrust", "NHS trust"), ("nhsft", "NHS foundation trust"), ("nhs", "NHS body"), ("police", "Police"),
    ("fire_service", "Fire service"), ("university", "University"), ("fei", "Further education"),
    ("school", "School"), ("academies", "Academy"), ("executive_agency", "Executive agency"),
    ("advisory_committee", "Advisory committee"), ("idb", "Internal drainage board"), ("port_authority", "Port authority"),
)


def _body_type(tags: list[str]) -> str:
    for tag, label in _TYPE_TAGS:
        if tag in tags:
            return label
    return "Public body"


def _body_nation(tags: list[str]) -> str:
    for tag, nation in (("scotland", "Scotland"), ("wales", "Wales"), ("ni", "Northern Ireland"), ("england", "England")):
        if tag in tags:
            return nation
    return ""


@transaction.atomic
def register_upsert(rows: list[dict]) -> ImportResult:
    """Create or update authorities by source_id (else code, else exact name); never duplicates.

    Aliases, handles and domains that admins added are kept: imports add to them.
    """
    result = ImportResult()
    existing_by_source = {a.source_id: a for a in PublicAuthority.objects.exclude(source_id="")}
    existing_by_code = {a.code.upper(): a for a in PublicAuthority.objects.exclude(code="")}
    existing_by_name = {}
    for authority in PublicAuthority.objects.filter(source_id=""):
        existing_by_name.setdefault(authority.name.lower(), authority)
    now = timezone.now()
    to_create, to_update = [], []
    for row in rows:
        authority = (
            (row.get("source_id") and existing_by_source.get(row["source_id"]))
            or (row.get("code") and existing_by_code.get(row["code"].upper()))
            or existing_by_name.get(row["name"].lower())
        )
        if authority is None:
            authority = PublicAuthority(**{k: v for k, v in row.items() if k != "handles"}, handles=row.get("handles") or {})
            to_create.append(authority)
            result.created += 1
            continue
        before = _snapshot(authority)
        for key in ("name", "short_name", "authority_type", "nation", "region", "active"):
            if key in row:
                setattr(authority, key, row[key])
        if row.get("code"):
            authority.code = row["code"]
        if row.get("source_id") and not authority.source_id:
            authority.source_id = row["source_id"]
        authority.aliases = _unique([*authority.aliases, *row.get("aliases", [])])
        authority.web_domains = _unique([*authority.web_domains, *row.get("web_domains", [])])
        handles = dict(authority.handles) if isinstance(authority.handles, dict) else {}
        for platform, names in (row.get("handles") or {}).items():
            handles[platform] = _unique([*handles.get(platform, []), *names])
        authority.handles = handles
        if _snapshot(authority) != before:
            authority.updated_at = now
            to_update.append(authority)
            result.updated += 1
    PublicAuthority.objects.bulk_create(to_create, batch_size=1000)
    PublicAuthority.objects.bulk_update(
        to_update,
        ["name", "short_name", "authority_type", "nation", "region", "active", "code", "source_id", "aliases",
         "web_domains", "handles", "updated_at"],
        batch_size=1000,
    )
    return result


def _snapshot(a: PublicAuthority) -> tuple:
    return (a.name, a.short_name, a.authority_type, a.nation, a.region, a.active, a.code, a.source_id,
            tuple(a.aliases), tuple(a.web_domains), repr(a.handles))


def csv_rows(data: bytes) -> tuple[list[dict], list[tuple[int, list[str]]]]:
    """Parse and check an uploaded register CSV. Returns (rows, errors by line number).

    Columns: name (required), short_name, aliases and web_domains (separated by ";"),
    handles ("platform:handle" separated by ";"), authority_type, nation, region,
    code, active (yes/no, default yes).
    """
    if len(data) > CSV_MAX_BYTES:
        return [], [(0, [f"The file is larger than {CSV_MAX_BYTES // (1024 * 1024)} MB."])]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [(0, ["The file is not UTF-8 text."])]
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as error:
        return [], [(1, [f"The header cannot be read: {error}"])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if missing or unknown:
        problems = [f"Missing column {c!r}." for c in missing] + [f"Unknown column {h!r}." for h in unknown]
        return [], [(1, problems + [f"Columns: {', '.join(CSV_COLUMNS)}."])]
    reader.fieldnames = header
    rows, errors, codes = [], [], {}
    try:
        for line_number, raw in enumerate(reader, start=2):
            if line_number - 1 > CSV_MAX_ROWS:
                errors.append((line_number, [f"More than {CSV_MAX_ROWS:,} rows: split the file."]))
                break
            row, problems = _csv_row(raw)
            if row.get("code"):
                earlier = codes.setdefault(row["code"].upper(), line_number)
                if earlier != line_number:
                    problems.append(f"Code {row['code']!r} is also on line {earlier}.")
            if problems:
                errors.append((line_number, problems))
            else:
                rows.append(row)
    except csv.Error as error:
        errors.append((reader.line_num, [f"The CSV cannot be read here: {error}"]))
    if not rows and not errors:
        errors.append((0, ["The file has no rows."]))
    return rows, errors


def _split(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(";") if part.strip()]


def _csv_row(raw: dict) -> tuple[dict, list[str]]:
    problems = []
    if None in raw:
        problems.append("The row has more cells than the header.")
    get = lambda key: (raw.get(key) or "").strip()  # noqa: E731
    name = " ".join(get("name").split())
    if not name:
        problems.append("Name is empty.")
    elif len(name) > 300:
        problems.append("Name is longer than 300 characters.")
    row = {"name": name}
    for key, limit in (("short_name", 120), ("authority_type", 120), ("nation", 40), ("region", 80)):
        if get(key) and len(get(key)) > limit:
            problems.append(f"{key.replace('_', ' ').capitalize()} is longer than {limit} characters.")
        if key in raw:
            row[key] = get(key)
    code = get("code")
    if code and not _CODE.match(code):
        problems.append(f"Code {code[:30]!r} may hold only letters, digits, - and _ (20 at most).")
    row["code"] = code
    aliases = _split(get("aliases"))
    if any(len(a) > 300 for a in aliases):
        problems.append("An alias is longer than 300 characters.")
    row["aliases"] = aliases
    domains = []
    for value in _split(get("web_domains")):
        domain = value.lower().removeprefix("www.")
        if not _DOMAIN.match(domain):
            problems.append(f"{value[:60]!r} is not a web domain (like lewisham.gov.uk).")
        domains.append(domain)
    row["web_domains"] = domains
    handles: dict[str, list[str]] = {}
    for value in _split(get("handles")):
        platform, _, handle = value.partition(":")
        platform, handle = platform.strip().lower(), handle.strip().lstrip("@")
        if platform not in Platform.values:
            problems.append(f"{value[:60]!r}: write handles as platform:handle, platform one of {', '.join(Platform.values)}.")
        elif not _HANDLE.match(handle):
            problems.append(f"{value[:60]!r}: {handle[:40]!r} is not a handle.")
        else:
            handles.setdefault(platform, []).append(handle)
    row["handles"] = handles
    active = get("active").lower()
    if active and active not in _TRUE | _FALSE:
        problems.append(f"Active must be yes or no, not {active[:20]!r}.")
    if "active" in raw:
        row["active"] = active not in _FALSE
    return row, problems


def bundled_import() -> ImportResult:
    return register_upsert(bundled_rows())


def csv_import(data: bytes) -> ImportResult:
    """All of the file or none of it."""
    rows, errors = csv_rows(data)
    if errors:
        return ImportResult(errors=errors)
    return register_upsert(rows)
