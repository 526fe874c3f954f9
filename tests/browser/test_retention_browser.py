"""An admin previews a retention change in a real browser, then saves it: the preview arrives
in place (htmx) with the counts the purge then deletes, and the save is audited."""

from datetime import timedelta

import pytest
from django.utils import timezone

from governance.models import AuditEvent, RetentionPolicy
from governance.retention import retention_apply
from listening.models import Mention
from tests.governance.test_retention import policies  # noqa: F401  (fixture)
from triage.models import InboxItem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]


def test_an_admin_previews_a_retention_change_and_saves_it(page, live_server, sign_in, policies, admin_user,
                                                           communications, make_item):
    old = make_item(communications)
    InboxItem.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=60))
    Mention.objects.filter(pk=old.mention_id).update(first_seen_at=timezone.now() - timedelta(days=60))
    kept = make_item(communications)
    sign_in("hamish")
    page.click("nav >> text=Retention")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/governance/retention/")

    row = page.locator("#policy-untriaged_mentions")
    row.locator("input[name=days]").fill("30")
    row.locator("button", has_text="Preview").click()
    preview = page.locator("#preview-untriaged_mentions #would-delete")
    preview.wait_for()
    assert page.url.endswith("/governance/retention/"), "the preview arrives in place"
    assert preview.inner_text() == "Kept 30 days, would delete now: 1 inbox item, 1 mention."
    assert RetentionPolicy.objects.get(category="untriaged_mentions").days == 90

    page.locator("#preview-untriaged_mentions button", has_text="Save: keep 30 days").click()
    page.wait_for_load_state("networkidle")
    assert "Untriaged mentions are now kept 30 days (were 90)" in page.locator(".messages").inner_text()
    assert RetentionPolicy.objects.get(category="untriaged_mentions").days == 30
    event = AuditEvent.objects.get(action="retention.change")
    assert event.actor == admin_user and event.details["old_days"] == 90 and event.details["new_days"] == 30

    (result,) = retention_apply(categories=["untriaged_mentions"]).categories
    assert result.counts["triage.inboxitem"] == 1 and result.counts["listening.mention"] == 1
    assert list(Mention.objects.values_list("pk", flat=True)) == [kept.mention_id]
    assert page.console_errors == []
