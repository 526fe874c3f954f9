import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_unbalanced_quote_shows_at_the_caret_and_clears_when_fixed(page, sign_in, live_server, comms_officer, communications, make_item):
    make_item(communications, text="Got an ICO registration letter demanding a data protection fee. Scam?")
    make_item(communications, text="Lovely weather in Wilmslow")
    sign_in("carys")
    page.goto(f"{live_server.url}/searches/new/")
    query = page.locator("#id_query")
    query.fill('"data protection fee OR scam')
    problem = page.locator("#query-check .query-problem")
    problem.wait_for()
    assert "quote" in problem.inner_text().lower()
    assert problem.get_attribute("data-position") == "0"
    caret = page.locator("#query-check pre.query-error").inner_text().splitlines()[1]
    assert caret.index("^") == 0

    query.fill('"data protection fee" OR scam')
    page.locator("#query-check .query-ok").wait_for()
    assert page.locator("#query-check .query-problem").count() == 0

    page.click("#try-it")
    page.locator("#try-it-panel .try-summary").wait_for()
    assert page.locator("#try-it-panel .try-summary").inner_text() == "1 stored mention from the last 30 days matches."
    assert page.locator("#try-it-panel mark").first.inner_text().lower() in ("data protection fee", "scam")


def test_choosing_a_platform_shows_what_it_will_be_asked(page, sign_in, live_server, comms_officer):
    sign_in("carys")
    page.goto(f"{live_server.url}/searches/new/")
    page.locator("#id_query").fill("privacy NEAR/3 fine")
    page.locator("#query-check .query-ok").wait_for()
    page.check("#id_platforms input[value=x]")
    preview = page.locator("#query-check .previews li").first
    preview.wait_for()
    assert "X" in preview.inner_text() and "privacy" in preview.inner_text() and "NEAR" not in preview.inner_text()
