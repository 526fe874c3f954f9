"""Who a subject access request is about, and how Earshot recognises them in stored text.

A person is named by a platform and a handle, and optionally a display name. Text
refers to them where the handle (with or without its @) or the name stands as a
whole word, in any case: "@Alice_B," does, "malice_bot" does not. PostgreSQL only
narrows the rows (a case-insensitive substring); this module's pattern decides, so
the search, the export and the erasure agree on every row.
"""

import re
from dataclasses import dataclass

from django.db.models import Field, JSONField, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.contrib.postgres.fields import ArrayField

from listening.models import Platform

HANDLE_MIN, HANDLE_MAX = 3, 200
NAME_MIN, NAME_MAX = 3, 300
# A handle is letters, digits and the punctuation platforms use: alice_b, alice.bsky.social, alice@mastodon.social.
HANDLE_RE = re.compile(r"^[\w.\-@:]+$")
# Rows PostgreSQL may hand over per table before the search gives up: a handle that
# common is a word, not a person, and matching it would touch unrelated posts.
CANDIDATES_MAX = 20_000


class SubjectError(ValueError):
    """The request cannot be searched as given; the message says why."""


@dataclass(frozen=True)
class Subject:
    platform: str
    handle: str
    name: str = ""

    @property
    def platform_label(self) -> str:
        return Platform(self.platform).label

    @property
    def author_key(self) -> str:
        """How FOI monitoring names the author of a signal (foi_monitoring.services.author_key)."""
        return f"{self.platform}:{self.handle.lower()}"[:230]


def subject_from(data) -> Subject:
    """A Subject from form data (platform, handle, name), or SubjectError with the first problem."""
    platform = (data.get("platform") or "").strip()
    handle = (data.get("handle") or "").strip().lstrip("@")
    name = " ".join((data.get("name") or "").split())
    if platform not in Platform.values:
        raise SubjectError("Choose the platform the handle is on.")
    if not handle:
        raise SubjectError("Give the person's handle.")
    if len(handle) > HANDLE_MAX:
        raise SubjectError(f"A handle is at most {HANDLE_MAX} characters.")
    if not HANDLE_RE.match(handle):
        raise SubjectError("A handle holds letters, digits and . _ - @ : only.")
    if len(handle) < HANDLE_MIN:
        raise SubjectError(f"A handle shorter than {HANDLE_MIN} characters would match too much to search for.")
    if name and len(name) > NAME_MAX:
        raise SubjectError(f"A display name is at most {NAME_MAX} characters.")
    if name and len(name) < NAME_MIN:
        raise SubjectError(f"A display name shorter than {NAME_MIN} characters would match too much to search for.")
    if name and not name.isprintable():
        raise SubjectError("The display name holds characters that cannot be searched for.")
    return Subject(platform=platform, handle=handle, name=name)


class Matcher:
    """Finds and blanks out a subject's handle and name in strings, lists and JSON values."""

    def __init__(self, subject: Subject):
        alternatives = ["@?" + re.escape(subject.handle)]
        if subject.name:
            alternatives.append(r"\s+".join(re.escape(word) for word in subject.name.split()))
        self.pattern = re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)
        self.needles = [subject.handle] + ([subject.name] if subject.name else [])

    def found(self, value) -> bool:
        if isinstance(value, str):
            return bool(self.pattern.search(value))
        if isinstance(value, list | tuple):
            return any(self.found(v) for v in value)
        if isinstance(value, dict):
            return any(self.found(k) or self.found(v) for k, v in value.items())
        return False

    def redact(self, value, marker: str):
        """`value` with every reference replaced by `marker`; JSON keeps its shape."""
        if isinstance(value, str):
            return self.pattern.sub(marker, value)
        if isinstance(value, list | tuple):
            return [self.redact(v, marker) for v in value]
        if isinstance(value, dict):
            return {self.redact(k, marker): self.redact(v, marker) for k, v in value.items()}
        return value

    def candidates(self, queryset: QuerySet, fields: list[str]) -> list:
        """The rows of `queryset` whose `fields` refer to the subject, checked by the pattern.

        PostgreSQL narrows by substring (JSON and array columns as their text), which
        finds every row the pattern could; more than CANDIDATES_MAX is refused.
        """
        model = queryset.model
        condition, annotations = Q(), {}
        for name in fields:
            field: Field = model._meta.get_field(name)
            lookup = name
            if isinstance(field, JSONField | ArrayField):
                lookup = f"_subject_text_{name}"
                annotations[lookup] = Cast(name, TextField())
            for needle in self.needles:
                condition |= Q(**{f"{lookup}__icontains": needle})
        rows = list(queryset.annotate(**annotations).filter(condition).order_by("pk")[: CANDIDATES_MAX + 1])
        if len(rows) > CANDIDATES_MAX:
            raise SubjectError(
                f"The handle or name appears in more than {CANDIDATES_MAX:,} {model._meta.verbose_name_plural}: "
                "it is too common to tell this person apart. Give the full handle."
            )
        return [row for row in rows if any(self.found(getattr(row, name)) for name in fields)]
