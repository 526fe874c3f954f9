"""The matching generation: one row, bumped by triggers whenever what the matcher reads changes."""

import pytest
from django.db import connection, transaction

from accounts.models import Team
from governance.subject_access.suppression import suppression_add
from listening.ingest import page_ingest
from listening.models import SavedSearch, SavedSearchPlatform, WatchList, WatchListMember
from listening.posts import Post


def _generation() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT generation FROM listening_matching_generation")
        return cursor.fetchone()[0]


def _post(external_id, text, author="someone"):
    return Post(platform="demo", external_id=external_id, text=text, author_handle=author)


@pytest.fixture
def kittens(communications):
    search = SavedSearch.objects.create(team=communications, name="cats", query="kittens")
    SavedSearchPlatform.objects.create(saved_search=search, platform="demo")
    return search


def test_a_harvest_s_own_writes_leave_the_generation_alone(kittens):
    before = _generation()
    SavedSearchPlatform.objects.filter(saved_search=kittens).update(cursor={"offset": 100}, last_status="ok")
    SavedSearch.objects.filter(pk=kittens.pk).update(name="Cats", purpose="a purpose")
    page_ingest(platform="demo", posts=[_post("g-1", "kittens again")])
    assert _generation() == before


def test_a_queryset_update_of_a_search_s_team_reaches_the_next_page(kittens, foi_team):
    from triage.models import InboxItem

    page_ingest(platform="demo", posts=[_post("t-1", "kittens")])
    SavedSearch.objects.filter(pk=kittens.pk).update(team=foi_team)  # no save(): updated_at stays as it was
    page_ingest(platform="demo", posts=[_post("t-2", "more kittens")])
    assert InboxItem.objects.get(mention__external_id="t-2").team == foi_team


def test_a_renamed_watch_list_and_a_listed_author_reach_the_next_page(communications):
    watch_list = WatchList.objects.create(name="press")
    WatchListMember.objects.create(watch_list=watch_list, platform="demo", handle="reporter")
    search = SavedSearch.objects.create(team=communications, name="Press", query='list:"press desk" FOI')
    SavedSearchPlatform.objects.create(saved_search=search, platform="demo")
    assert page_ingest(platform="demo", posts=[_post("r-1", "FOI", author="reporter")]).matched == 0

    WatchList.objects.filter(pk=watch_list.pk).update(name="press desk")
    assert page_ingest(platform="demo", posts=[_post("r-2", "FOI", author="reporter")]).matched == 1

    suppression_add(platform="demo", handle="reporter")
    assert page_ingest(platform="demo", posts=[_post("r-3", "FOI", author="reporter")]).matched == 0


def test_a_change_rolled_back_never_lends_its_number_to_another(communications):
    """The cache is keyed by the number: a rolled-back change and a later, different one must differ."""
    team = Team.objects.get(pk=communications.pk)
    before = _generation()
    with pytest.raises(RuntimeError), transaction.atomic():
        SavedSearch.objects.create(team=team, name="dogs", query="puppies")
        rolled_back = _generation()
        raise RuntimeError
    assert _generation() == before
    SavedSearch.objects.create(team=team, name="birds", query="parrots")
    assert _generation() not in (before, rolled_back)
