"""Rendering attacker-controlled post content safely.

Every piece of post text goes through `escape`; the only markup added is <mark>
around matched spans and <a> for http(s) links.
"""

from urllib.parse import urlsplit

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

register = template.Library()


def _merged(spans, length: int) -> list[tuple[int, int]]:
    cleaned = sorted(
        (max(0, int(start)), min(length, int(end)))
        for start, end in (spans or [])
        if int(end) > int(start)
    )
    merged: list[list[int]] = []
    for start, end in cleaned:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged if s < e]


@register.simple_tag
def highlighted(text: str, hits, field: str = "text"):
    """`text` escaped, with the spans every hit matched in `field` wrapped in <mark>."""
    text = text or ""
    spans = []
    for hit in hits or ():
        spans.extend((hit.spans or {}).get(field, ()))
    out, cursor = [], 0
    for start, end in _merged(spans, len(text)):
        out.append(escape(text[cursor:start]))
        out.append(format_html("<mark>{}</mark>", text[start:end]))
        cursor = end
    out.append(escape(text[cursor:]))
    return mark_safe("".join(str(part) for part in out))


@register.filter
def is_web_link(url: str) -> bool:
    try:
        return urlsplit(url or "").scheme.lower() in ("http", "https")
    except ValueError:
        return False


@register.simple_tag
def web_link(url: str, label: str = ""):
    """An <a> for http(s) URLs; anything else (javascript:, data:, …) as inert text."""
    label = label or url
    if is_web_link(url):
        return format_html('<a href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a>', url, label)
    return format_html('<span class="inert-link">{}</span>', label)


@register.simple_tag
def highlighted_spans(text: str, spans: dict, field: str = "text"):
    """As `highlighted`, from one spans mapping ({"text": [...], "title": [...]})."""

    class _Hit:
        def __init__(self, spans):
            self.spans = spans

    return highlighted(text, [_Hit(spans)], field)


@register.inclusion_tag("triage/_spike_banner.html")
def spike_banner(team):
    """The team's undismissed spike alerts of the last day, on every team page."""
    from datetime import timedelta

    from django.utils import timezone

    from triage.models import SpikeAlert

    alerts = list(
        SpikeAlert.objects.filter(team=team, dismissed_at__isnull=True, created_at__gte=timezone.now() - timedelta(days=1))
        .select_related("saved_search").order_by("-id")[:3]
    )
    return {"alerts": alerts, "team": team}
