"""A refused decision says why, in plain text, and changes nothing."""

import pytest
from django.test import override_settings
from django.urls import reverse

from governance.models import AuditEvent
from triage.models import Decision, InboxItem

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def signed_in(client, comms_officer):
    client.force_login(comms_officer)
    return client


def test_it_refuses_a_second_decision_saying_who_made_the_first(signed_in, client, communications, make_item, admin_user):
    item = make_item(communications)
    url = reverse("triage:decide", args=[item.id])
    assert signed_in.post(url, {"outcome": "complaint"}, **HTMX).status_code == 200
    client.force_login(admin_user)
    response = client.post(url, {"outcome": "news_item"}, **HTMX)
    assert response.status_code == 400 and response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == "Already decided by carys as complaint. Reload to see it."
    assert Decision.objects.get(item=item).outcome == "complaint"


def test_it_sends_a_refusal_quoting_a_hostile_outcome_as_plain_text(signed_in, communications, make_item):
    item = make_item(communications)
    response = signed_in.post(reverse("triage:decide", args=[item.id]), {"outcome": "<script>alert(1)</script>"}, **HTMX)
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == "“<script>alert(1)</script>” is not a triage outcome."
    assert not Decision.objects.exists()


def test_it_shows_a_hostile_outcome_escaped_on_the_page_without_htmx(signed_in, communications, make_item):
    item = make_item(communications)
    response = signed_in.post(reverse("triage:decide", args=[item.id]), {"outcome": "<img src=x onerror=alert(1)>"}, follow=True)
    body = response.content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;” is not a triage outcome." in body
    assert "<img src=x" not in body


def test_it_quotes_only_the_start_of_a_long_outcome(signed_in, communications, make_item):
    item = make_item(communications)
    response = signed_in.post(reverse("triage:decide", args=[item.id]), {"outcome": "z" * 10_000}, **HTMX)
    assert response.status_code == 400 and len(response.content) < 200


def test_it_refuses_a_note_over_the_limit_and_changes_nothing(signed_in, communications, make_item):
    item = make_item(communications)
    url = reverse("triage:decide", args=[item.id])
    signed_in.post(url, {"outcome": "enquiry"})
    events = AuditEvent.objects.count()
    response = signed_in.post(url, {"outcome": "complaint", "redecide": "1", "note": "n" * 5_001}, **HTMX)
    assert response.status_code == 400
    assert response.content.decode() == (
        "The note is 5,001 characters long; a note can be at most 5,000. Nothing was recorded."
    )
    assert list(Decision.objects.values_list("outcome", flat=True)) == ["enquiry"]
    assert AuditEvent.objects.count() == events
    # At the limit, it is kept.
    signed_in.post(url, {"outcome": "complaint", "redecide": "1", "note": "n" * 5_000})
    assert Decision.objects.filter(item=item, outcome="complaint").get().note == "n" * 5_000


def test_it_refuses_a_long_note_on_the_page_with_a_message(signed_in, communications, make_item):
    item = make_item(communications)
    url = reverse("triage:decide", args=[item.id])
    signed_in.post(url, {"outcome": "enquiry"})
    response = signed_in.post(url, {"outcome": "complaint", "redecide": "1", "note": "n" * 6_000}, follow=True)
    assert "a note can be at most 5,000" in response.content.decode()
    assert 'maxlength="5000"' in response.content.decode()
    assert Decision.objects.filter(item=item).count() == 1


def test_it_ignores_an_older_than_id_too_long_to_be_an_id_even_past_the_request_guard(
    signed_in, communications, make_item, settings
):
    item = make_item(communications)
    without_guard = [m for m in settings.MIDDLEWARE if "request_guard" not in m]
    with override_settings(MIDDLEWARE=without_guard):
        for before in ("9" * 25, "9" * 4301):
            response = signed_in.get(reverse("triage:inbox", args=["communications"]), {"before": before})
            assert response.status_code == 200 and f'id="item-{item.id}"' in response.content.decode()
    assert InboxItem.objects.get(pk=item.pk).status == "new"
