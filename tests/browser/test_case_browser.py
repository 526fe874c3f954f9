"""An officer decides an FOI request, opens its case, stops the clock and sees the due date move."""

from datetime import timedelta

import pytest
from django.utils import timezone

from triage import deadlines
from triage.models import Case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _long(day):
    return f"{day:%A} {day.day} {day:%B %Y}"


def test_an_foi_request_becomes_a_case_whose_clock_stops_and_restarts(page, sign_in, comms_officer, communications, make_item):
    posted = timezone.now() - timedelta(days=6)
    item = make_item(communications, author_handle="asker", text="Under FOI, please send me your social media policy",
                     posted_at=posted)
    received = deadlines.received_date(posted)
    sign_in("carys")

    row = page.locator(f"#item-{item.id}")
    row.locator('select[name="request_type"]').select_option("foi")
    row.locator('button[data-outcome="information_request"]').click()
    link = page.locator(f"#item-{item.id}.decided a.case-ref")
    link.wait_for()
    assert "days left" in page.locator(f"#item-{item.id}.decided").inner_text()
    link.click()
    page.wait_for_load_state("networkidle")

    case = Case.objects.get(item=item)
    assert case.reference in page.locator("h1").inner_text()
    first_due = deadlines.foi_due_date(received)
    assert page.locator("#due-date").inner_text() == _long(first_due)

    today = timezone.localdate()
    page.fill("#id_reason", "Which policy: the current one or all versions since 2020?")
    page.fill("#id_paused_on", (today - timedelta(days=4)).isoformat())
    page.click("#pause-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "waiting for the requester" in page.locator("#due-date").inner_text()
    assert "Waiting for the requester" in page.locator(".case-status").inner_text()

    page.fill("#id_answered_on", today.isoformat())
    page.click("#resume-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    new_due = deadlines.foi_due_date(today)
    assert new_due != first_due
    assert page.locator("#due-date").inner_text() == _long(new_due)
    assert "Which policy" in page.locator(".pauses").inner_text()
    assert not [e for e in page.console_errors if "Content Security Policy" in e]
