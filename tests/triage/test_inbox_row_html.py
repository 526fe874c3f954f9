"""The inbox row and its holder line, printed in Python (triage/inbox_row_html.py).

What the row's readers rely on: escaping of post content and names, the ids and data
attributes earshot.js and the browser tests use, the htmx attributes of its forms, the
bulk-selection checkbox, and who holds the item.
"""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessGrant, Role
from listening.models import MentionHit, SavedSearch
from triage import inbox_list
from triage.inbox_row_html import holder_html, row_html
from triage.models import Case, InboxItem
from triage.services import inbox_item_decide

HOSTILE = '<script>alert("x")</script>&\'q\''
HOSTILE_ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#x27;q&#x27;"
TOKEN = 'tok"<en>'


@pytest.fixture
def other(django_user_model, communications):
    user = django_user_model.objects.create_user(username="<b>dafydd</b>", password="x")
    AccessGrant.objects.create(user=user, team=communications, role=Role.COMMS_OFFICER, reason="test cast")
    return user


def _row(item):
    return inbox_list.inbox_row(item_id=item.pk, team_id=item.team_id)


def _html(item, user, *, on_item_page=False, token=TOKEN):
    return row_html(_row(item), user_id=user.pk, csrf_token=token, on_item_page=on_item_page)


def _li(html: str) -> str:
    return re.match(r"<li [^>]*>", html).group(0)


def test_it_escapes_every_piece_of_post_content_and_every_name(communications, make_item, comms_officer, other):
    item = make_item(
        communications, text=HOSTILE, title=HOSTILE, author_name=HOSTILE, author_handle=HOSTILE,
        url="javascript:alert(1)", links=["https://example.org/?a=1&b=<x>", "javascript:alert(2)"],
    )
    search = SavedSearch.objects.create(team=communications, name=HOSTILE, query="x")
    MentionHit.objects.create(mention=item.mention, saved_search=search, spans={"text": [[0, 8]]})
    InboxItem.objects.filter(pk=item.pk).update(assignee=other, claimed_by=other, claimed_at=timezone.now())
    html = _html(item, comms_officer)
    assert "<script" not in html and "<b>" not in html and "<x>" not in html
    assert f'<span class="author">{HOSTILE_ESCAPED}</span>' in html
    assert f'<span class="handle">@{HOSTILE_ESCAPED}</span>' in html
    assert f'<span class="search-tag">{HOSTILE_ESCAPED}</span>' in html
    assert f'<p class="title">{HOSTILE_ESCAPED}</p>' in html
    assert '<p class="text"><mark>&lt;script&gt;</mark>alert(&quot;x&quot;)&lt;/script&gt;' in html
    assert f'aria-label="Select the post by @{HOSTILE_ESCAPED} for a bulk action"' in html
    assert "Assigned to &lt;b&gt;dafydd&lt;/b&gt;" in html and "Being triaged by &lt;b&gt;dafydd&lt;/b&gt;" in html
    # Only http(s) links become links.
    assert 'href="javascript:' not in html and '<span class="inert-link">javascript:alert(2)</span>' in html
    assert '<a href="https://example.org/?a=1&amp;b=&lt;x&gt;" rel="noopener noreferrer nofollow"' in html
    # The token is escaped in both forms.
    assert html.count('name="csrfmiddlewaretoken" value="tok&quot;&lt;en&gt;"') == 2


def test_an_open_row_carries_the_ids_and_htmx_attributes_the_page_uses(communications, make_item, comms_officer):
    item = make_item(communications)
    html, n = _html(item, comms_officer), item.pk
    assert html.startswith(f'<li class="item" id="item-{n}" data-item="{n}" tabindex="0">') and html.endswith("</li>\n")
    assert (
        f'<input type="checkbox" class="select-item" name="items" value="{n}" form="bulk-form" id="select-{n}"'
        ' aria-label="Select the post by @someone for a bulk action">'
    ) in html
    decide = reverse("triage:decide", args=[n])
    assert (
        f'<form class="decide" method="post" action="{decide}" hx-post="{decide}" hx-target="#item-{n}" hx-swap="outerHTML">'
    ) in html
    assert 'data-outcome="complaint"' in html and '<select name="request_type"' in html
    assign = reverse("triage:assign", args=[n])
    assert (
        f'<form class="hold" method="post" action="{assign}" hx-post="{assign}" hx-target="#item-{n}" hx-swap="outerHTML">'
    ) in html
    assert f'<span class="holder" id="holder-{n}"></span>' in html
    assert f'<a href="{reverse("triage:item", args=[n])}">Details</a>' in html
    assert f'<a href="{reverse("triage:circulate", args=[n])}">Circulate</a>' in html
    assert 'data-assign="me"' in html and 'data-assign="none"' not in html and 'name="back"' not in html


def test_on_the_item_page_the_row_has_no_checkbox_and_its_hold_form_comes_back_to_the_page(
    communications, make_item, comms_officer
):
    item = make_item(communications)
    html = _html(item, comms_officer, on_item_page=True)
    assert "select-item" not in html
    assert '<input type="hidden" name="back" value="item">' in html


def test_without_a_token_the_hold_form_has_no_token_input(communications, make_item, comms_officer):
    html = _html(make_item(communications), comms_officer, token=None)
    assert html.count("csrfmiddlewaretoken") == 1  # the decide form's, empty, as {{ csrf_token }} printed it
    assert 'name="csrfmiddlewaretoken" value=""' in html


def test_the_holder_line_says_who_holds_the_item(communications, make_item, comms_officer, other):
    me, now = comms_officer, timezone.now()
    mine = make_item(communications)
    InboxItem.objects.filter(pk=mine.pk).update(assignee=me, claimed_by=me, claimed_at=now)
    theirs = make_item(communications)
    InboxItem.objects.filter(pk=theirs.pk).update(assignee=other, claimed_by=other, claimed_at=now)
    stale = make_item(communications)
    InboxItem.objects.filter(pk=stale.pk).update(claimed_by=other, claimed_at=now - timedelta(days=1))
    html = _html(mine, me)
    assert (
        f'<span class="holder" id="holder-{mine.pk}"><span class="held assigned">Assigned to you</span>'
        ' <span class="held claimed">Being triaged by you</span></span>'
    ) in html
    assert 'data-assign="me"' not in html and 'data-assign="none"' in html
    html = _html(theirs, me)
    assert "Assigned to &lt;b&gt;dafydd&lt;/b&gt;</span> <span class=\"held claimed\">Being triaged by &lt;b&gt;dafydd" in html
    assert 'data-assign="me"' in html and 'data-assign="none"' in html
    assert f'<span class="holder" id="holder-{stale.pk}"></span>' in _html(stale, me)


def test_the_polled_holder_line_swaps_out_of_band_and_says_when_the_item_was_decided(
    communications, make_item, comms_officer
):
    item = make_item(communications)
    InboxItem.objects.filter(pk=item.pk).update(assignee=comms_officer)
    item.refresh_from_db()
    assert holder_html(item, user_id=comms_officer.pk, oob=True) == (
        f'<span class="holder" id="holder-{item.pk}" hx-swap-oob="true"><span class="held assigned">Assigned to you</span></span>'
    )
    inbox_item_decide(item=item, outcome="no_action", actor=comms_officer)
    item.refresh_from_db()
    assert holder_html(item, user_id=comms_officer.pk, oob=True) == (
        f'<span class="holder" id="holder-{item.pk}" hx-swap-oob="true">'
        '<span class="held decided-meanwhile">Decided meanwhile: reload to see it</span></span>'
    )
    assert holder_html(item, user_id=comms_officer.pk) == f'<span class="holder" id="holder-{item.pk}"></span>'


def test_a_group_leader_counts_its_posts_and_a_member_links_to_its_group(communications, make_item, comms_officer):
    leader, member, single = make_item(communications), make_item(communications), make_item(communications)
    InboxItem.objects.filter(pk=leader.pk).update(group_size=3)
    InboxItem.objects.filter(pk=member.pk).update(group=leader)
    assert (
        f'<a class="group-count" href="{reverse("triage:group", args=[leader.pk])}" title="Reposts, quotes and copies'
        ' of one post; deciding it decides them all">3 posts</a>'
    ) in _html(leader, comms_officer)
    assert (
        f'<a class="group-count" href="{reverse("triage:group", args=[member.pk])}">One of a group: see all its posts</a>'
    ) in _html(member, comms_officer)
    assert "group-count" not in _html(single, comms_officer)


def test_a_decided_row_shows_its_decision_and_no_forms(communications, make_item, comms_officer, other):
    item = make_item(communications)
    inbox_item_decide(item=item, outcome="information_request", request_type="foi", note=HOSTILE, actor=other)
    Case.objects.filter(item=item).update(due_date=timezone.localdate() + timedelta(days=3))
    html = _html(item, comms_officer)
    assert _li(html) == f'<li class="item" id="item-{item.pk}" data-item="{item.pk}" tabindex="0">'
    assert "<form" not in html and "select-item" not in html
    assert (
        f'<p class="decided-note"><strong>Information request</strong> (FOI) by &lt;b&gt;dafydd&lt;/b&gt;, '
    ) in html and f": {HOSTILE_ESCAPED}\n" in html
    case = Case.objects.get(item=item)
    assert (
        f'· <a class="case-ref" href="{reverse("triage:case", args=[case.reference])}">{case.reference}</a>'
        ' <span class="clock clock-soon" title="Due '
    ) in html and "3 days left</span></p>" in html


@pytest.mark.parametrize(
    "days, status, clock",
    [
        (15, "open", '<span class="clock" title="Due {due}">15 days left</span>'),
        (1, "open", '<span class="clock clock-soon" title="Due {due}">1 day left</span>'),
        (0, "open", '<span class="clock clock-soon" title="Due {due}">due today</span>'),
        (-1, "open", '<span class="clock clock-overdue" title="Due {due}">1 day overdue</span>'),
        (-4, "open", '<span class="clock clock-overdue" title="Due {due}">4 days overdue</span>'),
        (None, "waiting", '<span class="clock clock-stopped">clock stopped</span>'),
        (None, "closed", ""),
    ],
)
def test_a_decided_rows_case_shows_its_clock(communications, make_item, comms_officer, days, status, clock):
    item = make_item(communications)
    inbox_item_decide(item=item, outcome="information_request", request_type="sar", actor=comms_officer)
    due = None if days is None else timezone.localdate() + timedelta(days=days)
    Case.objects.filter(item=item).update(status=status, due_date=due)
    case = Case.objects.get(item=item)
    due_text = f"{due:%A} {due.day} {due:%B %Y}" if due else ""
    assert f'">{case.reference}</a> {clock.format(due=due_text)}</p>' in _html(item, comms_officer)


# Every page that prints a row prints it with the same function.


@pytest.fixture
def carys(client, comms_officer):
    client.force_login(comms_officer)
    return client


def test_the_inbox_the_item_page_and_the_desks_swaps_print_the_same_row(carys, communications, make_item, comms_officer):
    item = make_item(communications, text=HOSTILE)
    inbox = carys.get(reverse("triage:inbox", args=["communications"])).content.decode()
    assert f'<li class="item" id="item-{item.pk}"' in inbox and f'id="select-{item.pk}"' in inbox
    assert HOSTILE_ESCAPED in inbox and HOSTILE not in inbox
    page = carys.get(reverse("triage:item", args=[item.pk])).content.decode()
    assert f'<li class="item" id="item-{item.pk}"' in page and "select-item" not in page
    assert '<input type="hidden" name="back" value="item">' in page
    swapped = carys.post(reverse("triage:assign", args=[item.pk]), {"assignee": "me"}, HTTP_HX_REQUEST="true")
    body = swapped.content.decode()
    assert f'<li class="item" id="item-{item.pk}"' in body
    assert "Assigned to you" in body and 'id="desk-toast"' in body
    polled = carys.get(reverse("triage:holders", args=["communications"]), {"ids": str(item.pk)}).content.decode()
    assert f'<span class="holder" id="holder-{item.pk}" hx-swap-oob="true"><span class="held assigned">Assigned to you' in polled


def test_a_row_swapped_in_on_the_item_page_stays_an_item_page_row(carys, communications, make_item):
    item = make_item(communications)
    body = carys.post(
        reverse("triage:assign", args=[item.pk]), {"assignee": "me", "back": "item"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert f'<li class="item" id="item-{item.pk}"' in body and "select-item" not in body
    assert '<input type="hidden" name="back" value="item">' in body
