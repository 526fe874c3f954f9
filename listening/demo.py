"""The demo installation: teams, people per role, saved searches and a watch list.

`demo_load` is idempotent: running it again keeps what exists (and the passwords
already issued) and adds what is missing.
"""

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, Team, User
from accounts.services import access_grant_create
from listening.models import Purpose, SavedSearch, SavedSearchPlatform, WatchList, WatchListMember
from listening.sources.demo import load_sample

TEAMS = [
    ("Communications", "communications", "Press office and social media: direct engagement, news and journalists."),
    ("Public Advice", "public-advice", "Answers enquiries from the public."),
    ("Data Protection Complaints", "data-protection-complaints", "Handles complaints about organisations."),
    ("FOI Monitoring and Enforcement Group", "foi-monitoring", "Reviews public authorities whose FOI performance is of concern."),
]

# username, full name, team slug, role
PEOPLE = [
    ("comms", "Carys Morgan", "communications", Role.COMMS_OFFICER),
    ("advice", "Dev Patel", "public-advice", Role.COMMS_OFFICER),
    ("complaints", "Fiona Reid", "data-protection-complaints", Role.COMMS_OFFICER),
    ("foi", "Grace Adeyemi", "foi-monitoring", Role.FOI_ENFORCEMENT),
    ("admin", "Hamish Clarke", "communications", Role.ADMIN),
    ("nogrant", "Ian Nobody", None, None),
]

# The ICO's saved searches as written in QUERY_LANGUAGE.md; the Commissioner's handle is the demo regulator's.
def communications_searches(regulator: str) -> list[tuple[str, str, str]]:
    return [
        ("Replies to the Commissioner", f"to:{regulator}", Purpose.ENGAGEMENT),
        ("Says “the ICO”", '"the ICO"', Purpose.ENGAGEMENT),
        ("Links to our site", "links:ico.org.uk", Purpose.NEWS),
        ("Registration letter and fee scams", '"ICO registration letter" OR "data protection fee"', Purpose.ENGAGEMENT),
        (
            "Tech journalists",
            'list:"tech journalists" (#journorequest OR journorequest OR journorequests OR "PR request" OR '
            '#PRRequest OR "DMs open" OR "get in touch" OR "data protection" OR GDPR OR FOI OR privacy)',
            Purpose.NEWS,
        ),
    ]


# Searches for the other demo teams, so each inbox has something in it.
OTHER_TEAM_SEARCHES = [
    ("public-advice", "Questions for the helpline",
     '"subject access" OR SAR OR "nuisance calls" OR cookie* OR CCTV OR dashcam OR "doorbell camera" OR "my data" OR "personal data"',
     Purpose.ENGAGEMENT),
    ("data-protection-complaints", "Complaints about organisations",
     '(complain* OR reported OR breach) NEAR/6 ("the ICO" OR ICO OR "data breach" OR "subject access")',
     Purpose.ENGAGEMENT),
]

FOI_SEARCH = (
    "FOI chatter about public authorities",
    '(FOI OR foia OR "freedom of information" OR #FOI OR "information request") '
    '(overdue OR late OR ignored OR "no response" OR "still waiting" OR refused OR refusal OR vexatious '
    'OR "internal review" OR "cost limit" OR exemption OR complain*)',
    Purpose.FOI_MONITORING,
)

# What each demo search is for, and whether its query is published, as the transparency report shows them.
# The FOI group's query stays unpublished: it shows how a withheld query reads in the report.
PURPOSE_STATEMENTS = {
    "Replies to the Commissioner": ("To see and answer posts addressed to the Commissioner's account.", True),
    "Says “the ICO”": ("To find questions and complaints about the regulator that do not tag its account.", True),
    "Links to our site": ("To see which of the regulator's guidance is being shared and discussed.", True),
    "Registration letter and fee scams": ("To warn people about scam letters asking for a data protection fee.", True),
    "Tech journalists": ("To answer journalists' requests for comment quickly.", True),
    "Questions for the helpline": ("To answer data protection questions asked in public.", True),
    "Complaints about organisations": ("To point people who complain about an organisation to the right route.", True),
    "FOI chatter about public authorities": (
        "To find public authorities whose FOI performance is of concern, for the FOI enforcement group's review meetings.",
        False,
    ),
}


@dataclass(frozen=True)
class DemoPerson:
    username: str
    name: str
    team: str
    role: str
    password: str


def _credentials_file() -> Path:
    return Path(settings.VAR_DIR) / "demo-credentials.json"


def _passwords() -> dict[str, str]:
    path = _credentials_file()
    return json.loads(path.read_text()) if path.exists() else {}


def demo_load(*, interval_minutes: int = 1) -> list[DemoPerson]:
    sample = load_sample()
    regulator = sample["regulator_handle"]
    passwords = _passwords()
    people = []
    with transaction.atomic():
        teams = {}
        for name, slug, description in TEAMS:
            teams[slug], _ = Team.objects.get_or_create(
                # A demo address, so circulations and digests can be tried: mail goes to the
                # console (or EMAIL_URL's backend), never to a real mailbox.
                slug=slug, defaults={"name": name, "description": description, "email": f"{slug}@demo.earshot.invalid"}
            )
        for username, full_name, team_slug, role in PEOPLE:
            first, last = full_name.split(" ", 1)
            user, created = User.objects.get_or_create(username=username, defaults={"first_name": first, "last_name": last})
            if created or username not in passwords:
                passwords[username] = secrets.token_urlsafe(9)
                user.set_password(passwords[username])
                user.save()
            if team_slug:
                access_grant_create(user=user, team=teams[team_slug], role=role, reason="Demo installation", via="load_demo")
            people.append(DemoPerson(username, full_name, team_slug or "—", role or "no grant", passwords[username]))

        watch_list, _ = WatchList.objects.get_or_create(
            name="tech journalists", defaults={"description": "Technology and privacy journalists we follow."}
        )
        for handle in sample["watch_lists"]["tech journalists"]:
            for platform in ("demo", "x"):
                WatchListMember.objects.get_or_create(watch_list=watch_list, platform=platform, handle=handle)

        owner = User.objects.get(username="comms")
        wanted = [(teams["communications"], *row) for row in communications_searches(regulator)]
        wanted += [(teams[slug], name, query, purpose) for slug, name, query, purpose in OTHER_TEAM_SEARCHES]
        wanted.append((teams["foi-monitoring"], *FOI_SEARCH))
        for team, name, query, purpose in wanted:
            if SavedSearch.objects.filter(team=team, name=name).exists():
                continue
            statement, publishable = PURPOSE_STATEMENTS.get(name, ("", False))
            search = SavedSearch(
                team=team, name=name, query=query, purpose=purpose, interval_minutes=interval_minutes, owner=owner,
                purpose_statement=statement, publishable=publishable,
            )
            search.full_clean()
            search.save()
            SavedSearchPlatform.objects.create(saved_search=search, platform="demo", next_run_at=timezone.now())
    path = _credentials_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        json.dump(passwords, handle, indent=2)
    return people
