"""The row printed in Python is byte for byte the row the templates printed."""

from datetime import timedelta

import pytest
from django.template import engines
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import AccessGrant, Role
from listening.models import MentionHit, SavedSearch
from triage import inbox_list, inbox_rows
from triage.models import Case, InboxItem
from triage.services import inbox_item_decide

HOSTILE = '<script>alert("x")</script> & \'q\''
TOKEN = 'tok"<en>'


@pytest.fixture
def other(django_user_model, communications):
    user = django_user_model.objects.create_user(username="<b>dafydd</b>", password="x")
    AccessGrant.objects.create(user=user, team=communications, role=Role.COMMS_OFFICER, reason="test cast")
    return user


def _cases(communications, make_item, comms_officer, other):
    me = comms_officer
    now = timezone.now()
    search = SavedSearch.objects.create(team=communications, name=HOSTILE, query="breach")
    made = {}

    def item(name, **fields):
        made[name] = make_item(communications, **fields)
        return made[name]

    item("open")
    item("in_progress").__class__.objects.filter(pk=made["in_progress"].pk).update(status="in_progress")
    InboxItem.objects.filter(pk=item("assigned_me").pk).update(assignee=me)
    InboxItem.objects.filter(pk=item("assigned_other").pk).update(assignee=other)
    InboxItem.objects.filter(pk=item("claimed_me").pk).update(claimed_by=me, claimed_at=now)
    InboxItem.objects.filter(pk=item("claimed_other").pk).update(claimed_by=other, claimed_at=now, assignee=me)
    InboxItem.objects.filter(pk=item("claimed_stale").pk).update(claimed_by=other, claimed_at=now - timedelta(days=1))
    InboxItem.objects.filter(pk=item("both_other").pk).update(claimed_by=other, claimed_at=now, assignee=other)
    item("titled", title=HOSTILE, links=["https://example.org/a?b=1&c=2", "javascript:alert(1)"])
    item("hostile", text=HOSTILE + " breach here", author_name=HOSTILE, author_handle='h"<x>', url="javascript:alert(2)")
    MentionHit.objects.create(mention=made["hostile"].mention, saved_search=search, spans={"text": [[0, 8]]})
    item("no_url", url="", posted_at=None)
    leader = item("leader")
    InboxItem.objects.filter(pk=leader.pk).update(group_size=3)
    InboxItem.objects.filter(pk=item("member").pk).update(group=leader)
    inbox_item_decide(item=item("decided_plain"), outcome="no_action", actor=me)
    inbox_item_decide(item=item("decided_note"), outcome="information_request", request_type="foi", note=HOSTILE, actor=other)
    for name, days, status in [
        ("case_far", 15, "open"), ("case_soon", 3, "open"), ("case_one", 1, "open"), ("case_today", 0, "open"),
        ("case_overdue", -1, "open"), ("case_overdue_more", -4, "open"), ("case_waiting", None, "waiting"),
        ("case_closed", None, "closed"),
    ]:
        inbox_item_decide(item=item(name), outcome="information_request", request_type="sar", actor=me)
        Case.objects.filter(item=made[name]).update(
            status=status, due_date=None if days is None else timezone.localdate() + timedelta(days=days)
        )
    inbox_item_decide(item=item("case_complaint"), outcome="complaint", note="plain", actor=me)
    return made


def _old(row, user, on_item_page):
    context = {
        "row": row, "user": user, "csrf_token": TOKEN, "decide_controls": inbox_rows.decide_controls(),
    }
    if on_item_page:
        context["on_item_page"] = True
    return render_to_string("triage/_inbox_row.html", context)


def _new(row, user, on_item_page):
    context = {"row": row, "user": user, "csrf_token": TOKEN}
    if on_item_page:
        context["on_item_page"] = True
    return engines["django"].from_string("{% load desk_tags %}{% inbox_row row %}").render(context)


def test_every_kind_of_row_prints_as_the_templates_printed_it(communications, make_item, comms_officer, other):
    made = _cases(communications, make_item, comms_officer, other)
    checked = 0
    for name, item in made.items():
        row = inbox_list.inbox_row(item_id=item.pk, team_id=communications.id)
        for user in (comms_officer, other):
            for on_item_page in (False, True):
                old, new = _old(row, user, on_item_page), _new(row, user, on_item_page)
                assert new == old, (name, user.username, on_item_page)
                checked += 1
    assert checked == len(made) * 4


def test_a_page_of_search_rows_prints_as_the_templates_printed_it(communications, make_item, comms_officer, other):
    from django.http import QueryDict

    _cases(communications, make_item, comms_officer, other)
    marks = 0
    for query in ("", "q=breach", "status=done", "q=ICO", "q=breach+-ICO"):
        filters, _ = inbox_list.filters_read(QueryDict(query), search_ids=set(), member_ids=set())
        page = inbox_list.inbox_page(team_id=communications.id, filters=filters, user_id=comms_officer.id)
        assert page.rows, query
        for row in page.rows:
            new = _new(row, comms_officer, False)
            assert new == _old(row, comms_officer, False), (query, row.id)
            marks += new.count("<mark")
    assert marks


def test_the_holders_poll_prints_as_the_templates_printed_it(communications, make_item, comms_officer, other):
    made = _cases(communications, make_item, comms_officer, other)
    items = list(InboxItem.objects.filter(pk__in=[i.pk for i in made.values()]).select_related("assignee", "claimed_by"))
    for user in (comms_officer, other):
        for oob in (False, True):
            for item in items:
                old = render_to_string("triage/_holder.html", {"item": item, "user": user, "oob": oob})
                new = engines["django"].from_string("{% load desk_tags %}{% inbox_holder item oob=oob %}").render(
                    {"item": item, "user": user, "oob": oob}
                )
                assert new == old.strip("\n"), (item.pk, user.username, oob)
