"""The triage desk in a real browser: keyboard-only triage, presence, undo, and an axe-core check."""

import pytest

from accounts.models import AccessGrant, Role
from triage.models import InboxItem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def second_officer(django_user_model, communications):
    user = django_user_model.objects.create_user(username="dafydd", password="correct horse battery staple")
    AccessGrant.objects.create(user=user, team=communications, role=Role.COMMS_OFFICER, reason="test cast")
    return user


def _sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "correct horse battery staple")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def _wait_for_focus_on(page, item):
    page.wait_for_function(
        "id => document.activeElement && document.activeElement.getAttribute('data-item') === id", arg=str(item.id)
    )


def _outcome(item):
    decision = InboxItem.objects.get(pk=item.pk).latest_decision
    return (decision.outcome, decision.request_type) if decision else None


def test_an_officer_triages_three_items_by_keyboard_alone(page, sign_in, comms_officer, communications, make_item):
    items = [make_item(communications, text=f"Keyboard post {n} to the ICO") for n in range(4)]
    first, second, third, fourth = reversed(items)  # the inbox is newest first
    sign_in("carys")
    page.keyboard.press("j")
    _wait_for_focus_on(page, first)
    page.keyboard.press("e")
    page.locator(f"#item-{first.id}.decided").wait_for()
    _wait_for_focus_on(page, second)  # focus moves on to the next undecided item by itself
    page.keyboard.press("c")
    page.locator(f"#item-{second.id}.decided").wait_for()
    _wait_for_focus_on(page, third)
    page.keyboard.press("i")
    assert "press f for FOI" in page.locator("#desk-toast").inner_text()
    page.keyboard.press("v")
    page.locator(f"#item-{third.id}.decided").wait_for()
    _wait_for_focus_on(page, fourth)
    assert [_outcome(item) for item in (first, second, third)] == [
        ("enquiry", ""), ("complaint", ""), ("information_request", "eir")
    ]
    assert _outcome(fourth) is None
    # a assigns the focused item to me, and the focus stays on it.
    page.keyboard.press("a")
    page.locator(f"#holder-{fourth.id}").get_by_text("Assigned to you").wait_for()
    _wait_for_focus_on(page, fourth)
    assert InboxItem.objects.get(pk=fourth.pk).assignee == comms_officer
    # ? lists every key in a dialog that Esc closes.
    page.keyboard.press("?")
    dialog = page.locator("#keys-dialog")
    dialog.wait_for(state="visible")
    assert "Go to the inbox" in dialog.inner_text()
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    # Enter opens the focused item.
    page.locator(f"#item-{fourth.id}").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/items/{fourth.id}/")
    assert not [e for e in page.console_errors if "Content Security Policy" in e]


def test_a_colleague_sees_being_triaged_by_without_reloading(
    browser, page, sign_in, live_server, comms_officer, second_officer, communications, make_item
):
    item = make_item(communications, text="Who is on this one?")
    sign_in("dafydd")
    holder = page.locator(f"#holder-{item.id}")
    assert "Being triaged by" not in holder.inner_text()
    page.evaluate("window.__sameDocument = true")
    context = browser.new_context()
    try:
        other = context.new_page()
        other.set_default_timeout(15000)
        _sign_in(other, live_server, "carys")
        other.keyboard.press("j")
        other.keyboard.press("o")
        other.wait_for_url(f"**/items/{item.id}/")
        other.get_by_text("You are triaging this item").wait_for()
        # The colleague's inbox learns of it by polling, with no reload.
        holder.get_by_text("Being triaged by carys").wait_for(timeout=15000)
        assert page.evaluate("window.__sameDocument === true")
        # Leaving the item lets go of it, and the notice goes.
        other.goto(f"{live_server.url}/inbox/communications/")
        page.wait_for_function(
            "id => !document.getElementById('holder-' + id).textContent.includes('Being triaged')", arg=str(item.id),
            timeout=15000,
        )
        assert InboxItem.objects.get(pk=item.pk).claimed_by is None
        assert page.evaluate("window.__sameDocument === true")
    finally:
        context.close()


def test_a_colleague_can_take_over_a_claim(browser, page, sign_in, live_server, comms_officer, second_officer, communications, make_item):
    item = make_item(communications)
    sign_in("carys")
    page.goto(f"{live_server.url}/items/{item.id}/")
    page.get_by_text("You are triaging this item").wait_for()
    context = browser.new_context()
    try:
        other = context.new_page()
        other.set_default_timeout(15000)
        _sign_in(other, live_server, "dafydd")
        other.goto(f"{live_server.url}/items/{item.id}/")
        panel = other.locator("#claim-panel")
        panel.get_by_text("Being triaged by carys").wait_for()
        panel.get_by_role("button", name="Take over").click()
        panel.get_by_text("You are triaging this item").wait_for()
        assert InboxItem.objects.get(pk=item.pk).claimed_by == second_officer
    finally:
        context.close()


def test_the_undo_toast_reverses_a_decision(page, sign_in, comms_officer, communications, make_item):
    item = make_item(communications, text="Decided too fast")
    sign_in("carys")
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.locator(f"#item-{item.id}.decided").wait_for()
    toast = page.locator("#desk-toast")
    assert "Recorded as no action" in toast.inner_text()
    assert InboxItem.objects.get(pk=item.pk).status == InboxItem.Status.DONE
    toast.get_by_role("button", name="Undo").click()
    page.locator(f"#item-{item.id}:not(.decided) button[data-outcome='no_action']").wait_for()
    assert "Decision undone" in toast.inner_text()
    refreshed = InboxItem.objects.get(pk=item.pk)
    assert refreshed.status == InboxItem.Status.NEW and refreshed.latest_decision is None
    assert refreshed.decisions.get().undone_by == comms_officer  # kept in the history, marked undone
    _wait_for_focus_on(page, item)
    # The toast goes after 10 seconds.
    page.wait_for_function("() => !document.getElementById('desk-toast').textContent.trim()", timeout=15000)
    # z undoes by keyboard too.
    page.keyboard.press("n")
    page.locator(f"#item-{item.id}.decided").wait_for()
    page.keyboard.press("z")
    page.locator(f"#item-{item.id}:not(.decided)").wait_for()
    assert InboxItem.objects.get(pk=item.pk).status == InboxItem.Status.NEW


def test_bulk_selection_by_space_and_shift_click(page, sign_in, comms_officer, communications, make_item):
    items = list(reversed([make_item(communications, text=f"Bulk post {n}") for n in range(5)]))
    sign_in("carys")
    page.keyboard.press("j")
    page.keyboard.press(" ")
    assert page.locator("#selected-count").inner_text() == "1"
    page.locator(f"#select-{items[3].id}").click(modifiers=["Shift"])
    assert page.locator("#selected-count").inner_text() == "4"
    page.locator("#bulk-form button[value='dismiss']").click()
    page.wait_for_load_state("networkidle")
    assert "Dismissed 4 items." in page.locator(".messages").inner_text()
    assert [InboxItem.objects.get(pk=i.pk).status for i in items] == ["done"] * 4 + ["new"]


def _serious_violations(page):
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_axe_finds_no_serious_violations_on_the_inbox_and_item_pages(
    page, sign_in, live_server, comms_officer, second_officer, communications, make_item
):
    from triage.services import inbox_item_decide

    items = [make_item(communications, text=f"Accessible post {n} about #foi") for n in range(3)]
    InboxItem.objects.filter(pk=items[0].pk).update(assignee=second_officer)
    inbox_item_decide(item=items[1], outcome="complaint", actor=comms_officer)
    sign_in("carys")
    page.keyboard.press("j")
    page.keyboard.press("x")  # a decided row and the undo toast on screen
    page.locator("#desk-toast button[data-undo]").wait_for()
    assert _serious_violations(page) == []
    page.keyboard.press("?")
    page.locator("#keys-dialog").wait_for(state="visible")
    assert _serious_violations(page) == []
    page.keyboard.press("Escape")
    page.goto(f"{live_server.url}/inbox/communications/?status=done")
    assert _serious_violations(page) == []
    page.goto(f"{live_server.url}/items/{items[0].id}/")
    page.get_by_text("You are triaging this item").wait_for()
    assert _serious_violations(page) == []
    page.goto(f"{live_server.url}/items/{items[1].id}/")
    assert _serious_violations(page) == []
