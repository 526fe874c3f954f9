import pytest
from django.utils import timezone

from listening.models import SavedSearch, SavedSearchPlatform, WatchList, WatchListMember
from listening.sources.demo import load_sample


@pytest.fixture
def demo_searches(communications, foi_team):
    """The demo installation's saved searches, on the demo platform, due now."""
    from listening.demo import FOI_SEARCH, communications_searches

    watch_list = WatchList.objects.create(name="tech journalists")
    for handle in load_sample()["watch_lists"]["tech journalists"]:
        WatchListMember.objects.create(watch_list=watch_list, platform="demo", handle=handle)
    rows = [(communications, *row) for row in communications_searches(load_sample()["regulator_handle"])]
    rows.append((foi_team, *FOI_SEARCH))
    states = []
    for team, name, query, purpose in rows:
        search = SavedSearch.objects.create(team=team, name=name, query=query, purpose=purpose, interval_minutes=1)
        states.append(SavedSearchPlatform.objects.create(saved_search=search, platform="demo", next_run_at=timezone.now()))
    return states
