"""“Try it” reads stored mentions within a time budget and says when its count is only a lower bound."""

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
    assert "<strong>5</strong> stored mentions from the last 30 days match." in body
    assert "Stopped after" not in body and "At least" not in body

    settings.EARSHOT_TRY_IT_BUDGET_SECONDS = 0  # spent before the second mention: one is always read
    body = signed_in.post(reverse("listening:saved_search_try"), {"query": '"the ICO"'}).content.decode()
    assert "At least <strong>1</strong> stored mention from the last 30 days matches: a lower bound" in body
    assert "Stopped after 0 s, with the newest 1 candidate checked." in body
    assert body.count('class="item try-match"') == 1


def test_the_budget_counts_from_the_start_of_the_read(communications, make_item):
    for n in range(3):
        make_item(communications, text=f"the ICO {n}")
    result = stored_matches(query=parse('"the ICO"'), budget_seconds=0)
    assert (result.checked, result.matched, result.stopped_after, result.complete) == (1, 1, 0, False)
    whole = stored_matches(query=parse('"the ICO"'), budget_seconds=None)
    assert (whole.checked, whole.matched, whole.stopped_after, whole.complete) == (3, 3, None, True)


def test_it_says_when_it_read_only_the_newest_mentions(signed_in, communications, make_item, monkeypatch):
    from listening import selectors

    monkeypatch.setattr(selectors, "TRY_IT_LIMIT", 2)
    for n in range(3):
        make_item(communications, text=f"the ICO {n}")
    body = signed_in.post(reverse("listening:saved_search_try"), {"query": '"the ICO"'}).content.decode()
    assert "At least <strong>2</strong> stored mentions" in body
    assert "Only the newest 2 candidates were checked." in body
