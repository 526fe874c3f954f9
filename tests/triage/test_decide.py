import pytest
from django.urls import reverse

from governance.models import AuditEvent
from triage.models import Decision, InboxItem


@pytest.fixture
def signed_in(client, comms_officer):
    client.force_login(comms_officer)
    return client


def test_it_records_the_decision_and_an_audit_event(signed_in, communications, make_item, comms_officer):
    item = make_item(communications)
    response = signed_in.post(reverse("triage:decide", args=[item.id]), {"outcome": "complaint"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == InboxItem.Status.DONE
    decision = Decision.objects.get(item=item)
    assert (decision.outcome, decision.decided_by) == ("complaint", comms_officer)
    event = AuditEvent.objects.get(action="triage.decide")
    assert event.object_id == str(item.id) and event.details["outcome"] == "complaint"
    assert event.actor == comms_officer


def test_it_takes_the_item_off_the_new_list_and_shows_it_decided(signed_in, communications, make_item):
    item = make_item(communications, text="Please help with my complaint")
    inbox = reverse("triage:inbox", args=["communications"])
    assert f'id="item-{item.id}"' in signed_in.get(inbox).content.decode()
    signed_in.post(reverse("triage:decide", args=[item.id]), {"outcome": "enquiry"})
    assert f'id="item-{item.id}"' not in signed_in.get(inbox).content.decode()
    done = signed_in.get(inbox + "?status=done").content.decode()
    assert f'id="item-{item.id}"' in done and "Enquiry" in done


def test_it_answers_htmx_with_the_decided_row(signed_in, communications, make_item):
    item = make_item(communications)
    response = signed_in.post(
        reverse("triage:decide", args=[item.id]),
        {"outcome": "information_request", "request_type": "sar"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET=f"item-{item.id}",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and f'id="item-{item.id}"' in body
    assert "Information request" in body and "Subject access" in body


def test_it_rejects_an_unknown_outcome_and_changes_nothing(signed_in, communications, make_item):
    item = make_item(communications)
    response = signed_in.post(reverse("triage:decide", args=[item.id]), {"outcome": "ignore"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    item.refresh_from_db()
    assert item.status == InboxItem.Status.NEW
    assert not Decision.objects.exists() and not AuditEvent.objects.filter(action="triage.decide").exists()


def test_it_writes_nothing_when_the_audit_write_fails(communications, make_item, comms_officer, monkeypatch):
    from triage import services

    def broken(**kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(services, "audit_event_record", broken)
    item = make_item(communications)
    with pytest.raises(RuntimeError):
        services.inbox_item_decide(item=item, outcome="news_item", actor=comms_officer)
    item.refresh_from_db()
    assert item.status == InboxItem.Status.NEW and not Decision.objects.exists()


def test_it_lists_newest_first_in_a_fixed_number_of_queries(
    signed_in, communications, make_item, django_assert_num_queries
):
    from listening.models import MentionHit, SavedSearch

    search = SavedSearch.objects.create(team=communications, name="s", query="ICO")
    items = [make_item(communications, text=f"ICO post {n}") for n in range(3)]
    for item in items:
        MentionHit.objects.create(mention=item.mention, saved_search=search, spans={"text": [[0, 3]]})
    url = reverse("triage:inbox", args=["communications"])
    signed_in.get(url)  # warm the session
    # 9: the page's queries plus one for the team's spike alert banner (the counts come in a request of their own).
    with django_assert_num_queries(9) as captured:
        body = signed_in.get(url).content.decode()
    for _ in range(20):
        more = make_item(communications, text="ICO again")
        MentionHit.objects.create(mention=more.mention, saved_search=search, spans={"text": [[0, 3]]})
    with django_assert_num_queries(len(captured.captured_queries)):
        signed_in.get(url)
    positions = [body.index(f'id="item-{item.id}"') for item in reversed(items)]
    assert positions == sorted(positions)
    assert "<mark>ICO</mark>" in body
    assert '<span class="count" id="open-count">23</span>' in signed_in.get(url, {"counts": "1"}).content.decode()


def test_a_second_officer_cannot_overwrite_a_decision(signed_in, communications, make_item, comms_officer):
    item = make_item(communications)
    signed_in.post(reverse("triage:decide", args=[item.id]), {"outcome": "complaint"})
    response = signed_in.post(reverse("triage:decide", args=[item.id]), {"outcome": "no_action"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "Already decided by carys as complaint" in response.content.decode()
    assert list(item.decisions.values_list("outcome", flat=True)) == ["complaint"]


def test_a_decision_can_be_changed_on_purpose_and_both_stay_in_the_history(signed_in, communications, make_item):
    item = make_item(communications)
    signed_in.post(reverse("triage:decide", args=[item.id]), {"outcome": "news_item"})
    response = signed_in.post(
        reverse("triage:decide", args=[item.id]), {"outcome": "complaint", "redecide": "1", "note": "misread it"}
    )
    assert response["Location"] == reverse("triage:item", args=[item.id])
    assert list(item.decisions.order_by("id").values_list("outcome", flat=True)) == ["news_item", "complaint"]
    assert AuditEvent.objects.filter(action="triage.decide", object_id=str(item.id)).count() == 2
    assert "misread it" in signed_in.get(reverse("triage:item", args=[item.id])).content.decode()


def test_an_information_request_needs_its_type(communications, make_item, comms_officer):
    from triage.services import DecisionRejected, inbox_item_decide

    item = make_item(communications)
    with pytest.raises(DecisionRejected, match="FOI, EIR or subject access"):
        inbox_item_decide(item=item, outcome="information_request", actor=comms_officer)
    assert not Decision.objects.exists()


def test_a_strange_page_cursor_is_ignored_not_an_error(signed_in, communications, make_item):
    make_item(communications)
    for cursor in ("²", "abc", "-1", "9" * 40, "2026-13-01T00:00:00_5", "x_1"):
        for status in ("open", "done"):
            response = signed_in.get(reverse("triage:inbox", args=["communications"]), {"cursor": cursor, "status": status})
            assert response.status_code == 200
