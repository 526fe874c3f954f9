import pytest

from listening.ingest import page_ingest
from listening.sources.demo import DemoSource
from triage.models import InboxItem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_comms_officer_triages_a_demo_mention_and_it_stays_decided(page, sign_in, live_server, comms_officer, demo_searches):
    posts = next(DemoSource(page_size=80).pages(query=None, cursor={}, max_pages=1)).posts
    page_ingest(platform="demo", posts=posts)
    assert InboxItem.objects.filter(team__slug="communications").count() >= 2

    sign_in("carys")
    assert "/inbox/communications/" in page.url
    rows = page.locator("#inbox-items > li.item")
    before = rows.count()
    open_before = int(page.locator("#open-count").inner_text())
    assert before >= 2
    first = rows.first
    item_id = first.get_attribute("data-item")
    first.locator('button[data-outcome="complaint"]').click()
    decided = page.locator(f"#item-{item_id}.decided")
    decided.wait_for()
    assert "Complaint" in decided.inner_text()
    assert page.locator("#open-count").inner_text() == str(open_before - 1)

    page.reload()
    assert page.locator(f"#item-{item_id}").count() == 0
    page.goto(f"{live_server.url}/inbox/communications/?status=done")
    assert "Complaint" in page.locator(f"#item-{item_id}").inner_text()
    assert InboxItem.objects.get(pk=item_id).status == "done"
    assert not [e for e in page.console_errors if "Content Security Policy" in e]


def test_keyboard_triage_records_the_focused_item(page, sign_in, comms_officer, communications, make_item):
    items = [make_item(communications, text=f"Keyboard post {n} to the ICO") for n in range(3)]
    sign_in("carys")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("n")
    target = items[1]  # newest first: items[2], then items[1]
    page.locator(f"#item-{target.id}.decided").wait_for()
    assert InboxItem.objects.get(pk=target.id).decisions.get().outcome == "news_item"


def test_a_hostile_post_is_inert_in_the_browser(page, sign_in, comms_officer, communications, make_item):
    make_item(
        communications,
        text="<script>window.__owned = true; alert('x')</script><img src=x onerror=\"window.__owned=true\">",
        url="javascript:window.__owned=true",
        links=["javascript:window.__owned=true"],
    )
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in("carys")
    assert "<script>window.__owned" in page.locator("#inbox-items .text").first.inner_text()
    assert page.evaluate("window.__owned === undefined")
    assert page.locator('a[href^="javascript:"]').count() == 0
    assert dialogs == []
