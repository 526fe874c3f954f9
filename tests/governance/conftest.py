"""A person seeded into every place Earshot can hold their data, for the subject access and erasure tests."""

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.utils import timezone

HANDLE = "Zq_Subject77"
NAME = "Zelda Quintavalle"


@dataclass
class Person:
    handle: str
    name: str
    written: list = field(default_factory=list)
    about: list = field(default_factory=list)
    case: object = None
    circulation: object = None
    other_case: object = None
    unrelated: object = None


@pytest.fixture
def person(admin_user, comms_officer, foi_member, communications, foi_team, make_item, make_mention):
    """Their posts (one under a case, one circulated, one a monitoring signal), posts about them,
    and notes naming them on decisions, cases, circulations, meetings, harvests, spikes and admin."""
    from accounts.models import Team
    from foi_monitoring.models import AuthoritySignal, PublicAuthority
    from foi_monitoring.services import review_decision_record, review_meeting_add_authority, review_meeting_create
    from listening.models import HarvestRun, MentionHit, SavedSearch, WatchList
    from triage.cases import case_clock_pause, case_note_add
    from triage.circulations import circulation_create
    from triage.models import SpikeAlert
    from triage.services import inbox_item_decide

    p = Person(handle=HANDLE, name=NAME)
    now = timezone.now()
    communications.email = "comms@example.org"
    communications.save()
    rm = Team.objects.create(name="Relationship management", slug="rm", email="rm@example.org")
    search = SavedSearch.objects.create(team=communications, name="the ICO", query='"the ICO"')
    theirs = dict(platform="x", author_handle=HANDLE, author_name=NAME, posted_at=now - timedelta(days=2),
                  raw={"author": {"username": HANDLE, "name": NAME, "id": "99"}})

    # 1. Their post, triaged into an FOI request: a case that must be kept.
    case_item = make_item(communications, text="Under FOI please send the ICO's fee letters", url=f"https://x.com/{HANDLE}/status/1",
                          **theirs)
    inbox_item_decide(item=case_item, outcome="information_request", request_type="foi", actor=comms_officer,
                      note=f"Request from {NAME}")
    p.case = case_item.case
    case_note_add(case=p.case, actor=comms_officer, note=f"Acknowledged to @{HANDLE}")
    case_clock_pause(case=p.case, actor=comms_officer, reason=f"Asked {NAME} which letters")
    # 2. Their post circulated as a news item, with a note naming them.
    news_item = make_item(communications, text="The ICO fined a council today", **theirs)
    MentionHit.objects.create(mention=news_item.mention, saved_search=search, spans={"text": [[4, 7]]})
    inbox_item_decide(item=news_item, outcome="news_item", actor=comms_officer)
    p.circulation = circulation_create(item=news_item, actor=comms_officer, team_ids=[rm.pk], note=f"From @{HANDLE}, worth a look")
    # 3. Their post picked up by FOI monitoring, untriaged.
    signal_item = make_item(foi_team, text="Borsetshire council is overdue on my FOI", **theirs)
    authority = PublicAuthority.objects.create(name="Borsetshire County Council", code="BOR")
    AuthoritySignal.objects.create(authority=authority, mention=signal_item.mention, codes=["overdue"],
                                   author_key=f"x:{HANDLE.lower()}", occurred_at=now, collected_at=now)
    p.written = [case_item.mention, news_item.mention, signal_item.mention]

    # Posts by others about them.
    reply = make_mention(platform="x", author_handle="someone_else", text=f"@{HANDLE.lower()} is right about the ICO",
                         mentions=[HANDLE.lower()], in_reply_to_handle=HANDLE, links=[f"https://x.com/{HANDLE}"],
                         raw={"entities": {"mentions": [{"username": HANDLE, "id": "99"}]}})
    by_name = make_mention(platform="bluesky", author_handle="reporter.bsky.social",
                           text=f"{NAME} has been chasing the ICO for months")
    p.about = [reply, by_name]
    p.unrelated = make_mention(platform="x", author_handle="bystander", text="Nothing about anyone at all")

    # Notes naming them elsewhere: a decision and a case on someone else's post.
    other_item = InboxItemFor(reply, communications)
    inbox_item_decide(item=other_item, outcome="complaint", actor=comms_officer, note=f"Complaint on behalf of @{HANDLE}")
    p.other_case = other_item.case
    case_note_add(case=p.other_case, actor=comms_officer, note=f"Rang {NAME} back")
    # FOI group minutes, a harvest's message, a spike's top authors.
    meeting = review_meeting_create(starts_at=now - timedelta(hours=1), attendees="grace", actor=foi_member)
    agenda = review_meeting_add_authority(meeting=meeting, authority=authority, actor=foi_member)
    review_decision_record(decision=agenda, outcome="keep_monitoring", notes=f"Mostly @{HANDLE}'s posts", actor=foi_member)
    HarvestRun.objects.create(saved_search=search, platform="x", errors=[f"Skipped a post by @{HANDLE}: no id"],
                              notes=[f"{HANDLE} posted 40 times"])
    SpikeAlert.objects.create(saved_search=search, team=communications, window_end=now, count=20, baseline=1, ratio=3,
                              min_count=10, top_authors=[[HANDLE.lower(), 12], ["bystander", 2]], top_terms=[["ico", 9]])

    # Through Django admin: a watch list with them in it (admin's own log, and the audit log, record it).
    from django.test import Client

    client = Client()  # its own: the test's client stays signed in as whoever the test chose
    client.force_login(admin_user)
    response = client.post("/admin/listening/watchlist/add/", {
        "name": "campaigners", "description": f"Includes {NAME}", "x_list_id": "",
        "members-TOTAL_FORMS": 1, "members-INITIAL_FORMS": 0, "members-MIN_NUM_FORMS": 0, "members-MAX_NUM_FORMS": 1000,
        "members-0-platform": "x", "members-0-handle": HANDLE, "_save": "Save",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    assert WatchList.objects.get(name="campaigners").members.count() == 1
    return p


def InboxItemFor(mention, team):  # noqa: N802  (reads as a constructor)
    from triage.models import InboxItem

    return InboxItem.objects.create(team=team, mention=mention)
