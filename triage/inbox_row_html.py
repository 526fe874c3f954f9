"""The HTML of one inbox row and of its holder line, printed in Python.

Fifty rows a page through four nested templates cost more than the rest of the page's
Python; these functions print the same markup with plain string building. Every value is
escaped here (post content arrives already escaped in the row's *_html fields), and the
whitespace between tags is what the row's templates printed, so pages read the same.
"""

from html import escape

from triage.inbox_rows import InboxRow, _url, decide_controls

_TOKEN_ABSENT = ("", "NOTPROVIDED")  # as {% csrf_token %}: no hidden input without a token


def e(value) -> str:
    """As django.utils.html.conditional_escape, without its lazy-string wrapper: a row calls it twenty times."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return escape(str(value))


def holder_html(item, *, user_id, oob: bool = False) -> str:
    """Who holds an open item: its assignee and whoever is triaging it now; polled with `oob`."""
    attrs = ' hx-swap-oob="true"' if oob else ""
    if item.status == "done":
        inner = '<span class="held decided-meanwhile">Decided meanwhile: reload to see it</span>' if oob else ""
    else:
        inner = ""
        if item.assignee_id:
            name = "you" if item.assignee_id == user_id else e(item.assignee)
            inner = f'<span class="held assigned">Assigned to {name}</span>'
        claimant = item.claim_holder
        if claimant:
            name = "you" if claimant.pk == user_id else e(claimant)
            inner += f' <span class="held claimed">Being triaged by {name}</span>'
    return f'<span class="holder" id="holder-{e(item.id)}"{attrs}>{inner}</span>'


def _hold_form(item, *, user_id, csrf_input: str, on_item_page: bool) -> str:
    url = e(_url("triage:assign", item.id))
    back = '<input type="hidden" name="back" value="item">' if on_item_page else ""
    me = (
        '<button type="submit" name="assignee" value="me" data-assign="me">Assign to me</button>'
        if item.assignee_id != user_id else ""
    )
    unassign = (
        '<button type="submit" name="assignee" value="none" data-assign="none">Unassign</button>'
        if item.assignee_id else ""
    )
    return (
        f'\n<form class="hold" method="post" action="{url}" hx-post="{url}" hx-target="#item-{e(item.id)}" hx-swap="outerHTML">\n'
        f"  {csrf_input}{back}\n  {me}\n  {unassign}\n</form>\n\n"
    )


def _group_link(item) -> str:
    if item.group_id:
        href = e(_url("triage:group", item.id))
        return f'<a class="group-count" href="{href}">One of a group: see all its posts</a>\n    '
    if item.group_size > 1:
        href = e(_url("triage:group", item.id))
        return (
            f'<a class="group-count" href="{href}" title="Reposts, quotes and copies of one post; deciding it decides them all">'
            f"{e(item.group_size)} posts</a>"
        )
    return ""


def _decided_note(row: InboxRow) -> str:
    decision, note = row.decision, ""
    if decision:
        note = f"<strong>{e(decision['outcome'])}</strong>"
        if decision["request_type"]:
            note += f" ({e(decision['request_type'])})"
        note += f" by {e(decision['by'])}, {e(decision['at'])}"
        if decision["note"]:
            note += f": {e(decision['note'])}"
    case = ""
    if row.case_reference:
        case = f'· <a class="case-ref" href="{e(row.case_url)}">{e(row.case_reference)}</a> {e(row.case_clock)}'
    return f'  \n    <p class="decided-note">{note}\n      {case}</p>\n  \n'


def row_html(row: InboxRow, *, user_id, csrf_token: str, on_item_page: bool = False) -> str:
    """A row's whole <li>, as the inbox list, the item page and the desk's swaps print it."""
    item = row.item
    rid = e(row.id)
    select = ""
    if item.status != "done" and not on_item_page:
        select = (
            f'<input type="checkbox" class="select-item" name="items" value="{e(item.id)}" form="bulk-form"'
            f' id="select-{e(item.id)}" aria-label="Select the post by @{e(item.mention.author_handle)} for a bulk action">'
        )
    posted = f'<time datetime="{e(row.posted_iso)}">{e(row.posted_label)}</time>' if row.posted_iso else ""
    tags = "".join(f'<span class="search-tag">{e(name)}</span>' for name in row.search_names)
    title = f'<p class="title">{e(row.title_html)}</p>' if row.title_html else ""
    parts = [
        f'<li class="item" id="item-{rid}" data-item="{rid}" tabindex="0">\n  {select}\n\n  <div class="meta">\n'
        f'    <span class="author">{e(row.author_name)}</span>\n'
        f'    <span class="handle">@{e(row.handle)}</span>\n'
        f'    <span class="platform">{e(row.platform)}</span>\n'
        f"    {posted}\n    {tags}\n    {_group_link(item)}\n"
        f"    \n{holder_html(item, user_id=user_id)}\n\n  </div>\n"
        f"  {title}\n"
        f'  <p class="text">{e(row.text_html)}</p>\n'
        f'  <p class="links">{e(row.links_html)}<a href="{e(row.detail_url)}">Details</a> <a href="{e(row.circulate_url)}">Circulate</a></p>\n'
    ]
    if row.status == "done":
        parts.append(_decided_note(row))
    else:
        decide_url = e(row.decide_url)
        token = str(csrf_token or "")
        csrf_input = "" if token in _TOKEN_ABSENT else f'<input type="hidden" name="csrfmiddlewaretoken" value="{e(token)}">'
        parts.append(
            f'  \n  <form class="decide" method="post" action="{decide_url}" hx-post="{decide_url}" hx-target="#item-{rid}" hx-swap="outerHTML">\n'
            f'    <input type="hidden" name="csrfmiddlewaretoken" value="{e(token)}">\n'
            f"    {decide_controls()}\n  </form>\n"
            f"  {_hold_form(item, user_id=user_id, csrf_input=csrf_input, on_item_page=on_item_page)}\n  \n"
        )
    parts.append("</li>\n")
    return "".join(parts)
