"""Cases: opened by a decision, with a reference, a clock that stops and restarts, and their pages."""

import threading
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from governance.models import AuditEvent
from triage import deadlines
from triage.cases import CaseActionRejected, case_clock_extend, case_clock_pause, case_clock_resume
from triage.models import Case, ClockPause
from triage.references import SHAPE, case_reference_next
from triage.services import inbox_item_decide

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, comms_officer):
    client.force_login(comms_officer)
    return client


def _decide(item, actor, outcome="information_request", request_type="foi", **kwargs):
    inbox_item_decide(item=item, outcome=outcome, request_type=request_type, actor=actor, **kwargs)
    return Case.objects.filter(item=item).first()


def test_deciding_an_information_request_opens_a_case_with_its_statutory_due_date(communications, make_item, comms_officer):
    # 23:30 UTC on Mon 1 Jul 2024 is Tue 2 Jul in the UK: due Wed 31 Jul (see test_deadlines).
    item = make_item(communications, posted_at=datetime(2024, 7, 1, 23, 30, tzinfo=dt_timezone.utc))
    case = _decide(item, comms_officer)
    assert SHAPE.match(case.reference) and case.reference.startswith("IC-")
    assert (case.kind, case.request_type, case.status) == ("information_request", "foi", "open")
    assert case.received_on == datetime(2024, 7, 2).date()
    assert case.due_date == datetime(2024, 7, 31).date()
    assert case.owner == comms_officer and case.team == communications
    assert case.events.get().action == "opened"
    assert AuditEvent.objects.filter(action="case.opened", object_id=str(case.pk)).exists()


def test_a_subject_access_case_is_due_by_the_corresponding_date(communications, make_item, comms_officer):
    item = make_item(communications, posted_at=datetime(2023, 1, 31, 12, tzinfo=dt_timezone.utc))
    case = _decide(item, comms_officer, request_type="sar")
    assert case.due_date == datetime(2023, 2, 28).date()


@pytest.mark.parametrize("outcome", ["enquiry", "complaint"])
def test_enquiries_and_complaints_open_cases_without_a_clock(communications, make_item, comms_officer, outcome):
    case = _decide(make_item(communications), comms_officer, outcome=outcome, request_type="")
    assert case.kind == outcome and case.due_date is None and not case.has_clock


@pytest.mark.parametrize("outcome", ["news_item", "no_action"])
def test_news_items_and_no_action_open_no_case(communications, make_item, comms_officer, outcome):
    assert _decide(make_item(communications), comms_officer, outcome=outcome, request_type="") is None


def test_changing_the_decision_away_from_a_case_closes_it_and_back_reopens_it(communications, make_item, comms_officer):
    item = make_item(communications)
    case = _decide(item, comms_officer, outcome="complaint", request_type="")
    _decide(item, comms_officer, outcome="news_item", request_type="", redecide=True)
    case.refresh_from_db()
    assert (case.status, case.resolution) == ("closed", "redecided")
    _decide(item, comms_officer, request_type="eir", redecide=True)
    case.refresh_from_db()
    assert (case.status, case.kind, case.request_type) == ("open", "information_request", "eir")
    assert case.due_date == deadlines.eir_due_date(case.received_on)
    assert Case.objects.filter(item=item).count() == 1


def test_a_failed_decision_opens_no_case(communications, make_item, comms_officer, monkeypatch):
    from triage import services

    def broken(**kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(services, "audit_event_record", broken)
    with pytest.raises(RuntimeError):
        _decide(make_item(communications), comms_officer)
    assert not Case.objects.exists()


def test_references_are_never_reused_even_after_a_rollback(db):
    with pytest.raises(RuntimeError), transaction.atomic():
        rolled_back, _ = case_reference_next()
        raise RuntimeError("the decision failed")
    after, _ = case_reference_next()
    assert after > rolled_back


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(60)
def test_a_case_reference_is_unique_under_concurrent_creation(communications, make_item, comms_officer):
    items = [make_item(communications) for _ in range(24)]
    barrier = threading.Barrier(8)
    errors = []

    def decide_some(chunk):
        try:
            barrier.wait()
            for item in chunk:
                inbox_item_decide(item=item, outcome="complaint", actor=comms_officer)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=decide_some, args=(items[n::8],)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    references = list(Case.objects.values_list("reference", flat=True))
    assert len(references) == 24 and len(set(references)) == 24
    assert len({ref.rsplit("-", 1)[0] for ref in references}) == 24
    assert all(SHAPE.match(ref) for ref in references)


def _case_received(communications, make_item, comms_officer, days_ago, request_type="foi"):
    posted = timezone.now() - timedelta(days=days_ago)
    return _decide(make_item(communications, posted_at=posted), comms_officer, request_type=request_type)


def test_pausing_stops_the_clock_and_the_answer_restarts_it_counted_afresh(communications, make_item, comms_officer):
    case = _case_received(communications, make_item, comms_officer, days_ago=10)
    today = timezone.localdate()
    first_due = case.due_date
    case_clock_pause(case=case, actor=comms_officer, reason="Which year do you mean?", paused_on=today - timedelta(days=8))
    case.refresh_from_db()
    assert (case.status, case.due_date, case.days_left) == ("waiting", None, None)
    answered = today - timedelta(days=3)
    case_clock_resume(case=case, actor=comms_officer, answered_on=answered)
    case.refresh_from_db()
    assert case.status == "open" and case.clock_started_on == answered
    assert case.due_date == deadlines.foi_due_date(answered) != first_due
    pause = ClockPause.objects.get(case=case)
    assert (pause.due_date_before, pause.resumed_on, pause.due_date_after) == (first_due, answered, case.due_date)
    assert [e.action for e in case.events.all()] == ["opened", "paused", "resumed"]


def test_every_pause_is_recorded(communications, make_item, comms_officer):
    case = _case_received(communications, make_item, comms_officer, days_ago=10, request_type="sar")
    today = timezone.localdate()
    for start, answer in ((9, 7), (5, 2)):
        case_clock_pause(case=case, actor=comms_officer, reason=f"asked on day {start}", paused_on=today - timedelta(days=start))
        case_clock_resume(case=case, actor=comms_officer, answered_on=today - timedelta(days=answer))
    case.refresh_from_db()
    assert ClockPause.objects.filter(case=case).count() == 2
    assert case.due_date == deadlines.sar_due_date(today - timedelta(days=2))


def test_it_refuses_a_pause_without_a_reason_or_outside_the_case(communications, make_item, comms_officer):
    case = _case_received(communications, make_item, comms_officer, days_ago=3)
    with pytest.raises(CaseActionRejected):
        case_clock_pause(case=case, actor=comms_officer, reason="  ")
    with pytest.raises(CaseActionRejected):
        case_clock_pause(case=case, actor=comms_officer, reason="x", paused_on=timezone.localdate() + timedelta(days=1))
    with pytest.raises(CaseActionRejected):
        case_clock_pause(case=case, actor=comms_officer, reason="x", paused_on=case.received_on - timedelta(days=1))
    with pytest.raises(CaseActionRejected, match="not stopped"):
        case_clock_resume(case=case, actor=comms_officer)
    case.refresh_from_db()
    assert case.status == "open" and not ClockPause.objects.exists()


def test_extensions_follow_each_regime(communications, make_item, comms_officer):
    eir = _case_received(communications, make_item, comms_officer, days_ago=2, request_type="eir")
    case_clock_extend(case=eir, actor=comms_officer, reason="complex and voluminous")
    eir.refresh_from_db()
    assert eir.due_date == deadlines.eir_due_date(eir.received_on, extended=True)
    with pytest.raises(CaseActionRejected, match="already"):
        case_clock_extend(case=eir, actor=comms_officer, reason="again")

    sar = _case_received(communications, make_item, comms_officer, days_ago=2, request_type="sar")
    case_clock_extend(case=sar, actor=comms_officer, reason="complex")
    sar.refresh_from_db()
    assert sar.due_date == deadlines.sar_extended_due_date(sar.received_on)

    foi = _case_received(communications, make_item, comms_officer, days_ago=2)
    with pytest.raises(CaseActionRejected, match="new date"):
        case_clock_extend(case=foi, actor=comms_officer, reason="public interest test")
    new_due = deadlines.add_working_days(foi.due_date, 10)
    case_clock_extend(case=foi, actor=comms_officer, reason="public interest test", new_due=new_due)
    foi.refresh_from_db()
    assert foi.due_date == new_due and foi.extended and foi.extension_reason == "public interest test"


def test_the_case_page_shows_the_post_escaped_the_clock_and_the_authors_other_mentions(
    signed_in, communications, make_item, comms_officer
):
    older = make_item(communications, author_handle="req", text="An earlier post by the same person")
    make_item(communications, author_handle="someone_else", text="Not by them")
    item = make_item(communications, author_handle="req", text='<script>alert("x")</script> FOI please')
    case = _decide(item, comms_officer)
    body = signed_in.get(reverse("triage:case", args=[case.reference])).content.decode()
    assert case.reference in body and "&lt;script&gt;alert" in body and "<script>alert" not in body
    assert case.due_date.strftime("%A") in body and "days left" in body
    assert "An earlier post by the same person" in body and "Not by them" not in body
    assert reverse("triage:item", args=[older.id]) in body
    assert "Decided as information request (FOI)" in body


def test_the_case_page_pause_and_resume_forms_move_the_date(signed_in, communications, make_item, comms_officer):
    case = _case_received(communications, make_item, comms_officer, days_ago=6)
    today = timezone.localdate()
    url = reverse("triage:case", args=[case.reference])
    signed_in.post(reverse("triage:case_pause", args=[case.reference]),
                   {"reason": "Which records?", "paused_on": (today - timedelta(days=4)).isoformat()})
    assert "Clock stopped: waiting for the requester" in signed_in.get(url).content.decode()
    signed_in.post(reverse("triage:case_resume", args=[case.reference]), {"answered_on": today.isoformat()})
    case.refresh_from_db()
    assert case.due_date == deadlines.foi_due_date(today)
    assert case.due_date.strftime("%-d %B %Y") in signed_in.get(url).content.decode()


def test_a_bad_date_is_refused_with_a_message_and_changes_nothing(signed_in, communications, make_item, comms_officer):
    case = _case_received(communications, make_item, comms_officer, days_ago=6)
    response = signed_in.post(reverse("triage:case_pause", args=[case.reference]),
                              {"reason": "Which records?", "paused_on": "yesterday"}, follow=True)
    assert "is not a date" in response.content.decode()
    case.refresh_from_db()
    assert case.status == "open" and not ClockPause.objects.exists()


def test_the_forwarded_team_sees_and_works_the_case_and_others_do_not(
    client, communications, foi_team, make_item, comms_officer, foi_member
):
    case = _case_received(communications, make_item, comms_officer, days_ago=1)
    client.force_login(foi_member)
    assert client.get(reverse("triage:case", args=[case.reference])).status_code == 403
    assert client.get(reverse("triage:cases", args=["communications"])).status_code == 403
    client.force_login(comms_officer)
    client.post(reverse("triage:case_assign", args=[case.reference]), {"owner": comms_officer.pk, "forwarded_to": foi_team.pk})
    case.refresh_from_db()
    assert case.forwarded_to == foi_team
    client.force_login(foi_member)
    assert client.get(reverse("triage:case", args=[case.reference])).status_code == 200
    listing = client.get(reverse("triage:cases", args=["foi-monitoring"]) + "?side=forwarded").content.decode()
    assert case.reference in listing


def test_the_case_list_filters_and_pages_by_keyset_in_fixed_queries(signed_in, communications, make_item, comms_officer):
    from triage import selectors

    for n in range(selectors.CASE_PAGE_SIZE + 3):
        _decide(make_item(communications), comms_officer, outcome="complaint" if n % 2 else "enquiry", request_type="")
    url = reverse("triage:cases", args=["communications"])
    with CaptureQueriesContext(connection) as first_page:
        body = signed_in.get(url).content.decode()
    assert body.count('id="case-') == selectors.CASE_PAGE_SIZE and "before=" in body
    assert not any("OFFSET" in q["sql"].upper() for q in first_page.captured_queries)
    oldest_shown = Case.objects.order_by("-id")[selectors.CASE_PAGE_SIZE - 1]
    rest = signed_in.get(f"{url}?before={oldest_shown.id}").content.decode()
    assert rest.count('id="case-') == 3
    complaints = signed_in.get(f"{url}?kind=complaint").content.decode()
    assert complaints.count('id="case-') == Case.objects.filter(kind="complaint").count()
    with CaptureQueriesContext(connection) as small_page:
        signed_in.get(f"{url}?before={oldest_shown.id}")
    assert len(small_page.captured_queries) == len(first_page.captured_queries)


def test_the_due_view_lists_overdue_and_this_weeks_cases(signed_in, communications, make_item, comms_officer):
    overdue = _case_received(communications, make_item, comms_officer, days_ago=60)
    later = _case_received(communications, make_item, comms_officer, days_ago=0)
    body = signed_in.get(reverse("triage:cases_due", args=["communications"])).content.decode()
    assert overdue.reference in body and "overdue" in body
    assert later.reference not in body


def test_the_inbox_shows_days_left_on_a_decided_row(signed_in, communications, make_item, comms_officer):
    case = _case_received(communications, make_item, comms_officer, days_ago=0)
    body = signed_in.get(reverse("triage:inbox", args=["communications"]) + "?status=done").content.decode()
    assert case.reference in body and f"{case.days_left} days left" in body


def test_reopening_takes_the_reopen_button_and_a_stray_post_changes_nothing(signed_in, communications, make_item, comms_officer):
    case = _case_received(communications, make_item, comms_officer, days_ago=1)
    signed_in.post(reverse("triage:case_close", args=[case.reference]), {"resolution": "answered"})
    case.refresh_from_db()
    assert case.status == "closed"
    url = reverse("triage:case_reopen", args=[case.reference])
    response = signed_in.post(url, {"note": "again"})
    assert response.status_code == 400 and "Reopen button" in response.content.decode()
    case.refresh_from_db()
    assert case.status == "closed"
    assert 'name="confirm" value="reopen"' in signed_in.get(reverse("triage:case", args=[case.reference])).content.decode()
    signed_in.post(url, {"confirm": "reopen"})
    case.refresh_from_db()
    assert case.status == "open"


@pytest.mark.parametrize("field", ["owner", "forwarded_to"])
def test_assigning_refuses_a_value_not_from_the_lists_instead_of_clearing_it(
    signed_in, communications, foi_team, make_item, comms_officer, field
):
    case = _case_received(communications, make_item, comms_officer, days_ago=1)
    url = reverse("triage:case_assign", args=[case.reference])
    signed_in.post(url, {"owner": comms_officer.pk, "forwarded_to": foi_team.pk})
    events = AuditEvent.objects.filter(action="case.assigned").count()
    data = {"owner": comms_officer.pk, "forwarded_to": foi_team.pk, field: "-1"}
    response = signed_in.post(url, data, follow=True)
    assert "from the list" in response.content.decode()
    case.refresh_from_db()
    assert (case.owner, case.forwarded_to) == (comms_officer, foi_team)
    assert AuditEvent.objects.filter(action="case.assigned").count() == events


def test_the_forwarded_team_does_not_see_the_deciding_teams_other_inbox_items(
    client, communications, foi_team, make_item, comms_officer, foi_member
):
    case = _case_received(communications, make_item, comms_officer, days_ago=1)
    handle = case.item.mention.author_handle
    other = make_item(communications, author_handle=handle, text="Private to the communications inbox")
    client.force_login(comms_officer)
    own_view = client.get(reverse("triage:case", args=[case.reference])).content.decode()
    assert "Private to the communications inbox" in own_view
    client.post(reverse("triage:case_assign", args=[case.reference]), {"owner": comms_officer.pk, "forwarded_to": foi_team.pk})
    client.force_login(foi_member)
    page = client.get(reverse("triage:case", args=[case.reference])).content.decode()
    assert "Private to the communications inbox" not in page
    assert reverse("triage:item", args=[other.pk]) not in page
    assert client.get(reverse("triage:item", args=[other.pk])).status_code == 403


def test_a_case_cannot_be_given_to_someone_deactivated_or_whose_grant_expired(
    signed_in, communications, make_item, comms_officer, django_user_model
):
    from datetime import date

    from accounts.models import AccessGrant, Role

    case = _case_received(communications, make_item, comms_officer, days_ago=1)
    gone = django_user_model.objects.create_user(username="left", password="x", is_active=False)
    AccessGrant.objects.create(user=gone, team=communications, role=Role.COMMS_OFFICER, reason="test")
    lapsed = django_user_model.objects.create_user(username="lapsed", password="x")
    grant = AccessGrant.objects.create(user=lapsed, team=communications, role=Role.COMMS_OFFICER, reason="test")
    AccessGrant.objects.filter(pk=grant.pk).update(expires_on=date(2020, 1, 1))
    page = signed_in.get(reverse("triage:case", args=[case.reference])).content.decode()
    assert ">left<" not in page and ">lapsed<" not in page
    for person in (gone, lapsed):
        response = signed_in.post(reverse("triage:case_assign", args=[case.reference]), {"owner": person.pk}, follow=True)
        assert "must have access to the case" in response.content.decode()
        case.refresh_from_db()
        assert case.owner != person
