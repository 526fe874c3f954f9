"""After an erasure, the person's posts are not collected again, unless an admin says so.

The list holds keyed hashes of handles, never a handle; ingest skips listed authors and
counts them without naming them."""

import re
from datetime import datetime, timezone

import pytest
from django.urls import reverse

from governance.models import AuditEvent, SuppressedAuthor
from governance.subject_access import Subject, subject_erase
from governance.subject_access import erasure_preview
from governance.subject_access.suppression import author_digest, suppression_add, suppression_remove
from listening.ingest import page_ingest
from listening.models import Mention, SavedSearch, SavedSearchPlatform
from listening.posts import Post
from tests.governance.conftest import HANDLE, NAME

pytestmark = pytest.mark.django_db

WHO = {"platform": "x", "handle": HANDLE, "name": NAME}


@pytest.fixture
def potholes(communications):
    search = SavedSearch.objects.create(team=communications, name="Potholes", query="pothole")
    SavedSearchPlatform.objects.create(saved_search=search, platform="x")
    return search


def _post(n: int, handle: str) -> Post:
    return Post(platform="x", external_id=f"nc-{n}", text=f"Another pothole on Mill Lane {n}", author_handle=handle,
                created_at=datetime(2026, 12, 1, 9, n, tzinfo=timezone.utc))


def _erase_with(client, stop: bool):
    preview = client.post(reverse("governance:erasure_preview"), WHO)
    assert preview.status_code == 200
    token = re.search(r'name="preview" value="([^"]+)"', preview.content.decode()).group(1)
    assert 'name="stop_collecting" value="1" checked' in preview.content.decode()
    data = {**WHO, "preview": token, "reason": "Request SAR-2026-041", "confirm": "erase"}
    if stop:
        data["stop_collecting"] = "1"
    return client.post(reverse("governance:erasure"), data)


def test_an_erasure_stops_collecting_their_posts_and_keeps_no_handle(client, admin_user, person, potholes):
    client.force_login(admin_user)
    assert _erase_with(client, stop=True).status_code == 302
    listed = SuppressedAuthor.objects.get()
    assert listed.platform == "x" and listed.erasure is not None
    assert HANDLE.lower() not in listed.digest.lower() and len(listed.digest) == 64
    assert AuditEvent.objects.get(action="subject.erase").details["collection_stopped"] is True

    # Any spelling of the handle is the same author; other people are still collected.
    result = page_ingest(platform="x", posts=[_post(1, HANDLE.upper()), _post(2, "@" + HANDLE), _post(3, "someone_else")])
    assert result.new == 1 and list(Mention.objects.filter(external_id__startswith="nc-").values_list(
        "author_handle", flat=True)) == ["someone_else"]
    assert result.skipped == ["Skipped 2 posts by people whose data was erased and who are not collected again"]
    assert HANDLE.lower() not in " ".join(result.skipped).lower()


def test_an_erasure_can_leave_collection_on(client, admin_user, person, potholes):
    client.force_login(admin_user)
    assert _erase_with(client, stop=False).status_code == 302
    assert not SuppressedAuthor.objects.exists()
    assert AuditEvent.objects.get(action="subject.erase").details["collection_stopped"] is False
    assert page_ingest(platform="x", posts=[_post(1, HANDLE)]).new == 1


def test_an_admin_collects_them_again_with_a_reason_that_does_not_name_them(client, admin_user, potholes):
    suppression_add(platform="x", handle=HANDLE)
    assert page_ingest(platform="x", posts=[_post(1, HANDLE)]).new == 0
    client.force_login(admin_user)
    page = client.post(reverse("governance:subject_access"), WHO).content.decode()
    assert "Their posts are not collected" in page and 'id="collect-again"' in page

    url = reverse("governance:collect_again")
    for reason in ("", f"{HANDLE.lower()} asked", "x" * 301):
        client.post(url, {**WHO, "reason": reason})
        assert SuppressedAuthor.objects.count() == 1, reason
    assert client.post(url, {**WHO, "reason": "They asked to be included (ref 41)"}).status_code == 302
    assert not SuppressedAuthor.objects.exists()
    event = AuditEvent.objects.get(action="subject.collect_again")
    assert event.actor == admin_user and HANDLE.lower() not in str(event.details).lower()
    assert page_ingest(platform="x", posts=[_post(1, HANDLE)]).new == 1
    assert "Their posts are not collected" not in client.post(reverse("governance:subject_access"), WHO).content.decode()


def test_the_list_is_per_platform_and_only_admins_change_it(client, comms_officer, potholes):
    suppression_add(platform="mastodon", handle=HANDLE)
    assert page_ingest(platform="x", posts=[_post(1, HANDLE)]).new == 1  # listed on Mastodon, not on X
    assert author_digest("x", HANDLE) != author_digest("mastodon", HANDLE)
    client.force_login(comms_officer)
    assert client.post(reverse("governance:collect_again"), {**WHO, "platform": "mastodon", "reason": "x"}).status_code == 403
    assert SuppressedAuthor.objects.count() == 1
    with pytest.raises(ValueError):
        suppression_remove(platform="mastodon", handle=HANDLE, reason=" ", actor=None)


def test_the_service_leaves_collection_on_when_asked(admin_user, person):
    subject = Subject(platform="x", handle=HANDLE, name=NAME)
    subject_erase(subject=subject, reason="Request SAR-2026-042", expected=erasure_preview(subject=subject),
                  actor=admin_user, stop_collecting=False)
    assert not SuppressedAuthor.objects.exists()
