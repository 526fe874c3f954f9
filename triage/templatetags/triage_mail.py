from django import template

from triage.mail import _CONTROL, plain_escaped

register = template.Library()


@register.filter
def plain(text) -> str:
    """Post text for a plain-text email part: markup escaped, control characters dropped."""
    return plain_escaped(str(text) if text is not None else "")


@register.filter
def clean(text) -> str:
    """Control characters dropped; the HTML part's autoescaping does the rest."""
    return _CONTROL.sub("", str(text) if text is not None else "")
