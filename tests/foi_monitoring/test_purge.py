"""The five-day rule, driven by a fake clock: what goes, what stays, and the record it leaves."""

import threading
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from foi_monitoring.models import AuthoritySignal, PublicAuthority, ReviewMeeting
from foi_monitoring.purge import monitoring_purge
from governance.models import PurgeRecord
from listening.models import Mention, MentionHit, SavedSearch
from triage.models import Decision, InboxItem

LONDON = ZoneInfo("Europe/London")
MEETING = datetime(2026, 3, 9, 10, 0, tzinfo=LONDON)


class Clock:
    def __init__(self, monkeypatch, start):
        self.now = start
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def set(self, when):
        self.now = when


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch, MEETING - timedelta(days=10))


@pytest.fixture
def monitoring(foi_team, communications, make_mention):
    """Searches of both teams, and a helper that stores a post as the monitoring collects it."""
    foi_search = SavedSearch.objects.create(team=foi_team, name="FOI chatter", query="FOI overdue", purpose="foi_monitoring")
    comms_search = SavedSearch.objects.create(team=communications, name="the ICO", query='"the ICO"')
    authority = PublicAuthority.objects.create(name="Borsetshire County Council", code="BOR")

    def collect(at, text="FOI to Borsetshire County Council is overdue", author="campaigner"):
        mention = make_mention(text=text, author_handle=author, first_seen_at=at, posted_at=at)
        MentionHit.objects.create(mention=mention, saved_search=foi_search, matched_at=at)
        item = InboxItem.objects.create(team=foi_team, mention=mention)
        InboxItem.objects.filter(pk=item.pk).update(created_at=at)
        AuthoritySignal.objects.create(authority=authority, mention=mention, codes=["overdue"],
                                       author_key=f"demo:{author}", occurred_at=at, collected_at=at)
        return mention

    def also_for_comms(mention, at, outcome=None):
        MentionHit.objects.create(mention=mention, saved_search=comms_search, matched_at=at)
        item = InboxItem.objects.create(team=communications, mention=mention)
        if outcome:
            Decision.objects.create(item=item, outcome=outcome)
            InboxItem.objects.filter(pk=item.pk).update(status="done", decided_at=at)
        return item

    return {"collect": collect, "also_for_comms": also_for_comms, "foi_search": foi_search, "authority": authority}


def exists(mention) -> bool:
    return Mention.objects.filter(pk=mention.pk).exists()


@pytest.mark.django_db
def test_data_from_before_the_meeting_goes_within_five_days_and_data_from_after_stays(clock, monitoring, foi_team):
    before = monitoring["collect"](MEETING - timedelta(days=2))
    after = monitoring["collect"](MEETING + timedelta(hours=2))
    meeting = ReviewMeeting.objects.create(starts_at=MEETING)

    # The day after the meeting the group still has its evidence.
    clock.set(MEETING + timedelta(days=1))
    early = monitoring_purge()
    assert exists(before) and early.total == 0 and early.meeting is None

    clock.set(MEETING + timedelta(days=5) - timedelta(minutes=50))
    result = monitoring_purge()
    assert not exists(before)
    assert not AuthoritySignal.objects.filter(mention=before).exists()
    assert not InboxItem.objects.filter(mention_id=before.pk).exists()
    assert exists(after)
    assert AuthoritySignal.objects.filter(mention=after).count() == 1
    assert InboxItem.objects.filter(mention=after, team=foi_team).count() == 1
    record = PurgeRecord.objects.get(pk=result.record.pk)
    assert record.category == "foi_monitoring"
    assert record.meeting == meeting and record.cutoff == MEETING
    assert record.counts == {
        "foi_monitoring.authoritysignal": 1, "triage.decision": 0, "triage.inboxitem": 1,
        "listening.mentionhit": 1, "listening.mention": 1,
    }
    meeting.refresh_from_db()
    assert meeting.purged_at == clock.now


@pytest.mark.django_db
def test_closing_the_minutes_lets_the_purge_run_at_once(clock, monitoring, foi_member):
    from foi_monitoring.services import review_meeting_close

    before = monitoring["collect"](MEETING - timedelta(days=1))
    meeting = ReviewMeeting.objects.create(starts_at=MEETING)
    clock.set(MEETING + timedelta(hours=3))
    review_meeting_close(meeting=meeting, actor=foi_member)
    monitoring_purge()
    assert not exists(before)


@pytest.mark.django_db
def test_a_mention_another_team_triaged_stays_and_only_the_monitoring_rows_go(clock, monitoring, communications, foi_team):
    made_complaint = monitoring["collect"](MEETING - timedelta(days=3), author="a")
    comms_item = monitoring["also_for_comms"](made_complaint, MEETING - timedelta(days=3), outcome="complaint")
    still_open = monitoring["collect"](MEETING - timedelta(days=3), author="b")
    monitoring["also_for_comms"](still_open, MEETING - timedelta(days=3))
    dismissed = monitoring["collect"](MEETING - timedelta(days=3), author="c")
    monitoring["also_for_comms"](dismissed, MEETING - timedelta(days=3), outcome="no_action")
    ReviewMeeting.objects.create(starts_at=MEETING)

    clock.set(MEETING + timedelta(days=5))
    result = monitoring_purge()

    assert exists(made_complaint) and exists(still_open)
    assert not exists(dismissed)
    assert InboxItem.objects.filter(team=communications).count() == 2
    assert Decision.objects.filter(item=comms_item, outcome="complaint").exists()
    assert not InboxItem.objects.filter(team=foi_team).exists()
    assert not AuthoritySignal.objects.exists()
    assert not MentionHit.objects.filter(saved_search=monitoring["foi_search"]).exists()
    assert MentionHit.objects.filter(mention__in=[made_complaint, still_open]).count() == 2
    assert result.counts == {
        "foi_monitoring.authoritysignal": 3, "triage.decision": 1, "triage.inboxitem": 4,
        "listening.mentionhit": 4, "listening.mention": 1,
    }


@pytest.mark.django_db
def test_the_ceiling_deletes_old_monitoring_data_when_no_meeting_happens(clock, monitoring):
    old = monitoring["collect"](MEETING - timedelta(days=31))
    recent = monitoring["collect"](MEETING - timedelta(days=29))
    clock.set(MEETING)
    result = monitoring_purge()
    assert not exists(old) and exists(recent)
    assert result.meeting is None and result.cutoff == MEETING - timedelta(days=30)
    assert PurgeRecord.objects.get().basis == "30-day ceiling"


@pytest.mark.django_db
def test_the_days_are_settings(clock, monitoring, settings):
    settings.EARSHOT_FOI_PURGE_CEILING_DAYS = 10
    old = monitoring["collect"](MEETING - timedelta(days=11))
    clock.set(MEETING)
    monitoring_purge()
    assert not exists(old)


@pytest.mark.django_db
def test_a_dry_run_prints_what_would_go_and_changes_nothing(clock, monitoring):
    before = monitoring["collect"](MEETING - timedelta(days=2))
    ReviewMeeting.objects.create(starts_at=MEETING)
    clock.set(MEETING + timedelta(days=5))
    out = StringIO()
    call_command("run_purges", "--dry-run", stdout=out)
    assert "Would delete data collected before 2026-03-09 10:00" in out.getvalue()
    assert "1 from listening.mention" in out.getvalue()
    assert exists(before) and AuthoritySignal.objects.count() == 1 and InboxItem.objects.count() == 1
    assert not PurgeRecord.objects.exists()
    assert ReviewMeeting.objects.get().purged_at is None
    call_command("run_purges", stdout=out)
    assert not exists(before) and PurgeRecord.objects.count() == 1


@pytest.mark.django_db
def test_it_deletes_in_batches_and_counts_every_one(clock, monitoring):
    mentions = [monitoring["collect"](MEETING - timedelta(days=1), author=f"u{n}") for n in range(7)]
    ReviewMeeting.objects.create(starts_at=MEETING)
    clock.set(MEETING + timedelta(days=5))
    result = monitoring_purge(batch_size=3)
    assert result.counts["listening.mention"] == 7
    assert not Mention.objects.filter(pk__in=[m.pk for m in mentions]).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
def test_two_concurrent_purges_delete_once_and_each_writes_one_record(clock, monitoring):
    for n in range(40):
        monitoring["collect"](MEETING - timedelta(days=1), author=f"u{n}")
    kept = monitoring["collect"](MEETING + timedelta(hours=1))
    ReviewMeeting.objects.create(starts_at=MEETING)
    clock.set(MEETING + timedelta(days=5))
    start = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            start.wait()
            results.append(monitoring_purge(batch_size=7))
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(r.counts["listening.mention"] for r in results) == [0, 40]
    records = list(PurgeRecord.objects.order_by("id"))
    assert len(records) == 2
    assert sorted(r.counts["listening.mention"] for r in records) == [0, 40]
    assert sorted(r.counts["foi_monitoring.authoritysignal"] for r in records) == [0, 40]
    assert Mention.objects.count() == 1 and exists(kept)


def test_beat_runs_the_scan_and_the_purge():
    from config.celery import app

    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {"foi_monitoring.tasks.run_purges", "foi_monitoring.tasks.scan_monitoring_hits"} <= tasks


@pytest.mark.django_db
def test_every_monitoring_page_says_when_its_data_goes(client, foi_member, admin_user):
    from django.urls import reverse

    authority = PublicAuthority.objects.create(name="Borsetshire County Council", code="BOR")
    meeting = ReviewMeeting.objects.create(starts_at=timezone.now())
    for user, names in ((foi_member, ["authorities", "flags", "meetings"]), (admin_user, ["authority_import"])):
        client.force_login(user)
        urls = [reverse(f"foi_monitoring:{name}") for name in names]
        urls += [reverse("foi_monitoring:authority", args=[authority.id]), reverse("foi_monitoring:meeting", args=[meeting.id])]
        for url in urls:
            page = client.get(url).content.decode()
            assert 'data-testid="deletion-notice">Monitoring posts are deleted within 5 days after the review meeting' in page, url


@pytest.mark.django_db
def test_a_monitoring_item_the_group_made_into_a_case_stays_and_the_purge_still_runs(clock, monitoring, foi_team, foi_member):
    from triage.models import Case
    from triage.services import inbox_item_decide

    casework = monitoring["collect"](MEETING - timedelta(days=3), author="d")
    plain = monitoring["collect"](MEETING - timedelta(days=3), author="e")
    item = InboxItem.objects.get(team=foi_team, mention=casework)
    inbox_item_decide(item=item, outcome="complaint", actor=foi_member)
    ReviewMeeting.objects.create(starts_at=MEETING)

    clock.set(MEETING + timedelta(days=5))
    result = monitoring_purge()

    assert exists(casework) and not exists(plain)
    assert Case.objects.filter(item=item).exists() and InboxItem.objects.filter(pk=item.pk).exists()
    assert not AuthoritySignal.objects.exists()
    assert not MentionHit.objects.filter(saved_search=monitoring["foi_search"]).exists()
    assert result.counts["listening.mention"] == 1
