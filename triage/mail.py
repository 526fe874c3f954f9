"""Building the emails Earshot sends, and saying where they go.

Post text is attacker-controlled. Both parts are escaped: the HTML part by Django's
autoescaping, the plain-text part by `plain_escaped` (markup characters escaped, control
characters dropped), so neither a mail client that renders text as HTML nor one that
renders the HTML runs anything a poster wrote. The HTML part has inline styles only: no
remote images, no tracking pixels, no redirecting links.
"""

import re

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def plain_escaped(text: str) -> str:
    text = _CONTROL.sub("", text or "")
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def header_safe(text: str, limit: int = 150) -> str:
    """One line for a Subject header: no line breaks (header injection), no control characters."""
    text = " ".join(_CONTROL.sub("", text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def absolute_url(path: str) -> str:
    return f"{settings.EARSHOT_BASE_URL}{path}"


def message_build(*, subject: str, to: str, template: str, context: dict) -> EmailMultiAlternatives:
    """A multipart message from templates/triage/email/<template>.txt and .html."""
    context = {**context, "base_url": settings.EARSHOT_BASE_URL}
    text = render_to_string(f"triage/email/{template}.txt", context)
    html = render_to_string(f"triage/email/{template}.html", context)
    message = EmailMultiAlternatives(
        subject=header_safe(subject), body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(html, "text/html")
    return message


def mail_destination() -> str:
    """Where mail goes, in words, for the pages that send it."""
    backend = settings.EMAIL_BACKEND.rsplit(".", 2)[-2]
    if backend == "smtp":
        return f"the SMTP server at {settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    if backend == "filebased":
        return f"files in {settings.EMAIL_FILE_PATH} (EMAIL_URL=file://…; no mail leaves this machine)"
    if backend == "console":
        return "the Celery worker's console output (EMAIL_URL=console://; no mail leaves this machine)"
    if backend == "locmem":
        return "memory only (EMAIL_URL=memory://; nothing is delivered)"
    return settings.EMAIL_BACKEND
