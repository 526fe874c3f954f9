import pytest
from django.urls import reverse

from governance.models import AuditEvent
from listening.models import Mention, SavedSearch, SavedSearchPlatform, WatchList


@pytest.fixture
def signed_in(client, comms_officer):
    client.force_login(comms_officer)
    return client


def _form(team, query, **extra):
    data = {"team": team.id, "name": "Fee scams", "query": query, "purpose": "engagement",
            "platforms": ["demo", "x"], "interval_minutes": 5, "enabled": "on"}
    data.update(extra)
    return data


def test_it_saves_a_valid_search_with_its_platforms_and_an_audit_row(signed_in, communications):
    response = signed_in.post(reverse("listening:saved_search_new"), _form(communications, '"data protection fee"'))
    assert response.status_code == 302
    search = SavedSearch.objects.get()
    assert sorted(SavedSearchPlatform.objects.filter(saved_search=search).values_list("platform", flat=True)) == ["demo", "x"]
    assert AuditEvent.objects.filter(action="saved_search.create", object_id=str(search.id)).exists()


def test_it_refuses_to_save_an_invalid_query(signed_in, communications):
    response = signed_in.post(reverse("listening:saved_search_new"), _form(communications, '"data protection fee'))
    assert response.status_code == 200
    assert "quote" in response.content.decode().lower()
    assert not SavedSearch.objects.exists()


def test_it_refuses_an_unknown_watch_list(signed_in, communications):
    response = signed_in.post(reverse("listening:saved_search_new"), _form(communications, 'list:"tech hacks" GDPR'))
    assert "no watch list called" in response.content.decode()
    assert not SavedSearch.objects.exists()
    WatchList.objects.create(name="Tech Hacks")
    assert signed_in.post(reverse("listening:saved_search_new"), _form(communications, 'list:"tech hacks" GDPR')).status_code == 302


def test_an_foi_member_may_only_write_foi_monitoring_searches(client, foi_member, foi_team):
    client.force_login(foi_member)
    url = reverse("listening:saved_search_new")
    client.post(url, _form(foi_team, "FOI overdue", purpose="engagement"))
    assert not SavedSearch.objects.exists()
    assert client.post(url, _form(foi_team, "FOI overdue", purpose="foi_monitoring")).status_code == 302


def test_a_comms_officer_cannot_save_into_another_team(signed_in, foi_team):
    signed_in.post(reverse("listening:saved_search_new"), _form(foi_team, "FOI"))
    assert not SavedSearch.objects.exists()


def test_the_check_shows_the_error_under_a_caret(signed_in):
    query = 'GDPR OR "the ICO'
    body = signed_in.post(reverse("listening:saved_search_check"), {"query": query}).content.decode()
    assert "Unclosed quote" in body or "quote" in body.lower()
    caret_line = body.split('<pre class="query-error">', 1)[1].split("</pre>", 1)[0].splitlines()[1]
    assert caret_line.index("^") == query.index('"')


def test_the_check_shows_what_each_platform_will_be_asked(signed_in):
    body = signed_in.post(
        reverse("listening:saved_search_check"), {"query": "privacy NEAR/3 fine", "platforms": ["x", "demo"]}
    ).content.decode()
    assert "The query is valid" in body
    assert "privacy" in body and "NEAR" not in body.split("The query is valid", 1)[1].split("Demo")[0]
    assert "every new post is fetched" in body


def test_try_it_counts_and_highlights_stored_matches(signed_in, communications, make_item):
    make_item(communications, text="I reported it to the ICO yesterday")
    make_item(communications, text="Nothing to see here")
    body = signed_in.post(reverse("listening:saved_search_try"), {"query": '"the ICO"'}).content.decode()
    assert "<strong>1</strong> stored mention from the last 30 days matches." in body
    assert "<mark>the ICO</mark>" in body


def test_try_it_reads_only_mentions_the_officer_may_see(signed_in, foi_team, make_item):
    make_item(foi_team, text="FOI to the council is overdue, complained to the ICO")
    body = signed_in.post(reverse("listening:saved_search_try"), {"query": '"the ICO"'}).content.decode()
    assert "<strong>0</strong> stored mentions from the last 30 days match." in body
    assert Mention.objects.count() == 1


def test_a_comms_officer_cannot_write_foi_monitoring_searches(signed_in, communications):
    signed_in.post(reverse("listening:saved_search_new"), _form(communications, "FOI overdue", purpose="foi_monitoring"))
    assert not SavedSearch.objects.exists()


def test_it_refuses_an_interval_of_zero(signed_in, communications):
    response = signed_in.post(reverse("listening:saved_search_new"), _form(communications, "GDPR", interval_minutes=0))
    assert response.status_code == 200 and not SavedSearch.objects.exists()
