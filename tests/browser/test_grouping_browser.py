import pytest

from listening.ingest import page_ingest
from listening.models import SavedSearch, SavedSearchPlatform
from listening.posts import Post
from triage.models import InboxItem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = "Potholes on Mill Lane have been reported six times and nothing happens"


def test_a_viral_post_is_one_row_whose_posts_are_one_click_away_and_decided_together(
    page, sign_in, live_server, comms_officer, communications
):
    search = SavedSearch.objects.create(team=communications, name="potholes", query="potholes")
    SavedSearchPlatform.objects.create(saved_search=search, platform="demo")
    original = Post(platform="demo", external_id="orig", text=TEXT, author_handle="resident")
    reposts = [
        Post(platform="demo", external_id=f"rp-{n}", kind="repost", referenced_id="orig", text=f"RT: {TEXT}",
             author_handle=f"neighbour{n}")
        for n in range(50)
    ]
    page_ingest(platform="demo", posts=[original, *reposts[:25]])
    page_ingest(platform="demo", posts=reposts[25:])

    sign_in("carys")
    rows = page.locator("#inbox-items > li.item")
    assert rows.count() == 1
    row = rows.first
    count = row.locator("a.group-count")
    assert count.inner_text() == "51 posts"
    count.click()
    page.wait_for_load_state("networkidle")
    assert "/group/" in page.url
    assert page.locator("h1").inner_text() == "51 posts of one original"
    assert page.locator("table.group-members tbody tr").count() == 50

    page.go_back()
    page.wait_for_load_state("networkidle")
    item_id = page.locator("#inbox-items > li.item").first.get_attribute("data-item")
    page.locator(f'#item-{item_id} button[data-outcome="news_item"]').click()
    decided = page.locator(f"#item-{item_id}.decided")
    decided.wait_for()
    assert "51 posts" in decided.inner_text()
    assert InboxItem.objects.filter(team=communications, status="done").count() == 51
