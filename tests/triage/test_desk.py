"""Two people, one inbox: conflicts, claims, take-over, assignment, undo and bulk actions."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessGrant, Role
from governance.models import AuditEvent
from triage.models import Case, Decision, InboxItem


@pytest.fixture
def second_officer(django_user_model, communications):
    user = django_user_model.objects.create_user(username="dafydd", password="correct horse battery staple")
    AccessGrant.objects.create(user=user, team=communications, role=Role.COMMS_OFFICER, reason="test cast")
    return user


@pytest.fixture
def carys(client, comms_officer):
    client.force_login(comms_officer)
    return client


@pytest.fixture
def dafydd(second_officer):
    from django.test import Client

    other = Client()
    other.force_login(second_officer)
    return other


def _htmx(client, url, data=None):
    return client.post(url, data or {}, HTTP_HX_REQUEST="true")


def _inbox(client, **params):
    return client.get(reverse("triage:inbox", args=["communications"]), params).content.decode()


# Conflict: two officers decide the same item.


def test_the_second_officer_to_decide_gets_the_conflict_message_and_one_decision_is_recorded(
    carys, dafydd, communications, make_item
):
    item = make_item(communications)
    # Both have the item open in their inbox.
    assert f'id="item-{item.id}"' in _inbox(carys) and f'id="item-{item.id}"' in _inbox(dafydd)
    first = _htmx(carys, reverse("triage:decide", args=[item.id]), {"outcome": "complaint"})
    second = _htmx(dafydd, reverse("triage:decide", args=[item.id]), {"outcome": "no_action"})
    assert first.status_code == 200
    assert second.status_code == 400 and second["Content-Type"].startswith("text/plain")
    assert "Already decided by carys as complaint" in second.content.decode()
    assert list(item.decisions.values_list("outcome", "decided_by__username")) == [("complaint", "carys")]
    events = AuditEvent.objects.filter(action="triage.decide", object_id=str(item.id))
    assert [(e.actor_label, e.details["outcome"]) for e in events] == [("carys", "complaint")]
    # Without JavaScript the refusal comes back as a message on the inbox.
    plain = dafydd.post(reverse("triage:decide", args=[item.id]), {"outcome": "enquiry"}, follow=True)
    assert "Already decided by carys as complaint" in plain.content.decode()
    assert item.decisions.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_officers_deciding_at_the_same_moment_record_one_decision(communications, make_item, comms_officer, second_officer):
    from triage.services import DecisionRejected, inbox_item_decide

    item = make_item(communications)
    start = threading.Barrier(2)
    outcomes = {}

    def decide(officer, outcome):
        try:
            start.wait()
            inbox_item_decide(item=InboxItem.objects.get(pk=item.pk), outcome=outcome, actor=officer)
            outcomes[officer.username] = "recorded"
        except DecisionRejected as rejected:
            outcomes[officer.username] = str(rejected)
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=args) for args in ((comms_officer, "enquiry"), (second_officer, "news_item"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["carys", "dafydd"]
    recorded = [name for name, said in outcomes.items() if said == "recorded"]
    refused = [said for said in outcomes.values() if said != "recorded"]
    assert len(recorded) == 1 and len(refused) == 1 and refused[0].startswith(f"Already decided by {recorded[0]}")
    assert Decision.objects.filter(item=item).count() == 1
    assert AuditEvent.objects.filter(action="triage.decide").count() == 1


# Claims and presence.


def test_opening_the_item_page_claims_nothing_until_the_page_asks(carys, communications, make_item):
    item = make_item(communications)
    assert "Nobody is triaging this item" in carys.get(reverse("triage:item", args=[item.id])).content.decode()
    item.refresh_from_db()
    assert item.claimed_by is None  # a GET (a link preview, a prefetch) never claims


def test_a_claim_shows_to_colleagues_and_keeps_them_from_claiming(carys, dafydd, communications, make_item, comms_officer):
    item = make_item(communications)
    response = _htmx(carys, reverse("triage:claim", args=[item.id]), {"confirm": "claim"})
    assert response.status_code == 200 and "You are triaging this item" in response.content.decode()
    item.refresh_from_db()
    assert item.claimed_by == comms_officer
    # The colleague's page asks for its claim too, and is told who holds the item instead.
    theirs = _htmx(dafydd, reverse("triage:claim", args=[item.id]), {"confirm": "claim"}).content.decode()
    assert "Being triaged by <strong>carys</strong>" in theirs and "Take over" in theirs
    item.refresh_from_db()
    assert item.claimed_by == comms_officer
    # The colleague's inbox shows it on the row, and its poll says so too.
    assert "Being triaged by carys" in _inbox(dafydd)
    polled = dafydd.get(reverse("triage:holders", args=["communications"]), {"ids": f"{item.id},abc,-1"}).content.decode()
    assert f'id="holder-{item.id}" hx-swap-oob="true"' in polled and "Being triaged by carys" in polled
    assert "Being triaged by you" in _inbox(carys)


def test_a_claim_lapses_after_two_minutes_and_is_released_on_leaving_or_deciding(
    carys, dafydd, communications, make_item, comms_officer, second_officer, settings
):
    assert settings.EARSHOT_CLAIM_SECONDS == 120
    item = make_item(communications)
    _htmx(carys, reverse("triage:claim", args=[item.id]), {"confirm": "claim"})
    InboxItem.objects.filter(pk=item.pk).update(claimed_at=timezone.now() - timedelta(seconds=121))
    assert "Being triaged by" not in _inbox(dafydd)
    _htmx(dafydd, reverse("triage:claim", args=[item.id]), {"confirm": "claim"})
    item.refresh_from_db()
    assert item.claimed_by == second_officer
    # Leaving lets go of one's own claim only.
    assert _htmx(carys, reverse("triage:release", args=[item.id]), {"confirm": "release"}).status_code == 204
    item.refresh_from_db()
    assert item.claimed_by == second_officer
    _htmx(dafydd, reverse("triage:release", args=[item.id]), {"confirm": "release"})
    item.refresh_from_db()
    assert item.claimed_by is None
    # Deciding releases it too.
    _htmx(carys, reverse("triage:claim", args=[item.id]), {"confirm": "claim"})
    _htmx(carys, reverse("triage:decide", args=[item.id]), {"outcome": "no_action"})
    item.refresh_from_db()
    assert (item.claimed_by, item.claimed_at) == (None, None)
    # A decided item stops the page's polling (htmx stops on 286).
    assert _htmx(carys, reverse("triage:claim", args=[item.id]), {"confirm": "claim"}).status_code == 286


def test_taking_over_a_claim_is_audited(carys, dafydd, communications, make_item, second_officer):
    item = make_item(communications)
    _htmx(carys, reverse("triage:claim", args=[item.id]), {"confirm": "claim"})
    refused = _htmx(dafydd, reverse("triage:take_over", args=[item.id]), {"confirm": "yes"})
    assert refused.status_code == 400 and not AuditEvent.objects.filter(action="triage.take_over").exists()
    response = _htmx(dafydd, reverse("triage:take_over", args=[item.id]), {"confirm": "take_over"})
    assert response.status_code == 200 and "You are triaging this item" in response.content.decode()
    item.refresh_from_db()
    assert item.claimed_by == second_officer
    event = AuditEvent.objects.get(action="triage.take_over")
    assert (event.actor_label, event.object_id, event.details["from"]) == ("dafydd", str(item.id), "carys")
    # The first officer's page now says who has it, and its renewal does not take it back.
    again = _htmx(carys, reverse("triage:claim", args=[item.id]), {"confirm": "claim"}).content.decode()
    assert "Being triaged by <strong>dafydd</strong>" in again
    item.refresh_from_db()
    assert item.claimed_by == second_officer


# Assignment.


def test_assignment_to_me_to_a_colleague_and_to_nobody_is_audited_and_shown(
    carys, communications, make_item, comms_officer, second_officer
):
    item = make_item(communications)
    url = reverse("triage:assign", args=[item.id])
    row = _htmx(carys, url, {"assignee": "me"})
    assert row.status_code == 200 and "Assigned to you" in row.content.decode()
    item.refresh_from_db()
    assert (item.assignee, item.status) == (comms_officer, InboxItem.Status.IN_PROGRESS)
    _htmx(carys, url, {"assignee": str(second_officer.pk)})
    assert "Assigned to dafydd" in _inbox(carys)
    _htmx(carys, url, {"assignee": "none"})
    item.refresh_from_db()
    assert (item.assignee, item.status) == (None, InboxItem.Status.NEW)
    trail = [(e.details["previous"], e.details["assignee"]) for e in AuditEvent.objects.filter(action="triage.assign").order_by("id")]
    assert trail == [(None, "carys"), ("carys", "dafydd"), ("dafydd", None)]


def test_it_assigns_only_to_people_with_a_grant_in_force_on_the_team(carys, communications, make_item, foi_member, second_officer):
    item = make_item(communications)
    url = reverse("triage:assign", args=[item.id])
    for value in (str(foi_member.pk), "", "-1", "someone", "9" * 30):
        response = _htmx(carys, url, {"assignee": value})
        assert response.status_code == 400, value
    AccessGrant.objects.filter(user=second_officer).update(revoked_at=timezone.now())
    assert _htmx(carys, url, {"assignee": str(second_officer.pk)}).status_code == 400
    item.refresh_from_db()
    assert item.assignee is None and not AuditEvent.objects.filter(action="triage.assign").exists()


# Undo.


def test_the_undo_toast_comes_with_the_decision_and_undo_reopens_the_item(carys, communications, make_item, comms_officer):
    item = make_item(communications)
    decided = _htmx(carys, reverse("triage:decide", args=[item.id]), {"outcome": "enquiry"}).content.decode()
    decision = item.decisions.get()
    assert 'id="desk-toast" hx-swap-oob="innerHTML"' in decided and "Recorded as enquiry" in decided
    assert f'name="decision" value="{decision.id}"' in decided
    case = Case.objects.get(item=item)
    response = _htmx(carys, reverse("triage:undo", args=[item.id]), {"decision": str(decision.id)})
    body = response.content.decode()
    assert response.status_code == 200 and 'data-outcome="enquiry"' in body and "Decision undone" in body
    item.refresh_from_db()
    decision.refresh_from_db()
    case.refresh_from_db()
    # A reversal, not a delete: the decision stays, marked undone; the case it opened is closed, not removed.
    assert item.status == InboxItem.Status.NEW and item.decided_at is None
    assert decision.undone_by == comms_officer and decision.undone_at is not None
    assert (case.status, case.resolution) == (Case.Status.CLOSED, Case.Resolution.REDECIDED)
    event = AuditEvent.objects.get(action="triage.undo")
    assert event.details["decision_id"] == decision.id and event.details["status"] == "new"
    assert f'id="item-{item.id}"' in _inbox(carys)
    assert "undone by carys" in carys.get(reverse("triage:item", args=[item.id])).content.decode()
    # Decided again, the item's case reopens under its reference.
    _htmx(carys, reverse("triage:decide", args=[item.id]), {"outcome": "complaint"})
    case.refresh_from_db()
    assert (case.status, case.kind) == (Case.Status.OPEN, "complaint")
    assert InboxItem.objects.get(pk=item.pk).latest_decision.outcome == "complaint"


def test_undoing_a_changed_decision_puts_the_earlier_one_back(carys, communications, make_item):
    item = make_item(communications)
    carys.post(reverse("triage:decide", args=[item.id]), {"outcome": "news_item"})
    carys.post(reverse("triage:decide", args=[item.id]), {"outcome": "complaint", "redecide": "1"})
    changed = item.decisions.get(outcome="complaint")
    _htmx(carys, reverse("triage:undo", args=[item.id]), {"decision": str(changed.id)})
    item.refresh_from_db()
    assert item.status == InboxItem.Status.DONE and item.latest_decision.outcome == "news_item"
    assert Case.objects.get(item=item).status == Case.Status.CLOSED


def test_only_the_maker_can_undo_and_only_for_a_short_while(carys, dafydd, communications, make_item, settings):
    item = make_item(communications)
    _htmx(carys, reverse("triage:decide", args=[item.id]), {"outcome": "no_action"})
    decision = item.decisions.get()
    url = reverse("triage:undo", args=[item.id])
    assert "Only the officer who made" in _htmx(dafydd, url, {"decision": str(decision.id)}).content.decode()
    Decision.objects.filter(pk=decision.pk).update(decided_at=timezone.now() - timedelta(seconds=settings.EARSHOT_UNDO_SECONDS + 1))
    assert "too late" in _htmx(carys, url, {"decision": str(decision.id)}).content.decode()
    other = make_item(communications)
    assert _htmx(carys, reverse("triage:undo", args=[other.id]), {"decision": str(decision.id)}).status_code == 400
    item.refresh_from_db()
    assert item.status == InboxItem.Status.DONE and not AuditEvent.objects.filter(action="triage.undo").exists()


def test_without_javascript_the_next_page_offers_the_undo_once(carys, communications, make_item):
    item = make_item(communications)
    page = carys.post(reverse("triage:decide", args=[item.id]), {"outcome": "news_item"}, follow=True).content.decode()
    decision = item.decisions.get()
    assert "Recorded as news item" in page and f'name="decision" value="{decision.id}"' in page
    assert f'name="decision" value="{decision.id}"' not in _inbox(carys)
    carys.post(reverse("triage:undo", args=[item.id]), {"decision": str(decision.id)})
    item.refresh_from_db()
    assert item.status == InboxItem.Status.NEW


# Bulk.


def _bulk(client, **data):
    return client.post(reverse("triage:bulk", args=["communications"]), data, follow=True)


def test_a_bulk_decision_records_each_item_and_reports_what_was_decided_meanwhile(
    carys, communications, foi_team, make_item, second_officer
):
    from triage.services import inbox_item_decide

    items = [make_item(communications) for _ in range(4)]
    theirs = make_item(foi_team)
    inbox_item_decide(item=items[1], outcome="enquiry", actor=second_officer)
    ids = [str(item.id) for item in items] + [str(theirs.id)]
    page = _bulk(carys, action="decide", outcome="news_item", items=ids).content.decode()
    assert "Recorded 3 items." in page
    assert f"#{items[1].id} already decided by dafydd as enquiry" in page
    assert f"#{theirs.id} not in this team&#x27;s inbox" in page
    decided = Decision.objects.filter(outcome="news_item", undone_at__isnull=True)
    assert sorted(decided.values_list("item_id", flat=True)) == sorted([items[0].id, items[2].id, items[3].id])
    assert AuditEvent.objects.filter(action="triage.decide", actor_label="carys").count() == 3
    assert items[1].decisions.get().outcome == "enquiry"
    assert InboxItem.objects.get(pk=theirs.pk).status == InboxItem.Status.NEW


def test_a_bulk_decision_is_one_transaction(communications, make_item, comms_officer, monkeypatch):
    from triage import bulk, services

    items = [make_item(communications) for _ in range(5)]
    real = services.audit_event_record
    calls = []

    def failing_on_the_third(**kwargs):
        calls.append(kwargs["action"])
        if len(calls) == 3:
            raise RuntimeError("the disk filled up")
        return real(**kwargs)

    monkeypatch.setattr(services, "audit_event_record", failing_on_the_third)
    with pytest.raises(RuntimeError):
        bulk.inbox_items_bulk(
            team=communications, item_ids=[i.id for i in items], action="decide", outcome="complaint", actor=comms_officer
        )
    assert len(calls) == 3  # two items were fully decided before the failure
    assert not Decision.objects.exists() and not Case.objects.exists() and not AuditEvent.objects.exists()
    assert set(InboxItem.objects.values_list("status", flat=True)) == {InboxItem.Status.NEW}


def test_dismiss_and_assign_in_bulk(carys, communications, make_item, second_officer, foi_member):
    items = [make_item(communications) for _ in range(3)]
    ids = [str(item.id) for item in items]
    page = _bulk(carys, action="assign", assignee=str(second_officer.pk), items=ids[:2]).content.decode()
    assert "Assigned to dafydd: 2 items." in page
    assert list(InboxItem.objects.filter(assignee=second_officer).order_by("id").values_list("id", flat=True)) == [
        items[0].id, items[1].id
    ]
    again = _bulk(carys, action="assign", assignee=str(second_officer.pk), items=ids).content.decode()
    assert "Assigned to dafydd: 1 item." in again and f"#{items[0].id} already assigned to dafydd" in again
    refused = _bulk(carys, action="assign", assignee=str(foi_member.pk), items=ids).content.decode()
    assert "Assign to someone with access" in refused
    assert AuditEvent.objects.filter(action="triage.assign").count() == 3
    _bulk(carys, action="dismiss", items=ids)
    assert set(Decision.objects.values_list("outcome", flat=True)) == {"no_action"}
    assert Decision.objects.count() == 3


def test_select_all_matching_is_bounded_and_refusals_change_nothing(carys, communications, make_item, settings):
    settings.EARSHOT_BULK_MAX_ITEMS = 3
    items = [make_item(communications) for _ in range(4)]
    page = _bulk(carys, action="dismiss", scope="all", filters="status=new").content.decode()
    assert "more than 3 open items" in page
    page = _bulk(carys, action="dismiss", items=[str(item.id) for item in items]).content.decode()
    assert "4 items are selected; one bulk action takes at most 3" in page
    for data in (
        {"action": "explode", "items": [str(items[0].id)]},
        {"action": "decide", "outcome": "maybe", "items": [str(items[0].id)]},
        {"action": "decide", "outcome": "information_request", "items": [str(items[0].id)]},
        {"action": "decide", "outcome": "complaint", "items": [str(items[0].id), "x"]},
        {"action": "decide", "outcome": "complaint"},
    ):
        response = carys.post(reverse("triage:bulk", args=["communications"]), data, HTTP_HX_REQUEST="true")
        assert response.status_code == 400, data
    assert not Decision.objects.exists() and not AuditEvent.objects.filter(action__startswith="triage.").exists()
    InboxItem.objects.filter(pk=items[0].pk).delete()
    _bulk(carys, action="dismiss", scope="all", filters="status=new")
    assert Decision.objects.count() == 3


# The inbox stays a fixed number of queries with holders shown.


def test_the_inbox_shows_who_holds_what_in_a_fixed_number_of_queries(
    carys, communications, make_item, comms_officer, second_officer, django_assert_num_queries
):
    url = reverse("triage:inbox", args=["communications"])
    make_item(communications)
    carys.get(url)
    with django_assert_num_queries(9):
        carys.get(url)
    for n in range(10):
        item = make_item(communications)
        InboxItem.objects.filter(pk=item.pk).update(
            assignee=second_officer if n % 2 else comms_officer, claimed_by=second_officer, claimed_at=timezone.now()
        )
    with django_assert_num_queries(9):
        body = carys.get(url).content.decode()
    assert body.count("Being triaged by dafydd") == 10 and body.count("Assigned to dafydd") == 5
    assert body.count("Assigned to you") == 5


def test_the_holders_poll_answers_only_for_the_teams_own_items(carys, communications, foi_team, make_item, foi_member):
    ours, theirs = make_item(communications), make_item(foi_team)
    InboxItem.objects.filter(pk=theirs.pk).update(claimed_by=foi_member, claimed_at=timezone.now())
    body = carys.get(reverse("triage:holders", args=["communications"]), {"ids": f"{ours.id},{theirs.id}"}).content.decode()
    assert f'id="holder-{ours.id}"' in body and f'id="holder-{theirs.id}"' not in body and "grace" not in body
    assert carys.get(reverse("triage:holders", args=["foi-monitoring"]), {"ids": str(theirs.id)}).status_code == 403
    many = ",".join(str(n) for n in range(1, 3000))  # past HOLDERS_MAX_IDS, under the request guard
    assert carys.get(reverse("triage:holders", args=["communications"]), {"ids": many}).status_code == 200


def test_without_javascript_the_item_page_claims_with_a_button(carys, communications, make_item, comms_officer):
    item = make_item(communications)
    page = carys.post(reverse("triage:claim", args=[item.id]), {"confirm": "claim"}, follow=True).content.decode()
    assert "You are triaging this item" in page
    item.refresh_from_db()
    assert item.claimed_by == comms_officer
