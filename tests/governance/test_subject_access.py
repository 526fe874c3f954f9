"""Subject access by handle: the search finds what Earshot holds about a person, the summary page shows it escaped,
and the export is a zip of JSON and CSV whose audit row never names them."""

import csv
import io
import json
import zipfile

import pytest
from django.urls import reverse

from governance.models import AuditEvent
from governance.subject_access import Subject, SubjectError, subject_access_find, subject_from
from tests.governance.conftest import HANDLE, NAME

pytestmark = pytest.mark.django_db

URL = reverse("governance:subject_access")
WHO = {"platform": "x", "handle": f"@{HANDLE.upper()}", "name": NAME.lower()}


@pytest.fixture
def as_admin(client, admin_user):
    client.force_login(admin_user)
    return client


def test_it_finds_their_posts_posts_that_mention_them_and_the_notes_that_name_them(person):
    found = subject_access_find(Subject(platform="x", handle=HANDLE, name=NAME))
    assert {m.pk for m in found.written} == {m.pk for m in person.written}
    assert {m.pk for m in found.about} == {m.pk for m in person.about}
    assert person.unrelated.pk not in {m.pk for m in found.about}
    assert {c.pk for c in found.cases} == {person.case.pk, person.other_case.pk}
    assert {c.pk for c in found.circulations} == {person.circulation.pk}
    assert len(found.items) == 3 and len(found.signals) == 1 and len(found.watch_list_members) == 1
    # Their two decided posts, and the complaint whose note names them.
    assert len(found.decisions) == 3
    tables = {t.label for t in found.other_text}
    assert tables == {"triage.SpikeAlert", "foi_monitoring.ReviewDecision", "listening.HarvestRun",
                      "listening.WatchList", "admin.LogEntry"}


def test_without_the_name_it_misses_posts_that_only_use_the_name(person):
    found = subject_access_find(Subject(platform="x", handle=HANDLE))
    assert {m.pk for m in found.about} == {person.about[0].pk}


def test_a_handle_inside_a_longer_word_or_on_another_platform_is_someone_else(make_mention, db):
    longer = make_mention(platform="x", author_handle=f"{HANDLE}9", text=f"I am @{HANDLE}9, not the other one")
    elsewhere = make_mention(platform="mastodon", author_handle=HANDLE, text="Same name, another network")
    found = subject_access_find(Subject(platform="x", handle=HANDLE))
    assert found.total == 0, (longer, elsewhere)


@pytest.mark.parametrize("data, message", [
    ({"platform": "", "handle": HANDLE}, "Choose the platform"),
    ({"platform": "myspace", "handle": HANDLE}, "Choose the platform"),
    ({"platform": "x", "handle": "  @ "}, "Give the person's handle"),
    ({"platform": "x", "handle": "ab"}, "shorter than 3"),
    ({"platform": "x", "handle": "a b c"}, "letters, digits"),
    ({"platform": "x", "handle": "<script>"}, "letters, digits"),
    ({"platform": "x", "handle": "a" * 201}, "at most 200"),
    ({"platform": "x", "handle": HANDLE, "name": "Jo"}, "shorter than 3"),
])
def test_it_refuses_a_request_it_cannot_search_with_a_message(data, message):
    with pytest.raises(SubjectError, match=message):
        subject_from(data)


def test_the_summary_page_shows_counts_and_content_escaped(as_admin, person, make_mention):
    make_mention(platform="x", author_handle=HANDLE, text="<script>alert('owned')</script> the ICO")
    response = as_admin.post(URL, WHO)
    body = response.content.decode()
    assert response.status_code == 200
    assert f"What Earshot holds about @{HANDLE.upper()}" in body
    assert "<script>alert(" not in body and "&lt;script&gt;alert(" in body
    assert "Posts they wrote (4)" in body and "Posts that mention them (2)" in body
    assert person.case.reference in body and f"Acknowledged to @{HANDLE}" in body
    # The page gives its actions the person by POST only: no link carries the handle.
    assert "?handle=" not in body and "&amp;handle=" not in body


def test_a_bad_search_comes_back_with_the_message_and_changes_nothing(as_admin, person):
    before = AuditEvent.objects.count()
    response = as_admin.post(URL, {"platform": "x", "handle": "a b"})
    assert response.status_code == 400 and "letters, digits" in response.content.decode()
    assert AuditEvent.objects.count() == before


def test_the_export_is_a_zip_of_json_and_csv_with_everything_found(as_admin, person, admin_user):
    response = as_admin.post(reverse("governance:subject_access_export"), WHO)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert HANDLE.lower() not in response["Content-Disposition"].lower()
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    assert {"README.txt", "everything.json", "written.csv", "about.csv", "cases.csv", "circulations.csv",
            "signals.csv", "watch_list_members.csv", "decisions.csv", "other_text.csv"} <= names
    everything = json.loads(archive.read("everything.json"))
    assert everything["summary"]["counts"]["written"] == 3
    assert {m["text"] for m in everything["written"]} == {m.text for m in person.written}
    case = next(c for c in everything["cases"] if c["reference"] == person.case.reference)
    assert [e["note"] for e in case["history"] if e["action"] == "note"] == [f"Acknowledged to @{HANDLE}"]
    assert everything["written"][0]["raw"]["author"]["username"] == HANDLE
    rows = list(csv.DictReader(io.StringIO(archive.read("written.csv").decode())))
    assert len(rows) == 3 and {r["author_handle"] for r in rows} == {HANDLE}
    assert json.loads(rows[0]["raw"])["author"]["id"] == "99"


def test_the_export_is_audited_without_the_handle_or_the_name(as_admin, person, admin_user):
    as_admin.post(reverse("governance:subject_access_export"), WHO)
    event = AuditEvent.objects.get(action="subject_access.export")
    assert event.actor == admin_user and event.details["platform"] == "x"
    assert event.details["counts"]["written"] == 3
    stored = (json.dumps(event.details) + event.object_repr).lower()
    assert HANDLE.lower() not in stored and NAME.lower() not in stored


def test_csv_cells_that_look_like_formulas_are_defused(as_admin, make_mention, db):
    make_mention(platform="x", author_handle=HANDLE, text='=HYPERLINK("https://evil.invalid")')
    response = as_admin.post(reverse("governance:subject_access_export"), WHO)
    rows = list(csv.DictReader(io.StringIO(zipfile.ZipFile(io.BytesIO(response.content)).read("written.csv").decode())))
    assert rows[0]["text"].startswith("'=")


def test_nothing_but_an_admin_gets_in(client, comms_officer, foi_member, person):
    for user in (comms_officer, foi_member):
        client.force_login(user)
        for name in ("subject_access", "subject_access_export", "erasure_preview", "erasure"):
            assert client.post(reverse(f"governance:{name}"), {**WHO, "confirm": "erase"}).status_code == 403
        assert client.get(URL).status_code == 403
    assert not AuditEvent.objects.filter(action__in=("subject_access.export", "subject.erase")).exists()


def test_a_search_that_runs_too_long_is_stopped_with_a_message(as_admin, monkeypatch, db):
    from governance.subject_access import finding
    from listening.models import Mention

    Mention.objects.bulk_create(
        Mention(platform="x", external_id=f"bulk-{n}", author_handle=f"user{n}", text="the ICO " * 50,
                raw={"text": "the ICO " * 50, "n": n})
        for n in range(5000)
    )
    monkeypatch.setattr(finding, "STATEMENT_TIMEOUT_MS", 1)
    response = as_admin.post(URL, WHO)
    assert response.status_code == 400 and "was stopped" in response.content.decode()
