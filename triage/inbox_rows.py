"""What one inbox row shows, worked out in Python so printing the row (inbox_row_html.py) only joins values.

Post content is attacker-controlled: every piece of it is escaped here; the only markup
added is <mark> around matched spans and search words, and <a> for http(s) links.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from listening.models import Platform
from triage.inbox_search import headline_spans
from triage.models import InformationRequestType, Outcome
from triage.templatetags.triage_tags import _merged, web_link

_PLATFORMS = dict(Platform.choices)
_OUTCOMES = dict(Outcome.choices)
_REQUEST_TYPES = dict(InformationRequestType.choices)
_URL_SLOT = "987654321"
_urls: dict[str, str] = {}


def _url(name: str, value) -> str:
    """reverse() once per URL name, then fill in the id: rows are built fifty at a time."""
    if name not in _urls:
        _urls[name] = reverse(name, args=[_URL_SLOT])
    return _urls[name].replace(_URL_SLOT, str(value), 1)


def _when(moment: datetime | None) -> tuple[str, str]:
    if moment is None:
        return "", ""
    local = timezone.localtime(moment)
    return local.isoformat(), f"{local.day} {local:%b %H:%M}"


def marked(text: str, hit_spans, found_spans) -> SafeString:
    """`text` escaped, saved-search spans in <mark>, searched words in <mark class="found">."""
    text = text or ""
    bounds = {0, len(text)}
    hits, found = _merged(hit_spans, len(text)), _merged(found_spans, len(text))
    for start, end in hits + found:
        bounds |= {start, end}
    points = sorted(bounds)
    segments: list[list] = []  # [kind, text]: kind "" (plain), "hit" or "found"
    for start, end in zip(points, points[1:]):
        if any(s <= start and end <= e for s, e in found):
            kind = "found"
        elif any(s <= start and end <= e for s, e in hits):
            kind = "hit"
        else:
            kind = ""
        if segments and segments[-1][0] == kind:
            segments[-1][1] += text[start:end]
        else:
            segments.append([kind, text[start:end]])
    out = []
    for kind, piece in segments:
        piece = escape(piece)
        out.append(f'<mark class="found">{piece}</mark>' if kind == "found" else f"<mark>{piece}</mark>" if kind == "hit" else piece)
    return mark_safe("".join(out))


_controls: list[SafeString] = []


def decide_controls() -> SafeString:
    """The outcome buttons and request-type choice every open row's form holds: the same markup for each."""
    if not _controls:
        buttons = "".join(
            format_html(
                '<button type="submit" name="outcome" value="{0}" data-outcome="{0}" class="outcome outcome-{0}">{1}</button>',
                value, label,
            )
            for value, label in Outcome.choices
        )
        options = "".join(format_html('<option value="{}">{}</option>', value, label) for value, label in InformationRequestType.choices)
        _controls.append(mark_safe(
            buttons + '<select name="request_type" aria-label="Type of information request"'
            ' title="Used when you choose Information request">' + options + "</select>"
        ))
    return _controls[0]


def _days_left(case) -> SafeString:
    """As templates/triage/_days_left.html, for a row."""
    if case.status == "waiting":
        return mark_safe('<span class="clock clock-stopped">clock stopped</span>')
    days = case.days_left
    if days is None:
        return mark_safe("")
    css = " clock-overdue" if days < 0 else " clock-soon" if days <= 5 else ""
    if days < 0:
        text = f"{-days} day{'' if -days == 1 else 's'} overdue"
    elif days == 0:
        text = "due today"
    else:
        text = f"{days} day{'' if days == 1 else 's'} left"
    return format_html('<span class="clock{}" title="Due {}">{}</span>', css, f"{case.due_date:%A} {case.due_date.day} {case.due_date:%B %Y}", text)


@dataclass(slots=True)
class InboxRow:
    id: int
    status: str
    author_name: str
    handle: str
    platform: str
    posted_iso: str
    posted_label: str
    search_names: list[str]
    title_html: SafeString
    text_html: SafeString
    links_html: SafeString
    detail_url: str
    decide_url: str
    circulate_url: str
    decision: dict | None = None
    case_reference: str = ""
    case_url: str = ""
    case_clock: SafeString = field(default_factory=lambda: mark_safe(""))
    item: object = None  # the InboxItem, for code that needs more than the row shows


def row_build(item) -> InboxRow:
    mention = item.mention
    hit_list = getattr(item, "hit_list", None) or []
    hit_spans = {"text": [], "title": []}
    for hit in hit_list:
        for name in ("text", "title"):
            hit_spans[name].extend((hit.get("spans") or {}).get(name, ()))
    found_text = headline_spans(mention.text or "", getattr(item, "found_text", None))
    found_title = headline_spans(mention.title or "", getattr(item, "found_title", None))
    links = [web_link(mention.url, "View original")] if mention.url else []
    links += [web_link(link) for link in mention.links or ()]
    posted_iso, posted_label = _when(mention.posted_at)
    row = InboxRow(
        id=item.id,
        status=item.status,
        author_name=mention.author_name,
        handle=mention.author_handle,
        platform=_PLATFORMS.get(mention.platform, mention.platform),
        posted_iso=posted_iso,
        posted_label=posted_label,
        search_names=[hit["name"] for hit in hit_list],
        title_html=marked(mention.title, hit_spans["title"], found_title) if mention.title else mark_safe(""),
        text_html=marked(mention.text, hit_spans["text"], found_text),
        links_html=mark_safe("".join(str(link) for link in links)),
        detail_url=_url("triage:item", item.id),
        decide_url=_url("triage:decide", item.id),
        circulate_url=_url("triage:circulate", item.id),
        item=item,
    )
    decision = getattr(item, "decision_json", None)
    if item.status == "done" and decision:
        at = datetime.fromisoformat(decision["at"]) if decision.get("at") else None
        row.decision = {
            "outcome": _OUTCOMES.get(decision["outcome"], decision["outcome"]),
            "request_type": _REQUEST_TYPES.get(decision.get("request_type") or "", ""),
            "by": decision.get("by") or "someone",
            "at": _when(at)[1],
            "note": decision.get("note") or "",
        }
    case = getattr(item, "case", None) if _has_case(item) else None
    if case is not None:
        row.case_reference, row.case_url, row.case_clock = case.reference, _url("triage:case", case.reference), _days_left(case)
    return row


def _has_case(item) -> bool:
    try:
        return item.case is not None
    except item._meta.get_field("case").related_model.DoesNotExist:
        return False
