"""The five-day purge's batches: side by side on two connections, across groups, and after a deadlock."""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Team
from foi_monitoring.models import AuthoritySignal, PublicAuthority, ReviewMeeting
from foi_monitoring.purge import monitoring_purge, retrying_deadlocks
from listening.models import Mention, MentionHit, SavedSearch
from triage.models import Case, Circulation, Decision, InboxItem

LONDON = ZoneInfo("Europe/London")
MEETING = datetime(2026, 3, 9, 10, 0, tzinfo=LONDON)
BEFORE = MEETING - timedelta(days=2)
AFTER = MEETING + timedelta(hours=2)


@pytest.fixture
def clock(monkeypatch):
    now = {"at": MEETING + timedelta(days=5)}
    monkeypatch.setattr(timezone, "now", lambda: now["at"])
    return now


@pytest.fixture
def world(foi_team, communications, make_mention):
    foi_search = SavedSearch.objects.create(team=foi_team, name="FOI chatter", query="FOI overdue", purpose="foi_monitoring")
    comms_search = SavedSearch.objects.create(team=communications, name="the ICO", query='"the ICO"')
    authority = PublicAuthority.objects.create(name="Borsetshire County Council", code="BOR")
    ReviewMeeting.objects.create(starts_at=MEETING)

    def collect(at, author="campaigner"):
        """A post as the monitoring collects it: a mention, its FOI hit, the group's inbox item and a signal."""
        mention = make_mention(text=f"FOI to Borsetshire County Council is overdue, says {author}",
                               author_handle=author, first_seen_at=at, posted_at=at)
        MentionHit.objects.create(mention=mention, saved_search=foi_search, matched_at=at)
        item = InboxItem.objects.create(team=foi_team, mention=mention)
        InboxItem.objects.filter(pk=item.pk).update(created_at=at)
        AuthoritySignal.objects.create(authority=authority, mention=mention, codes=["overdue"],
                                       author_key=f"demo:{author}", occurred_at=at, collected_at=at)
        return item

    def for_comms(item, outcome=None):
        MentionHit.objects.create(mention=item.mention, saved_search=comms_search, matched_at=BEFORE)
        comms_item = InboxItem.objects.create(team=communications, mention=item.mention)
        if outcome:
            Decision.objects.create(item=comms_item, outcome=outcome)
            InboxItem.objects.filter(pk=comms_item.pk).update(status="done", decided_at=BEFORE)
        return comms_item

    return {"collect": collect, "for_comms": for_comms, "foi": foi_team, "comms": communications}


def group(leader, *members):
    """Members join the leader's group, as ingest files reposts of one post."""
    InboxItem.objects.filter(pk__in=[m.pk for m in members]).update(group=leader)
    InboxItem.objects.filter(pk=leader.pk).update(group_size=1 + len(members), original_key=leader.pk)


def mentions_left(items) -> set[int]:
    return set(Mention.objects.filter(pk__in=[i.mention_id for i in items]).values_list("pk", flat=True))


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
def test_batches_side_by_side_delete_exactly_what_a_dry_run_reports(clock, world, foi_member):
    from triage.services import inbox_item_decide

    collect, for_comms = world["collect"], world["for_comms"]
    plain = [collect(BEFORE, author=f"p{n}") for n in range(9)]
    complaint = collect(BEFORE, author="c")
    for_comms(complaint, outcome="complaint")
    still_open = collect(BEFORE, author="o")
    for_comms(still_open)
    dismissed = collect(BEFORE, author="d")
    dismissed_comms = for_comms(dismissed, outcome="no_action")
    casework = collect(BEFORE, author="k")
    inbox_item_decide(item=casework, outcome="complaint", actor=foi_member)  # the group's own case
    assert Case.objects.filter(item=casework).exists()
    recent = collect(AFTER, author="r")

    preview = monitoring_purge(dry_run=True, batch_size=2, connections=2)
    result = monitoring_purge(batch_size=2, connections=2)

    assert result.counts == preview.counts == {
        "foi_monitoring.authoritysignal": 13, "triage.decision": 1, "triage.inboxitem": 13,
        "listening.mentionhit": 14, "listening.mention": 10,
    }
    assert mentions_left(plain + [dismissed]) == set()
    assert not InboxItem.objects.filter(pk=dismissed_comms.pk).exists()
    assert mentions_left([complaint, still_open, casework, recent]) == {
        complaint.mention_id, still_open.mention_id, casework.mention_id, recent.mention_id
    }
    assert set(InboxItem.objects.filter(team=world["foi"]).values_list("pk", flat=True)) == {casework.pk, recent.pk}
    assert InboxItem.objects.filter(team=world["comms"]).count() == 2
    assert result.record.counts == result.counts


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
@pytest.mark.parametrize("connections", [1, 2])
def test_members_of_a_purged_leader_collected_after_the_cutoff_stay_as_items_of_their_own(clock, world, connections):
    collect = world["collect"]
    leader = collect(BEFORE, author="original")
    reposts = [collect(AFTER, author=f"r{n}") for n in range(3)]
    group(leader, *reposts)

    result = monitoring_purge(batch_size=1, connections=connections)

    assert not InboxItem.objects.filter(pk=leader.pk).exists()
    assert mentions_left([leader]) == set()
    left = InboxItem.objects.filter(pk__in=[r.pk for r in reposts])
    assert left.count() == 3 and not left.filter(group__isnull=False).exists()
    assert result.counts["triage.inboxitem"] == 1 and result.counts["listening.mention"] == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
@pytest.mark.parametrize("connections", [1, 2])
def test_groups_spread_over_several_batches_go_whole_and_each_row_is_counted_once(clock, world, foi_member, connections):
    from triage.services import inbox_item_decide

    collect = world["collect"]
    # Mentions in id order a1 < a2 < b1 < b2 < c1: with one mention per batch every group
    # link crosses batches, in both directions (a member older than its leader too).
    a1, a2, b1, b2, c1 = (collect(BEFORE, author=name) for name in ("a1", "a2", "b1", "b2", "c1"))
    group(a1, b2, c1)
    group(b1, a2)
    # Deciding a leader decides its members: their decisions point at the leader's.
    inbox_item_decide(item=InboxItem.objects.get(pk=a1.pk), outcome="no_action", actor=foi_member)
    inbox_item_decide(item=InboxItem.objects.get(pk=b1.pk), outcome="no_action", actor=foi_member)
    assert Decision.objects.filter(group_decision__isnull=False).count() == 3

    result = monitoring_purge(batch_size=1, connections=connections)

    assert result.counts == {
        "foi_monitoring.authoritysignal": 5, "triage.decision": 5, "triage.inboxitem": 5,
        "listening.mentionhit": 5, "listening.mention": 5,
    }
    assert not InboxItem.objects.exists() and not Decision.objects.exists() and not Mention.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
@pytest.mark.parametrize("connections", [1, 2])
def test_circulations_of_purged_items_and_mentions_stay_and_lose_only_the_links(clock, world, connections):
    collect, for_comms = world["collect"], world["for_comms"]
    dismissed = collect(BEFORE, author="d")
    dismissed_comms = for_comms(dismissed, outcome="no_action")
    monitored = collect(BEFORE, author="m")
    sent = [
        Circulation.objects.create(team=world["comms"], item=dismissed_comms, mention=dismissed.mention, subject="Sent"),
        Circulation.objects.create(team=world["foi"], item=monitored, mention=monitored.mention, subject="Noted"),
    ]

    result = monitoring_purge(batch_size=1, connections=connections)

    assert mentions_left([dismissed, monitored]) == set()
    assert result.counts["triage.inboxitem"] == 3 and result.counts["triage.decision"] == 1
    for circulation in sent:
        circulation.refresh_from_db()
        assert circulation.item_id is None and circulation.mention_id is None and circulation.subject


@pytest.mark.django_db
def test_a_batch_whose_items_are_far_apart_deletes_them_as_well_and_nothing_between(clock, world, make_mention):
    from foi_monitoring import purge

    collect = world["collect"]
    first = collect(BEFORE, author="first")
    between = [InboxItem.objects.create(team=world["comms"], mention=make_mention(text=f"Unrelated {n}"))
               for n in range(purge.DENSE_ITEMS * 3)]
    last = collect(BEFORE, author="last")
    assert last.pk - first.pk >= purge.DENSE_ITEMS * 2  # one descent per id, not the range

    result = monitoring_purge()

    assert not InboxItem.objects.filter(pk__in=[first.pk, last.pk]).exists()
    assert InboxItem.objects.filter(pk__in=[i.pk for i in between]).count() == len(between)
    assert result.counts["triage.inboxitem"] == 2 and result.counts["listening.mention"] == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(60)
def test_a_transaction_rolled_back_to_break_a_deadlock_runs_again(communications, foi_team):
    first, second = communications.pk, foi_team.pk
    both_hold_one = threading.Barrier(2)
    attempts, errors = [], []

    def rename(order, name):
        def attempt():
            attempts.append(name)
            with transaction.atomic():
                Team.objects.filter(pk=order[0]).update(name=f"{name} first")
                if attempts.count(name) == 1:
                    both_hold_one.wait()
                Team.objects.filter(pk=order[1]).update(name=f"{name} second")

        try:
            retrying_deadlocks(attempt)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=rename, args=((first, second), "one")),
               threading.Thread(target=rename, args=((second, first), "two"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    # PostgreSQL rolled one of the two back; it ran again once the other had committed.
    assert len(attempts) == 3
    retried = max(("one", "two"), key=attempts.count)
    assert set(Team.objects.values_list("name", flat=True)) == {f"{retried} first", f"{retried} second"}
