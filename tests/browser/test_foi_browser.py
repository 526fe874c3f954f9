"""An FOI group member reviews a flagged authority at a meeting; the purge then empties the evidence."""

from datetime import timedelta

import pytest
from django.utils import timezone

from foi_monitoring.models import AuthoritySignal, PublicAuthority, ReviewMeeting
from foi_monitoring.purge import monitoring_purge
from foi_monitoring.services import monitoring_hits_scan
from listening.models import Mention, MentionHit, SavedSearch
from triage.models import InboxItem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def flagged_lewisham(foi_team, make_mention):
    """Three campaigners' posts about Lewisham, collected by the monitoring two days ago and scanned."""
    PublicAuthority.objects.create(name="London Borough of Lewisham", short_name="Lewisham", code="LEW",
                                   authority_type="London borough")
    search = SavedSearch.objects.create(team=foi_team, name="FOI campaigners", query="FOI", purpose="foi_monitoring")
    collected = timezone.now() - timedelta(days=2)
    for n, (author, text) in enumerate([
        ("foi_fan", "My FOI to Lewisham Council is six weeks overdue"),
        ("transparency_now", "LB Lewisham refused my FOI as vexatious <b>again</b>"),
        ("ask_them", "Complained to the ICO about Lewisham Council ignoring my FOI"),
    ]):
        mention = make_mention(text=text, author_handle=author, posted_at=collected + timedelta(hours=n),
                               first_seen_at=collected)
        MentionHit.objects.create(mention=mention, saved_search=search, matched_at=collected)
        InboxItem.objects.filter(pk=InboxItem.objects.create(team=foi_team, mention=mention).pk).update(created_at=collected)
    monitoring_hits_scan(lag_seconds=0)
    assert AuthoritySignal.objects.count() == 3


@pytest.mark.timeout(120)
def test_a_member_reviews_a_flagged_authority_records_a_decision_exports_minutes_and_the_purge_empties_the_evidence(
    page, sign_in, live_server, foi_member, flagged_lewisham
):
    sign_in("grace")
    page.goto(f"{live_server.url}/foi/flags/")
    page.get_by_role("link", name="London Borough of Lewisham").click()
    assert page.get_by_role("heading", name="Evidence (3 posts)").is_visible()
    assert page.locator("#evidence li.evidence-item").count() == 3
    assert "<b>again</b>" in page.locator("#evidence").inner_text()
    assert "will be deleted" in page.get_by_test_id("deletion-notice").inner_text()
    assert page.get_by_role("img", name="FOI signals about London Borough of Lewisham").is_visible()

    page.get_by_role("link", name="Review meetings").click()
    page.fill("#id_attendees", "Grace Adeyemi\nHamish Clarke")
    page.get_by_role("button", name="Create meeting").click()
    agenda = page.locator("section.agenda-item")
    assert agenda.count() == 1 and "London Borough of Lewisham" in agenda.inner_text()
    agenda.get_by_label("Decision").select_option("practice_recommendation")
    agenda.get_by_label("Notes (no copies of posts)").fill("Recommend a review of their FOI handling.")
    agenda.get_by_role("button", name="Record decision").click()
    assert "Decision recorded for London Borough of Lewisham." in page.locator(".messages").inner_text()
    assert "Practice recommendation" in page.locator("section.agenda-item .recorded").inner_text()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export minutes (CSV)").click()
    minutes = open(download_info.value.path(), encoding="utf-8").read()
    assert "London Borough of Lewisham,LEW,3,3,Practice recommendation,Recommend a review of their FOI handling." in minutes
    assert "overdue" not in minutes and "foi_fan" not in minutes

    page.get_by_role("button", name="Close the minutes").click()
    result = monitoring_purge(triggered_by="test")
    assert result.meeting == ReviewMeeting.objects.get()
    assert result.counts["listening.mention"] == 3

    page.goto(f"{live_server.url}/foi/flags/")
    page.goto(f"{live_server.url}/foi/authorities/{PublicAuthority.objects.get().id}/")
    assert page.get_by_role("heading", name="Evidence (0 posts)").is_visible()
    assert page.locator("#evidence li.evidence-item").count() == 0
    assert "Practice recommendation" in page.locator("section[aria-labelledby=history-heading]").inner_text()
    assert not Mention.objects.exists()
    assert not [e for e in page.console_errors if "Content Security Policy" in e]
