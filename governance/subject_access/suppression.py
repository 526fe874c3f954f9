"""Not collecting an erased person's posts again: a list of keyed hashes of their handles.

Erasing someone's data (subject_erase) also lists them here unless the admin chooses
otherwise, so the saved searches do not collect their next post the same afternoon.
The list holds HMAC-SHA256 digests of (platform, case-folded handle) under a key derived
from SECRET_KEY, never the handle: like the erasure record, it outlives the data and
must not hold it again. Ingest hashes each post's author the same way and skips listed
authors, counting them without naming them. An admin who is asked to collect a person
again types the handle, and its digest is removed.

Rotating SECRET_KEY changes every digest: the list then no longer matches anyone (the
README says so) and erasures must be listed again.
"""

from django.db import transaction
from django.utils.crypto import salted_hmac

from governance.models import SuppressedAuthor
from governance.services import audit_event_record
from listening.query.prepared import handle_key

_SALT = "earshot.governance.subject_access.suppression"


def author_digest(platform: str, handle: str) -> str:
    """The keyed hash ingest and the list compare: platform and case-folded handle."""
    return salted_hmac(_SALT, f"{platform}\n{handle_key(handle)}", algorithm="sha256").hexdigest()


def suppression_add(*, platform: str, handle: str, erasure=None) -> bool:
    """List the author (inside the caller's transaction); False if they were listed already."""
    _, created = SuppressedAuthor.objects.get_or_create(
        platform=platform, digest=author_digest(platform, handle), defaults={"erasure": erasure}
    )
    return created


def is_suppressed(platform: str, handle: str) -> bool:
    return SuppressedAuthor.objects.filter(platform=platform, digest=author_digest(platform, handle)).exists()


def suppression_remove(*, platform: str, handle: str, reason: str, actor, ip: str | None = None) -> bool:
    """Collect the author's posts again; False if they were not listed. Audited, without the handle."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValueError("Give the reason their posts may be collected again.")
    if len(reason) > 300:
        raise ValueError("The reason can be at most 300 characters. Nothing was changed.")
    if handle_key(handle) and handle_key(handle) in handle_key(reason):
        raise ValueError("Leave the handle out of the reason: the audit log keeps it.")
    with transaction.atomic():
        deleted, _ = SuppressedAuthor.objects.filter(platform=platform, digest=author_digest(platform, handle)).delete()
        if deleted:
            audit_event_record(action="subject.collect_again", actor=actor, ip=ip,
                               details={"platform": platform, "reason": reason})
    return bool(deleted)


def suppressed_digests(platform: str) -> frozenset[str]:
    return frozenset(SuppressedAuthor.objects.filter(platform=platform).values_list("digest", flat=True))
