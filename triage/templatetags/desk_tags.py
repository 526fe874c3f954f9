"""What the triage desk's pages print: inbox rows and holder lines, a pending undo, and who can hold an item."""

from datetime import timedelta

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.safestring import mark_safe

from triage.inbox_row_html import holder_html, row_html

register = template.Library()


def _user_id(context):
    user = context.get("user")
    return user.pk if user is not None else None


@register.simple_tag(takes_context=True)
def inbox_row(context, row, on_item_page=None):
    """`{% inbox_row row %}`: the row's <li>, for the inbox list, the item page and the desk's swaps.

    `on_item_page` comes from the context unless given: the desk's swaps set it from the form that asked.
    """
    if on_item_page is None:
        on_item_page = context.get("on_item_page")
    return mark_safe(row_html(
        row, user_id=_user_id(context), csrf_token=context.get("csrf_token"), on_item_page=bool(on_item_page),
    ))


@register.simple_tag(takes_context=True)
def inbox_holder(context, item, oob=False):
    """`{% inbox_holder item oob=True %}`: the item's holder line, as an out-of-band swap for the holders poll."""
    return mark_safe(holder_html(item, user_id=_user_id(context), oob=oob))


@register.simple_tag(takes_context=True)
def pending_undo(context):
    """The decision just made on the previous page (without JavaScript), while it can still be undone; shown once."""
    request = context.get("request")
    if request is None or not hasattr(request, "session"):
        return None
    from triage.undo import UNDO_SESSION_KEY

    decision_id = request.session.pop(UNDO_SESSION_KEY, None)
    if not isinstance(decision_id, int):
        return None
    from triage.models import Decision

    cutoff = timezone.now() - timedelta(seconds=settings.EARSHOT_UNDO_SECONDS)
    return (
        Decision.objects.filter(pk=decision_id, decided_by=request.user, undone_at__isnull=True, decided_at__gte=cutoff)
        .select_related("item")
        .first()
    )


@register.simple_tag
def assignable_people(team):
    """Active people with a grant in force on the team, by username."""
    from triage.claims import team_members

    return list(team_members(team))


@register.simple_tag
def bulk_limit():
    return settings.EARSHOT_BULK_MAX_ITEMS
