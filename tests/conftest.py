"""The shared cast and factories.

The cast: a comms officer (Communications), an FOI group member, an admin, a
signed-in user with no grant, and an anonymous visitor.
"""

import itertools

import pytest
from django.utils import timezone

from accounts.models import AccessGrant, Role, Team

_ids = itertools.count(1)


@pytest.fixture
def communications(db):
    return Team.objects.create(name="Communications", slug="communications")


@pytest.fixture
def foi_team(db):
    return Team.objects.create(name="FOI Monitoring and Enforcement Group", slug="foi-monitoring")


def _person(django_user_model, username, team=None, role=None):
    user = django_user_model.objects.create_user(username=username, password="correct horse battery staple")
    if team is not None:
        AccessGrant.objects.create(user=user, team=team, role=role, reason="test cast")
    return user


@pytest.fixture
def comms_officer(django_user_model, communications):
    return _person(django_user_model, "carys", communications, Role.COMMS_OFFICER)


@pytest.fixture
def foi_member(django_user_model, foi_team):
    return _person(django_user_model, "grace", foi_team, Role.FOI_ENFORCEMENT)


@pytest.fixture
def admin_user(django_user_model, communications):
    return _person(django_user_model, "hamish", communications, Role.ADMIN)


@pytest.fixture
def outsider(django_user_model):
    # A superuser with no grant: being a superuser must give nothing.
    user = _person(django_user_model, "ian")
    user.is_superuser = user.is_staff = True
    user.save()
    return user


@pytest.fixture
def cast(comms_officer, foi_member, admin_user, outsider):
    return {
        "anonymous": None,
        "outsider": outsider,
        "comms_officer": comms_officer,
        "foi_member": foi_member,
        "admin": admin_user,
    }


@pytest.fixture
def make_mention(db):
    from listening.models import Mention

    def make(**fields):
        n = next(_ids)
        defaults = {
            "platform": "demo",
            "external_id": f"t-{n}",
            "url": f"https://demo.earshot.invalid/someone/status/t-{n}",
            "author_handle": "someone",
            "author_name": "Some One",
            "text": f"Post number {n} about the ICO",
        }
        defaults.update(fields)
        return Mention.objects.create(**defaults)

    return make


@pytest.fixture
def make_item(make_mention):
    from triage.models import InboxItem

    def make(team, **mention_fields):
        return InboxItem.objects.create(team=team, mention=make_mention(**mention_fields))

    return make


@pytest.fixture
def demo_searches(communications, foi_team):
    """The demo installation's saved searches, on the demo platform, due now."""
    from listening.demo import FOI_SEARCH, communications_searches
    from listening.models import SavedSearch, SavedSearchPlatform, WatchList, WatchListMember
    from listening.sources.demo import load_sample

    watch_list = WatchList.objects.create(name="tech journalists")
    for handle in load_sample()["watch_lists"]["tech journalists"]:
        WatchListMember.objects.create(watch_list=watch_list, platform="demo", handle=handle)
    rows = [(communications, *row) for row in communications_searches(load_sample()["regulator_handle"])]
    rows.append((foi_team, *FOI_SEARCH))
    states = []
    for team, name, query, purpose in rows:
        search = SavedSearch.objects.create(team=team, name=name, query=query, purpose=purpose, interval_minutes=1)
        states.append(SavedSearchPlatform.objects.create(saved_search=search, platform="demo", next_run_at=timezone.now()))
    return states


# Two-factor sign-in is enforced in tests as in production: an admin whose session never
# gave a code is sent to enrolment (accounts/two_factor.py). Tests that are not about
# signing in use `client.force_login(person)` to skip the sign-in form; they skip its
# code step the same way, so every session force_login makes counts as having given a
# code. No device row is made for it: a real device would make the person's next sign-in
# through the form ask for a code, and would add rows the tests do not expect. Tests of
# two-factor sign-in itself sign in through the real forms (tests/accounts/test_two_factor.py).
FORCE_LOGIN_SECOND_FACTOR = "tests.force_login/0"


@pytest.fixture(autouse=True)
def _force_login_gives_a_second_factor(monkeypatch):
    from django.test.client import ClientMixin
    from django_otp import DEVICE_ID_SESSION_KEY

    original = ClientMixin.force_login

    def force_login(self, user, backend=None):
        original(self, user, backend)
        session = self.session
        session[DEVICE_ID_SESSION_KEY] = FORCE_LOGIN_SECOND_FACTOR
        session.save()

    monkeypatch.setattr(ClientMixin, "force_login", force_login)


@pytest.fixture(autouse=True)
def _fresh_redis():
    """Every test starts with an empty Redis: cached sign-in sessions, request budgets,
    spend counters and heartbeats never leak from one test (or one run) into the next.
    A fake platform's port can be reused, and a stale session for it must not be."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def closed_port():
    """A local port nothing listens on."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed
