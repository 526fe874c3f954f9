"""The retention page: policies with their last purges, a preview of a change, and saving it after re-authentication."""

import re

import pytest
from django.urls import reverse

from accounts import middleware
from accounts.reauth import NOT_DONE_MESSAGE
from governance.models import AuditEvent, PurgeRecord, RetentionPolicy
from governance.retention import describe_counts, retention_apply, retention_preview
from tests.governance.test_retention import policies, press, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db
Category = PurgeRecord.Category
UNTRIAGED = Category.UNTRIAGED_MENTIONS


@pytest.fixture
def clock(monkeypatch):
    moment = {"now": 1_800_000_000}
    monkeypatch.setattr(middleware, "now", lambda: moment["now"])
    return moment


@pytest.fixture
def as_admin(policies, client, admin_user, clock):
    client.force_login(admin_user)
    return client


def _preview_url(category=UNTRIAGED):
    return reverse("governance:retention_preview", kwargs={"category": category})


def _save_url(category=UNTRIAGED):
    return reverse("governance:retention_save", kwargs={"category": category})


def _days(category=UNTRIAGED) -> int:
    return RetentionPolicy.objects.get(category=category).days


def test_the_page_lists_every_policy_with_its_last_purge(as_admin, world):
    retention_apply(categories=[Category.HARVEST_RUNS], triggered_by="beat")
    page = as_admin.get(reverse("governance:retention")).content.decode()
    for category in RetentionPolicy.CATEGORIES:
        assert f'id="policy-{category.value}"' in page
    assert 'id="policy-foi_monitoring"' in page and "5 days after each review meeting" in page
    row = re.search(r'id="policy-harvest_runs".*?</tr>', page, re.S).group(0)
    assert "90 days" in row and "2 rows deleted" in row  # the old run and the stuck one
    assert "Retention policy: harvest runs kept 90 days" in page


def test_the_page_costs_a_fixed_number_of_queries(as_admin, world, django_assert_max_num_queries):
    for _ in range(3):
        retention_apply(triggered_by="beat")
    with django_assert_max_num_queries(12):
        assert as_admin.get(reverse("governance:retention")).status_code == 200


def test_the_preview_shows_what_the_new_days_would_delete_now(as_admin, world):
    expected = retention_preview(category=UNTRIAGED, days=100)
    response = as_admin.get(_preview_url(), {"days": "100"})
    page = response.content.decode()
    assert response.status_code == 200
    assert f"Kept 100 days, would delete now: {describe_counts(expected)}." in page
    assert "2 mentions" in page and "3 inbox items" in page
    assert 'name="confirm" value="save"' in page and 'name="days" value="100"' in page
    # Previewing changes nothing.
    assert _days() == 90 and not AuditEvent.objects.filter(action="retention.change").exists()
    # Then the purge deletes exactly that.
    as_admin.post(_save_url(), {"days": "100", "confirm": "save"})
    (result,) = retention_apply(categories=[UNTRIAGED]).categories
    assert result.counts == expected


def test_the_preview_answers_htmx_with_its_fragment(as_admin, world):
    response = as_admin.get(_preview_url(), {"days": "100"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and 'id="would-delete"' in body


def test_saving_changes_the_policy_and_audits_old_and_new_days(as_admin, world, admin_user):
    response = as_admin.post(_save_url(), {"days": "30", "confirm": "save"})
    assert response.status_code == 302 and response["Location"] == reverse("governance:retention")
    policy = RetentionPolicy.objects.get(category=UNTRIAGED)
    assert policy.days == 30 and policy.updated_by == admin_user
    event = AuditEvent.objects.get(action="retention.change")
    assert event.actor == admin_user and event.details == {"category": UNTRIAGED, "old_days": 90, "new_days": 30}
    assert "are now kept 30 days (were 90)" in as_admin.get(response["Location"]).content.decode()


def test_a_stale_save_changes_nothing_and_asks_for_the_password(as_admin, clock):
    clock["now"] += 11 * 60
    page = "http://testserver" + reverse("governance:retention")
    response = as_admin.post(_save_url(), {"days": "30", "confirm": "save"}, HTTP_REFERER=page)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:reauth"))
    assert _days() == 90 and not AuditEvent.objects.filter(action="retention.change").exists()
    assert NOT_DONE_MESSAGE in as_admin.get(response["Location"]).content.decode()
    as_admin.post(reverse("accounts:reauth"), {"password": "correct horse battery staple", "next": "/"})
    assert as_admin.post(_save_url(), {"days": "30", "confirm": "save"}).status_code == 302
    assert _days() == 30


@pytest.mark.parametrize("days", ["0", "-5", "36501", "99999999999999999999", "abc", "", "1.5", "1e3", "٣", " "])
def test_bad_days_get_a_clear_message_and_change_nothing(as_admin, days):
    before = AuditEvent.objects.count()
    saved = as_admin.post(_save_url(), {"days": days, "confirm": "save"})
    assert saved.status_code == 400
    assert "Give a whole number of days from 1 to 36,500" in saved.content.decode()
    assert "Nothing was changed" in saved.content.decode()
    previewed = as_admin.get(_preview_url(), {"days": days})
    assert previewed.status_code == 400 and "Give a whole number of days from 1 to 36,500" in previewed.content.decode()
    assert _days() == 90 and AuditEvent.objects.count() == before


def test_bad_days_in_an_htmx_preview_get_a_plain_refusal(as_admin):
    response = as_admin.get(_preview_url(), {"days": "0"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and response["Content-Type"].startswith("text/plain")
    assert "0 days is out of range. Give a whole number of days from 1 to 36,500." in response.content.decode()


def test_the_same_days_or_no_confirm_change_nothing(as_admin):
    same = as_admin.post(_save_url(), {"days": "90", "confirm": "save"})
    assert same.status_code == 400 and "already keeps 90 days" in same.content.decode()
    unconfirmed = as_admin.post(_save_url(), {"days": "30"})
    assert unconfirmed.status_code == 400 and unconfirmed["Content-Type"].startswith("text/plain")
    assert _days() == 90 and not AuditEvent.objects.filter(action="retention.change").exists()


def test_an_unknown_category_is_not_found(as_admin):
    assert as_admin.get(_preview_url("foi_monitoring"), {"days": "5"}).status_code == 404
    assert as_admin.post(_save_url("nonsense"), {"days": "5", "confirm": "save"}).status_code == 404


def test_a_slow_preview_is_stopped_with_a_message(as_admin, world, settings, monkeypatch):
    from governance import retention_views

    def slow(**kwargs):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(5)")

    monkeypatch.setattr(retention_views, "retention_preview", slow)
    settings.EARSHOT_RETENTION_PREVIEW_SECONDS = 1
    page = as_admin.get(_preview_url(), {"days": "100"}).content.decode()
    assert "Counting took longer than 1 seconds and was stopped" in page


def test_posts_are_escaped_everywhere_on_the_page(as_admin):
    PurgeRecord.objects.create(category=UNTRIAGED, cutoff="2026-01-01T00:00Z", counts={"<b>x</b>": 1},
                               basis="<script>alert(1)</script>", triggered_by="<i>me</i>")
    page = as_admin.get(reverse("governance:retention")).content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page and "<b>x</b>" not in page
