"""One inbox item per viral post: reposts, quotes and copies of one post group under one item."""

import threading
import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from governance.models import AuditEvent
from governance.selectors import audit_log_verify
from listening.ingest import page_ingest
from listening.models import SavedSearch, SavedSearchPlatform, WatchList, WatchListMember
from listening.posts import Post
from triage.grouping import groupable_text, normalised_text, original_of, page_parts
from triage.models import Decision, InboxItem
from triage.services import inbox_item_decide

ORIGINAL = "Potholes on Mill Lane have been reported six times and nothing happens"


def _search(team):
    search = SavedSearch.objects.create(team=team, name="potholes", query="potholes")
    SavedSearchPlatform.objects.create(saved_search=search, platform="demo")
    return search


@pytest.fixture
def potholes(communications):
    return _search(communications)


@pytest.fixture
def signed_in(client, comms_officer):
    client.force_login(comms_officer)
    return client


def _original(external_id="orig-1", author="mill_lane_resident"):
    return Post(platform="demo", external_id=external_id, text=ORIGINAL, author_handle=author)


def _reposts(count, *, of="orig-1", start=0, author="reposter", verified=False):
    return [
        Post(
            platform="demo", external_id=f"rp-{of}-{n}", kind="repost", referenced_id=of, text=f"RT: {ORIGINAL}",
            author_handle=f"{author}{n}", author_verified=verified,
        )
        for n in range(start, start + count)
    ]


def _leaders(team):
    return InboxItem.objects.filter(team=team, group__isnull=True)


def test_fifty_reposts_of_one_post_make_one_item_counting_51_and_deciding_it_decides_all(
    potholes, communications, signed_in, comms_officer
):
    # The original and 20 reposts in one page; 30 more reposts in two later pages.
    page_ingest(platform="demo", posts=[_original(), *_reposts(20)])
    page_ingest(platform="demo", posts=_reposts(15, start=20))
    page_ingest(platform="demo", posts=_reposts(15, start=35))

    (leader,) = _leaders(communications)
    assert leader.mention.external_id == "orig-1"
    assert leader.group_size == 51
    assert InboxItem.objects.filter(group=leader).count() == 50

    inbox = signed_in.get(reverse("triage:inbox", args=["communications"])).content.decode()
    assert inbox.count('class="item"') == 1 and "51 posts" in inbox
    # The counts come in a request of their own (triage/inbox_list.py): the group counts once.
    counts = signed_in.get(reverse("triage:inbox", args=["communications"]), {"counts": "1"}).content.decode()
    assert '<span class="count" id="open-count">1</span>' in counts
    group_page = signed_in.get(reverse("triage:group", args=[leader.id])).content.decode()
    assert "51 posts of one original" in group_page and group_page.count('id="member-') == 50

    response = signed_in.post(reverse("triage:decide", args=[leader.id]), {"outcome": "news_item"})
    assert response.status_code == 302
    items = InboxItem.objects.filter(team=communications)
    assert items.count() == 51 and not items.exclude(status="done").exists()
    assert Decision.objects.filter(outcome="news_item", decided_by=comms_officer).count() == 51
    assert Decision.objects.filter(group_decision__item=leader).count() == 50
    events = AuditEvent.objects.filter(action="triage.decide")
    assert events.count() == 51
    assert {e.object_id for e in events} == {str(i.pk) for i in items}
    assert {e.actor for e in events} == {comms_officer}
    report = audit_log_verify()
    assert report.intact, report.problem


def test_reposts_group_under_an_original_never_harvested_and_it_joins_later(potholes, communications):
    page_ingest(platform="demo", posts=_reposts(3))
    page_ingest(platform="demo", posts=_reposts(2, start=3))
    (leader,) = _leaders(communications)
    assert leader.group_size == 5 and leader.mention.kind == "repost"
    page_ingest(platform="demo", posts=[_original()])
    leader.refresh_from_db()
    assert _leaders(communications).count() == 1 and leader.group_size == 6


def test_quotes_join_their_original_but_replies_do_not(potholes, communications):
    quote = Post(platform="demo", external_id="q-1", kind="quote", referenced_id="orig-1",
                 text="Same on our road: potholes everywhere", author_handle="quoter")
    reply = Post(platform="demo", external_id="r-1", kind="reply", text="Potholes here too, ring the council")
    page_ingest(platform="demo", posts=[_original(), quote, reply])
    leaders = _leaders(communications)
    assert leaders.count() == 2
    assert leaders.get(mention__external_id="orig-1").group_size == 2


def test_the_same_post_on_another_platform_is_another_original():
    assert original_of(platform="x", external_id="1") != original_of(platform="mastodon", external_id="1")
    assert original_of(platform="x", external_id="9", kind="repost", referenced_id="1") == original_of(
        platform="x", external_id="1"
    )
    # A reply names no original: it is its own.
    assert original_of(platform="x", external_id="9", kind="reply", referenced_id="1") != original_of(
        platform="x", external_id="1"
    )


def test_near_identical_texts_group_after_normalising_case_whitespace_and_links(potholes, communications):
    texts = [
        "Stop the POTHOLES on Mill Lane now! https://t.co/abc123",
        "stop the potholes   on mill lane\nnow!  https://bit.ly/zzz",
        "Stop the potholes on Mill Lane now! www.example.org/petition",
    ]
    posts = [Post(platform="demo", external_id=f"copy-{n}", text=t, author_handle=f"a{n}") for n, t in enumerate(texts)]
    different = Post(platform="demo", external_id="other", text="Potholes on the High Street are worse, honestly")
    short = [Post(platform="demo", external_id=f"short-{n}", text="Potholes!!", author_handle=f"s{n}") for n in range(2)]
    page_ingest(platform="demo", posts=posts[:2] + [different] + short)
    page_ingest(platform="demo", posts=posts[2:])

    copies = InboxItem.objects.filter(mention__external_id__startswith="copy-")
    (leader,) = copies.filter(group__isnull=True)
    assert leader.group_size == 3 and leader.mention.external_id == "copy-0"
    assert InboxItem.objects.get(mention__external_id="other").group_id is None
    # Texts this short are not grouped: many people saying "Potholes!!" are not one post.
    assert InboxItem.objects.filter(mention__external_id__startswith="short-", group__isnull=True).count() == 2
    assert normalised_text(texts[0]) == normalised_text(texts[1]) == "stop the potholes on mill lane now!"
    assert groupable_text("Potholes!!") == ""


def test_a_page_joins_rows_sharing_either_key_through_one_another():
    # Row 2 shares row 1's original; row 3 shares row 2's text: one part. Row 4 is alone.
    rows = [(1, 10, 100), (2, 10, 200), (3, 30, 200), (4, 40, None)]
    assert page_parts(rows) == [1, 1, 1, 4]


def test_groups_are_per_team(potholes, communications, foi_team):
    _search(foi_team)
    page_ingest(platform="demo", posts=[_original(), *_reposts(4)])
    assert _leaders(communications).get().group_size == 5
    assert _leaders(foi_team).get().group_size == 5


def test_ingesting_a_page_again_changes_no_group(potholes, communications):
    page = [_original(), *_reposts(5)]
    page_ingest(platform="demo", posts=page)
    page_ingest(platform="demo", posts=page)
    assert InboxItem.objects.count() == 6 and _leaders(communications).get().group_size == 6


def test_a_late_repost_joins_a_decided_group_quietly(potholes, communications, comms_officer):
    page_ingest(platform="demo", posts=[_original(), *_reposts(2)])
    leader = _leaders(communications).get()
    inbox_item_decide(item=leader, outcome="complaint", actor=comms_officer)
    decided_at = InboxItem.objects.get(pk=leader.pk).decided_at

    page_ingest(platform="demo", posts=_reposts(1, start=2))

    leader.refresh_from_db()
    late = InboxItem.objects.get(mention__external_id="rp-orig-1-2")
    assert (leader.status, leader.decided_at, leader.group_size) == ("done", decided_at, 4)
    assert late.group_id == leader.pk and late.status == "done" and late.decided_at is not None
    decision = late.decisions.get()
    assert decision.outcome == "complaint" and decision.decided_by is None
    assert decision.group_decision == leader.decisions.get()
    event = AuditEvent.objects.get(action="triage.decide_with_group")
    assert event.object_id == str(late.pk) and event.actor_label == "ingest"
    assert event.details["with_group"] == leader.pk and event.details["outcome"] == "complaint"
    assert audit_log_verify().intact
    # The group stays decided: nothing new in the inbox, and no second case.
    assert not InboxItem.objects.filter(team=communications, group__isnull=True).exclude(status="done").exists()
    assert communications.cases.count() == 1


@pytest.fixture
def watched(db):
    watch_list = WatchList.objects.create(name="local journalists")
    WatchListMember.objects.create(watch_list=watch_list, platform="demo", handle="Borsetshire_Echo")
    return watch_list


def _decided_as_no_action(communications, comms_officer):
    page_ingest(platform="demo", posts=[_original(), *_reposts(2)])
    leader = _leaders(communications).get()
    inbox_item_decide(item=leader, outcome="no_action", actor=comms_officer)
    return leader


def test_a_watched_account_reposting_a_group_decided_as_no_action_reopens_it(
    potholes, communications, comms_officer, watched
):
    leader = _decided_as_no_action(communications, comms_officer)
    repost = Post(platform="demo", external_id="echo-1", kind="repost", referenced_id="orig-1",
                  text=f"RT: {ORIGINAL}", author_handle="borsetshire_echo")
    page_ingest(platform="demo", posts=[repost])

    leader.refresh_from_db()
    late = InboxItem.objects.get(mention__external_id="echo-1")
    assert leader.status == "new" and leader.decided_at is None and leader.group_size == 4
    assert late.status == "new" and late.group_id == leader.pk and not late.decisions.exists()
    # The earlier members keep the decision made with the group.
    assert set(InboxItem.objects.filter(group=leader).exclude(pk=late.pk).values_list("status", flat=True)) == {"done"}
    event = AuditEvent.objects.get(action="triage.group_reopen")
    assert event.object_id == str(leader.pk) and event.details["reposted_by"] == ["demo:borsetshire_echo"]
    assert not AuditEvent.objects.filter(action="triage.decide_with_group").exists()

    # Deciding the reopened group decides what is open: the leader and the new repost.
    inbox_item_decide(item=leader, outcome="news_item", actor=comms_officer)
    late.refresh_from_db()
    assert late.status == "done" and late.decisions.get().outcome == "news_item"


def test_a_verified_account_reopens_a_no_action_group_too(potholes, communications, comms_officer):
    leader = _decided_as_no_action(communications, comms_officer)
    page_ingest(platform="demo", posts=_reposts(1, start=2, author="bbc", verified=True))
    leader.refresh_from_db()
    assert leader.status == "new"


def test_an_ordinary_account_does_not_reopen_a_no_action_group(potholes, communications, comms_officer, watched):
    leader = _decided_as_no_action(communications, comms_officer)
    page_ingest(platform="demo", posts=_reposts(1, start=2))
    leader.refresh_from_db()
    assert leader.status == "done"
    assert InboxItem.objects.get(mention__external_id="rp-orig-1-2").decisions.get().outcome == "no_action"


def test_a_watched_account_does_not_reopen_a_group_decided_otherwise(potholes, communications, comms_officer, watched):
    page_ingest(platform="demo", posts=[_original()])
    leader = _leaders(communications).get()
    inbox_item_decide(item=leader, outcome="news_item", actor=comms_officer)
    page_ingest(platform="demo", posts=_reposts(1, author="borsetshire_echo"))
    leader.refresh_from_db()
    assert leader.status == "done" and not AuditEvent.objects.filter(action="triage.group_reopen").exists()


def test_a_member_decided_on_its_own_keeps_its_decision(potholes, communications, comms_officer):
    page_ingest(platform="demo", posts=[_original(), *_reposts(2)])
    leader = _leaders(communications).get()
    member = InboxItem.objects.get(mention__external_id="rp-orig-1-0")
    inbox_item_decide(item=member, outcome="enquiry", actor=comms_officer)
    inbox_item_decide(item=leader, outcome="no_action", actor=comms_officer)
    assert member.decisions.get().outcome == "enquiry"
    # A change of the group's decision follows to members decided with it, not to this one.
    inbox_item_decide(item=leader, outcome="news_item", actor=comms_officer, redecide=True)
    other = InboxItem.objects.get(mention__external_id="rp-orig-1-1")
    assert other.latest_decision.outcome == "news_item"
    assert member.latest_decision.outcome == "enquiry"


def test_the_group_page_lists_members_in_a_fixed_number_of_queries(
    potholes, communications, signed_in, django_assert_num_queries
):
    page_ingest(platform="demo", posts=[_original(), *_reposts(3)])
    leader = _leaders(communications).get()
    url = reverse("triage:group", args=[leader.id])
    signed_in.get(url)  # warm the session
    with CaptureQueriesContext(connection) as few:
        signed_in.get(url)
    page_ingest(platform="demo", posts=_reposts(30, start=3))
    with django_assert_num_queries(len(few.captured_queries)):
        body = signed_in.get(url).content.decode()
    assert body.count('id="member-') == 33
    # A member's page leads to the same group.
    member = InboxItem.objects.filter(group=leader).first()
    assert "34 posts of one original" in signed_in.get(reverse("triage:group", args=[member.id])).content.decode()


def test_the_group_page_escapes_posts(potholes, communications, signed_in):
    hostile = Post(platform="demo", external_id="evil", kind="repost", referenced_id="orig-1",
                   text="<script>alert(1)</script> potholes", author_handle="<b>x</b>")
    page_ingest(platform="demo", posts=[_original(), hostile])
    leader = _leaders(communications).get()
    body = signed_in.get(reverse("triage:group", args=[leader.id])).content.decode()
    assert "<script>alert(1)" not in body and "&lt;script&gt;" in body and "<b>x</b>" not in body


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(60)
def test_two_pages_storing_reposts_of_one_original_at_once_make_one_leader(communications):
    """The first page holds its transaction open after storing; the second stores meanwhile."""
    _search(communications)
    first_stored, errors = threading.Event(), []

    def first():
        try:
            with transaction.atomic():
                page_ingest(platform="demo", posts=_reposts(10))
                first_stored.set()
                time.sleep(1.0)  # the second page runs its statements now, before this commits
        except Exception as error:  # noqa: BLE001  (reported by the assertion below)
            errors.append(repr(error))
            first_stored.set()
        finally:
            connection.close()

    def second():
        try:
            first_stored.wait(10)
            with transaction.atomic():
                page_ingest(platform="demo", posts=_reposts(10, start=10))
        except Exception as error:  # noqa: BLE001
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    (leader,) = _leaders(communications)
    assert leader.group_size == 20 and InboxItem.objects.filter(group=leader).count() == 19


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(60)
def test_a_repost_stored_while_its_group_is_being_decided_is_decided_with_it(communications, comms_officer):
    """The decision holds its transaction open; a page of reposts is stored meanwhile."""
    _search(communications)
    page_ingest(platform="demo", posts=[_original(), *_reposts(2)])
    leader = _leaders(communications).get()
    decided, errors = threading.Event(), []

    def decide():
        try:
            with transaction.atomic():
                inbox_item_decide(item=leader, outcome="news_item", actor=comms_officer)
                decided.set()
                time.sleep(1.0)
        except Exception as error:  # noqa: BLE001  (reported by the assertion below)
            errors.append(repr(error))
            decided.set()
        finally:
            connection.close()

    def store():
        try:
            decided.wait(10)
            with transaction.atomic():
                page_ingest(platform="demo", posts=_reposts(3, start=2))
        except Exception as error:  # noqa: BLE001
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=decide), threading.Thread(target=store)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    items = InboxItem.objects.filter(team=communications)
    assert items.count() == 6 and not items.exclude(status="done").exists()
    assert Decision.objects.filter(outcome="news_item").count() == 6


def test_deleting_a_leader_in_sql_leaves_its_members_as_items_of_their_own(potholes, communications, comms_officer):
    """As the FOI purge deletes: decisions, then items, in SQL."""
    page_ingest(platform="demo", posts=[_original(), *_reposts(2)])
    leader = _leaders(communications).get()
    inbox_item_decide(item=leader, outcome="no_action", actor=comms_officer)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM triage_decision WHERE item_id = %s", [leader.pk])
        cursor.execute("DELETE FROM triage_inboxitem WHERE id = %s", [leader.pk])
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what commit would check
    assert _leaders(communications).count() == 2
    assert not Decision.objects.filter(group_decision__isnull=False).exists()
