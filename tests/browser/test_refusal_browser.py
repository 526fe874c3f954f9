"""A refused htmx action shows the server's words beside the item, as text."""

import pytest

from accounts.models import AccessGrant, Role
from triage.models import Decision

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _signed_in_page(browser, live_server, username):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "correct horse battery staple")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return context, page


def test_the_second_officer_sees_who_decided_the_item_first(
    browser, page, sign_in, live_server, comms_officer, communications, make_item, django_user_model
):
    item = make_item(communications, text="Two officers, one post about the ICO")
    second = django_user_model.objects.create_user(username="dafydd", password="correct horse battery staple")
    AccessGrant.objects.create(user=second, team=communications, role=Role.COMMS_OFFICER, reason="test")

    sign_in("carys")
    other_context, other = _signed_in_page(browser, live_server, "dafydd")
    try:
        assert other.locator(f"#item-{item.id} button[data-outcome='news_item']").is_visible()
        page.locator(f"#item-{item.id} button[data-outcome='complaint']").click()
        page.locator(f"#item-{item.id}.decided").wait_for()

        other.locator(f"#item-{item.id} button[data-outcome='news_item']").click()
        problem = other.locator(f"#item-{item.id} .request-problem[role=alert]")
        problem.wait_for()
        assert problem.inner_text() == "Already decided by carys as complaint. Reload to see it."
        assert list(Decision.objects.filter(item=item).values_list("outcome", flat=True)) == ["complaint"]
    finally:
        other_context.close()


def test_a_refusal_quoting_markup_is_shown_as_text(page, sign_in, comms_officer, communications, make_item):
    item = make_item(communications)
    sign_in("carys")
    button = page.locator(f"#item-{item.id} button[data-outcome='enquiry']")
    button.evaluate("b => b.value = '<img src=x onerror=window.__owned=1>'")
    button.click()
    problem = page.locator(f"#item-{item.id} .request-problem")
    problem.wait_for()
    assert problem.inner_text() == "“<img src=x onerror=window.__owned=1>” is not a triage outcome."
    assert page.locator(f"#item-{item.id} .request-problem img").count() == 0
    assert page.evaluate("window.__owned === undefined")
    assert not Decision.objects.exists()
    assert not [e for e in page.console_errors if "Content Security Policy" in e]


def test_a_request_that_cannot_reach_the_server_says_so(page, sign_in, comms_officer, communications, make_item):
    item = make_item(communications)
    sign_in("carys")
    page.route("**/decide/", lambda route: route.abort())
    page.locator(f"#item-{item.id} button[data-outcome='complaint']").click()
    problem = page.locator(f"#item-{item.id} .request-problem[role=alert]")
    problem.wait_for()
    assert "could not be reached" in problem.inner_text()

    page.unroute("**/decide/")
    page.locator(f"#item-{item.id} button[data-outcome='complaint']").click()
    page.locator(f"#item-{item.id}.decided").wait_for()
    assert page.locator(".request-problem").count() == 0
