"""“Try it” reads stored mentions within a time budget and says when it stopped early."""

import pytest
from django.urls import reverse

from listening.query import parse
from listening.selectors import stored_matches


@pytest.fixture
def signed_in(client, comms_officer):
    client.force_login(comms_officer)
    return client


def test_it_stops_when_the_budget_is_spent_and_says_how_far_it_got(signed_in, communications, make_item, settings):
    for n in range(5):
        make_item(communications, text=f"Complained to the ICO, post {n}")
    settings.EARSHOT_TRY_IT_BUDGET_SECONDS = 3600
    body = signed_in.post(reverse("listening:saved_search_try"), {"query": '"the ICO"'}).content.decode()
    assert "<strong>5</strong> of 5 stored mentions" in body and "Stopped after" not in body

    settings.EARSHOT_TRY_IT_BUDGET_SECONDS = 0  # spent before the second mention: one is always read
    body = signed_in.post(reverse("listening:saved_search_try"), {"query": '"the ICO"'}).content.decode()
    assert "<strong>1</strong> of 1 stored mention from the last 30 days matches." in body
    assert "Stopped after 0 s: showing matches among the first 1 mention checked." in body
    assert body.count('class="item try-match"') == 1


def test_the_budget_counts_from_the_start_of_the_read(communications, make_item):
    for n in range(3):
        make_item(communications, text=f"the ICO {n}")
    result = stored_matches(query=parse('"the ICO"'), budget_seconds=0)
    assert (result.checked, result.matched, result.stopped_after) == (1, 1, 0)
    whole = stored_matches(query=parse('"the ICO"'), budget_seconds=None)
    assert (whole.checked, whole.matched, whole.stopped_after) == (3, 3, None)


def test_it_says_when_it_read_only_the_newest_mentions(signed_in, communications, make_item, monkeypatch):
    from listening import selectors

    monkeypatch.setattr(selectors, "TRY_IT_LIMIT", 2)
    for n in range(3):
        make_item(communications, text=f"the ICO {n}")
    body = signed_in.post(reverse("listening:saved_search_try"), {"query": '"the ICO"'}).content.decode()
    assert "Only the newest 2 mentions were checked." in body
