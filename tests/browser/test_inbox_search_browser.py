import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shown(page) -> set[int]:
    return {int(n) for n in page.locator("#inbox-items > li.item").evaluate_all("rows => rows.map(r => r.dataset.item)")}


def test_search_finds_foi_and_jane_as_typed_and_keeps_them_in_the_address(page, sign_in, live_server, comms_officer, communications, make_item):
    tagged = make_item(communications, text="Still waiting on my #FOI to the council")
    longer_tag = make_item(communications, text="Reading about #FOIA in the US")
    mentioned = make_item(communications, text="Thanks @jane for the help")
    authored = make_item(communications, text="Something else entirely", author_handle="jane")
    other_handle = make_item(communications, text="Thanks @janet for nothing")
    sign_in("carys")
    assert _shown(page) == {tagged.id, longer_tag.id, mentioned.id, authored.id, other_handle.id}

    page.fill("#inbox-q", "#foi")
    page.press("#inbox-q", "Enter")
    page.wait_for_url("**q=%23foi**")
    page.locator(f"#item-{mentioned.id}").wait_for(state="detached")
    assert _shown(page) == {tagged.id}
    assert page.locator(f"#item-{tagged.id} mark.found").inner_text() == "FOI"

    page.fill("#inbox-q", "@jane")
    page.press("#inbox-q", "Enter")
    page.wait_for_url("**q=%40jane**")
    page.locator(f"#item-{tagged.id}").wait_for(state="detached")
    assert _shown(page) == {mentioned.id, authored.id}

    # The address is the view: opened afresh (as a bookmark would be), it shows the same.
    page.goto(page.url)
    assert _shown(page) == {mentioned.id, authored.id}
    assert page.input_value("#inbox-q") == "@jane"
    assert not [e for e in page.console_errors if "Content Security Policy" in e]
