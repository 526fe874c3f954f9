"""A circulation's links to its item and post are plain columns, cleared by every deletion."""

import pytest
from django.db import connection

from listening.models import Mention
from triage.models import Circulation, InboxItem

pytestmark = pytest.mark.django_db


def test_the_links_are_not_foreign_keys_in_the_database():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname FROM pg_constraint c JOIN pg_attribute a"
            " ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
            " WHERE c.contype = 'f' AND c.conrelid = 'triage_circulation'::regclass"
        )
        checked = {row[0] for row in cursor.fetchall()}
    assert "item_id" not in checked and "mention_id" not in checked
    assert {"team_id", "sender_id"} <= checked  # the record's own references stay checked


def test_deleting_an_item_or_a_post_in_the_app_clears_the_links_and_keeps_the_record(communications, make_item):
    item = make_item(communications, text="A pothole on Mill Lane")
    sent = Circulation.objects.create(team=communications, item=item, mention=item.mention, subject="Sent to highways")
    InboxItem.objects.filter(pk=item.pk).delete()
    sent.refresh_from_db()
    assert sent.item_id is None and sent.mention_id == item.mention_id
    Mention.objects.filter(pk=item.mention_id).delete()
    sent.refresh_from_db()
    assert sent.mention_id is None and sent.subject == "Sent to highways"
