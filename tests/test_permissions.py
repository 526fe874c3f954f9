"""Every URL, requested as every member of the cast: who gets in, and who does not."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

ROLES = ("anonymous", "outsider", "comms_officer", "foi_member", "admin")
IN = 200


def _everyone_with_a_role(admin=IN, comms=IN, foi=IN):
    return {"anonymous": "login", "outsider": 403, "comms_officer": comms, "foi_member": foi, "admin": admin}


def _named_urls(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            if ns == "admin":
                continue
            yield from _named_urls(entry, f"{namespace}{ns}:" if ns else namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}"


def _admins_only(admin=IN):
    return {"anonymous": "login", "outsider": 403, "comms_officer": 403, "foi_member": 403, "admin": admin}


@pytest.fixture
def world(cast, communications, foi_team, make_item, monkeypatch):
    from config import heartbeat
    from listening.credentials import credential_save
    from listening.models import Channel, SavedSearch
    from listening.sources import registry

    # "Test connection" talks to a test-only source, never to a real platform.
    monkeypatch.setitem(registry.SOURCES, "x", "tests.listening.fake_source.FakeSource")
    credential = credential_save(platform="x", values={"bearer_token": "good"}, actor=cast["admin"])
    channel = Channel.objects.create(platform="x", channel="mentions")

    # /healthz answers 200 only while the dispatcher and a worker are alive.
    heartbeat.record_dispatcher_tick()
    heartbeat.record_worker_heartbeat()
    comms_item = make_item(communications)
    foi_item = make_item(foi_team)
    comms_search = SavedSearch.objects.create(team=communications, name="the ICO", query='"the ICO"')
    foi_search = SavedSearch.objects.create(
        team=foi_team, name="FOI", query="FOI overdue", purpose="foi_monitoring"
    )
    from triage.services import inbox_item_decide

    comms_admin = cast["admin"]
    for team, key in ((communications, "comms_case"), (foi_team, "foi_case")):
        case_item = make_item(team)
        inbox_item_decide(item=case_item, outcome="information_request", request_type="foi", actor=comms_admin)
    from triage.models import Circulation

    circulations = {
        team.slug: Circulation.objects.create(team=team, item=item, mention=item.mention, subject="s")
        for team, item in ((communications, comms_item), (foi_team, foi_item))
    }
    from triage.models import SpikeAlert

    alerts = {
        search.team.slug: SpikeAlert.objects.create(
            saved_search=search, team=search.team, window_end=search.created_at, count=20, baseline=1, ratio=3, min_count=10
        )
        for search in (comms_search, foi_search)
    }
    from datetime import timedelta

    from django.utils import timezone

    from foi_monitoring.models import PublicAuthority, ReviewDecision, ReviewMeeting

    authority = PublicAuthority.objects.create(name="Borsetshire County Council", code="BOR")
    meeting = ReviewMeeting.objects.create(starts_at=timezone.now() - timedelta(hours=1))
    from governance.models import RetentionPolicy

    # Seeded by a migration; a transactional test run earlier may have flushed it.
    RetentionPolicy.objects.get_or_create(category="untriaged_mentions", defaults={"days": 90})
    agenda_item = ReviewDecision.objects.create(meeting=meeting, authority=authority)
    return {
        "comms_alert": alerts["communications"], "foi_alert": alerts["foi-monitoring"],
        "comms_circulation": circulations["communications"], "foi_circulation": circulations["foi-monitoring"],
        "comms_case": communications.cases.get(), "foi_case": foi_team.cases.get(),
        "comms_item": comms_item, "foi_item": foi_item,
        "comms_search": comms_search, "foi_search": foi_search,
        "credential": credential, "channel": channel,
        "authority": authority, "meeting": meeting, "agenda_item": agenda_item,
    }


def _carys_grant():
    from accounts.models import AccessGrant

    return AccessGrant.objects.get(user__username="carys").id


def _carys_grant_user():
    from accounts.models import AccessGrant

    return AccessGrant.objects.get(user__username="carys").user_id


def _table(world):
    """name -> list of (method, kwargs, expected per role). 'login' means a redirect to sign in."""
    c, f, m = world["comms_item"], world["foi_item"], world["meeting"]
    return {
        "home": [("get", {}, {"anonymous": "login", "outsider": 403, "comms_officer": 302, "foi_member": 302, "admin": 302})],
        "healthz": [("get", {}, {role: 200 for role in ROLES})],
        "accounts:login": [("get", {}, {"anonymous": 200, "outsider": 302, "comms_officer": 302, "foi_member": 302, "admin": 302})],
        "accounts:logout": [("post", {}, {role: 302 for role in ROLES})],
        "accounts:reauth": [("get", {}, {"anonymous": "login", "outsider": 200, "comms_officer": 200, "foi_member": 200, "admin": 200})],
        # The code step of signing in: without a password given first it sends everyone back to sign in.
        "accounts:login_code": [("get", {}, {"anonymous": "login", "outsider": 302, "comms_officer": 302, "foi_member": 302, "admin": 302})],
        "accounts:two_factor": [("get", {}, {"anonymous": "login", **{role: 200 for role in ROLES[1:]}})],
        "accounts:totp_enrol": [("get", {}, {"anonymous": "login", **{role: 200 for role in ROLES[1:]}})],
        # No device set up: nothing to regenerate or remove, and back to the two-factor page.
        "accounts:recovery_codes": [("post", {}, {"anonymous": "login", **{role: 302 for role in ROLES[1:]}})],
        "accounts:totp_remove": [("post", {}, {"anonymous": "login", **{role: 302 for role in ROLES[1:]}})],
        "accounts:totp_reset": [("post", {}, _admins_only(400))],  # names no one: the form comes back
        "accounts:invite": [("get", {}, _admins_only())],
        # A link that is not a real invitation: refused, whoever follows it.
        "accounts:invitation_accept": [("get", {"uidb64": "MQ", "token": "bogus-token"}, {role: 400 for role in ROLES})],
        "triage:inbox": [
            ("get", {"slug": "communications"}, _everyone_with_a_role(foi=403)),
            ("get", {"slug": "foi-monitoring"}, _everyone_with_a_role(comms=403)),
        ],
        "triage:item": [
            ("get", {"item_id": c.id}, _everyone_with_a_role(foi=403)),
            ("get", {"item_id": f.id}, _everyone_with_a_role(comms=403)),
        ],
        "triage:decide": [
            ("post", {"item_id": c.id}, _everyone_with_a_role(comms=302, foi=403, admin=302)),
            ("post", {"item_id": f.id}, _everyone_with_a_role(comms=403, foi=302, admin=302)),
        ],
        **{
            f"triage:{action}": [
                ("post", {"item_id": c.id}, _everyone_with_a_role(comms=302, foi=403, admin=302)),
                ("post", {"item_id": f.id}, _everyone_with_a_role(comms=403, foi=302, admin=302)),
            ]
            for action in ("claim", "release", "take_over", "assign", "undo")
        },
        "triage:holders": [
            ("get", {"slug": "communications"}, _everyone_with_a_role(foi=403)),
            ("get", {"slug": "foi-monitoring"}, _everyone_with_a_role(comms=403)),
        ],
        "triage:bulk": [
            ("post", {"slug": "communications"}, _everyone_with_a_role(comms=302, foi=403, admin=302)),
            ("post", {"slug": "foi-monitoring"}, _everyone_with_a_role(comms=403, foi=302, admin=302)),
        ],
        "triage:group": [
            ("get", {"item_id": c.id}, _everyone_with_a_role(foi=403)),
            ("get", {"item_id": f.id}, _everyone_with_a_role(comms=403)),
        ],
        "triage:circulate": [
            ("get", {"item_id": c.id}, _everyone_with_a_role(foi=403)),
            ("get", {"item_id": f.id}, _everyone_with_a_role(comms=403)),
        ],
        **{
            name: [
                (method, {"slug": "communications"}, _everyone_with_a_role(admin=ok, comms=ok, foi=403)),
                (method, {"slug": "foi-monitoring"}, _everyone_with_a_role(admin=ok, comms=403, foi=ok)),
            ]
            for name, method, ok in (
                ("triage:team", "get", IN),
                ("triage:team_mail", "post", 302),
                ("triage:circulations", "get", IN),
                ("triage:circulations_export", "get", IN),
                ("triage:alerts", "get", IN),
            )
        },
        "triage:alert_dismiss": [
            ("post", {"alert_id": world["comms_alert"].id}, _everyone_with_a_role(comms=302, foi=403, admin=302)),
            ("post", {"alert_id": world["foi_alert"].id}, _everyone_with_a_role(comms=403, foi=302, admin=302)),
        ],
        "triage:spike_threshold": [
            ("post", {"search_id": world["comms_search"].id}, _everyone_with_a_role(comms=302, foi=403, admin=302)),
            ("post", {"search_id": world["foi_search"].id}, _everyone_with_a_role(comms=403, foi=302, admin=302)),
        ],
        "triage:circulation_retry": [
            ("post", {"circulation_id": world["comms_circulation"].id}, _everyone_with_a_role(comms=302, foi=403, admin=302)),
            ("post", {"circulation_id": world["foi_circulation"].id}, _everyone_with_a_role(comms=403, foi=302, admin=302)),
        ],
        "triage:cases": [
            ("get", {"slug": "communications"}, _everyone_with_a_role(foi=403)),
            ("get", {"slug": "foi-monitoring"}, _everyone_with_a_role(comms=403)),
        ],
        "triage:cases_due": [
            ("get", {"slug": "communications"}, _everyone_with_a_role(foi=403)),
            ("get", {"slug": "foi-monitoring"}, _everyone_with_a_role(comms=403)),
        ],
        "triage:case": [
            ("get", {"reference": world["comms_case"].reference}, _everyone_with_a_role(foi=403)),
            ("get", {"reference": world["foi_case"].reference}, _everyone_with_a_role(comms=403)),
        ],
        **{
            f"triage:case_{action}": [
                ("post", {"reference": world["comms_case"].reference}, _everyone_with_a_role(comms=302, foi=403, admin=302)),
                ("post", {"reference": world["foi_case"].reference}, _everyone_with_a_role(comms=403, foi=302, admin=302)),
            ]
            for action in ("note", "pause", "resume", "extend", "assign", "close", "reopen")
        },
        "listening:saved_searches": [("get", {}, _everyone_with_a_role())],
        "listening:saved_search_new": [("get", {}, _everyone_with_a_role())],
        "listening:saved_search_edit": [
            ("get", {"search_id": world["comms_search"].id}, _everyone_with_a_role(foi=403)),
            ("get", {"search_id": world["foi_search"].id}, _everyone_with_a_role(comms=403)),
        ],
        "listening:saved_search_check": [("get", {}, _everyone_with_a_role())],
        "listening:saved_search_try": [("get", {}, _everyone_with_a_role())],
        "listening:harvest_health": [("get", {}, _everyone_with_a_role())],
        "foi_monitoring:authorities": [("get", {}, _everyone_with_a_role(comms=403))],
        "listening:platforms": [("get", {}, _admins_only())],
        "listening:credential_new": [("get", {"platform": "mastodon"}, _admins_only())],
        "listening:credential_edit": [("get", {"credential_id": world["credential"].id}, _admins_only())],
        "listening:credential_test": [("post", {"credential_id": world["credential"].id}, _admins_only(302))],
        "listening:spend_cap_edit": [("post", {"platform": "x"}, _admins_only(302))],
        "listening:channels": [("get", {}, _admins_only())],
        "governance:audit_log": [("get", {}, _admins_only())],
        "governance:audit_export": [("get", {}, _admins_only())],
        "governance:audit_verify": [("get", {}, _admins_only())],
        "governance:retention": [("get", {}, _admins_only())],
        # No days given: the page says what to give, and nothing is previewed or saved.
        "governance:retention_preview": [("get", {"category": "untriaged_mentions"}, _admins_only(400))],
        "governance:retention_save": [("post", {"category": "untriaged_mentions"}, _admins_only(400))],

        # Subject access: the person is only ever sent by POST; an empty form comes back with its message.
        "governance:subject_access": [("get", {}, _admins_only()), ("post", {}, _admins_only(400))],
        "governance:subject_access_export": [("post", {}, _admins_only(400))],
        "governance:erasure_preview": [("post", {}, _admins_only(400))],
        "governance:erasure": [("post", {}, _admins_only(400))],
        "governance:collect_again": [("post", {}, _admins_only(400))],

        # The transparency report names no one and is written to be published: everyone with a role reads it.
        **{f"governance:{name}": [("get", {}, _everyone_with_a_role())]
           for name in ("transparency", "transparency_print", "transparency_json", "transparency_csv")},
        "accounts:access": [("get", {}, _admins_only())],
        "accounts:access_grant": [("post", {}, _admins_only(400))],  # posts no valid grant: the form comes back
        "accounts:access_revoke": [("post", {"grant_id": _carys_grant()}, _admins_only(302))],  # no reason: nothing revoked
        "accounts:access_confirm": [("post", {"grant_id": _carys_grant()}, _admins_only(302))],
        "accounts:user_exclude": [("post", {}, _admins_only(400))],
        "accounts:user_exclusion_lift": [("post", {"user_id": _carys_grant_user()}, _admins_only(302))],  # not excluded: nothing
        # Carys has set a password: no invitation is waiting, so nothing is sent or withdrawn.
        "accounts:invitation_resend": [("post", {"user_id": _carys_grant_user()}, _admins_only(302))],
        "accounts:invitation_withdraw": [("post", {"user_id": _carys_grant_user()}, _admins_only(302))],
        "accounts:access_history": [("get", {}, _admins_only())],
        "accounts:access_export": [("get", {}, _admins_only())],
        "listening:channel_new": [("get", {}, _admins_only())],
        "listening:channel_edit": [("get", {"channel_id": world["channel"].id}, _admins_only())],
        # Last: it deletes the credential the rows above use.
        "listening:credential_delete": [("post", {"credential_id": world["credential"].id}, _admins_only(302))],
        "foi_monitoring:authority": [("get", {"authority_id": world["authority"].id}, _everyone_with_a_role(comms=403))],
        "foi_monitoring:authority_import": [("get", {}, _everyone_with_a_role(comms=403, foi=403))],
        "foi_monitoring:flags": [("get", {}, _everyone_with_a_role(comms=403))],
        "foi_monitoring:flag_api": [("get", {}, _everyone_with_a_role(comms=403))],
        "foi_monitoring:meetings": [
            ("get", {}, _everyone_with_a_role(comms=403)),
            ("post", {}, _everyone_with_a_role(comms=403, foi=302, admin=302)),
        ],
        "foi_monitoring:meeting": [("get", {"meeting_id": m.id}, _everyone_with_a_role(comms=403))],
        "foi_monitoring:meeting_minutes": [("get", {"meeting_id": m.id}, _everyone_with_a_role(comms=403))],
        "foi_monitoring:meeting_add_authority": [
            ("post", {"meeting_id": m.id}, _everyone_with_a_role(comms=403, foi=302, admin=302)),
        ],
        "foi_monitoring:meeting_decide": [
            ("post", {"meeting_id": m.id, "decision_id": world["agenda_item"].id}, _everyone_with_a_role(comms=403, foi=302, admin=302)),
        ],
        "foi_monitoring:meeting_close": [
            ("post", {"meeting_id": m.id}, _everyone_with_a_role(comms=403, foi=302, admin=302)),
        ],
        # Last: archiving takes the search out of the pages above.
        "listening:saved_search_archive": [
            ("post", {"search_id": world["comms_search"].id}, _everyone_with_a_role(comms=302, foi=403, admin=302)),
            ("post", {"search_id": world["foi_search"].id}, _everyone_with_a_role(comms=403, foi=302, admin=302)),
        ],
    }


# The value the page's own button sends, for actions that take no other input.
CONFIRM = {
    "listening:saved_search_archive": "archive", "listening:credential_delete": "delete", "listening:credential_test": "test",
    "triage:alert_dismiss": "dismiss", "triage:circulation_retry": "retry", "triage:case_reopen": "reopen",
    "foi_monitoring:meeting_close": "close", "accounts:access_revoke": "revoke", "accounts:access_confirm": "confirm",
    "accounts:recovery_codes": "regenerate", "accounts:totp_remove": "remove",

    "governance:retention_save": "save",

    "governance:erasure": "erase",

    "triage:claim": "claim", "triage:release": "release", "triage:take_over": "take_over",
}


@pytest.mark.django_db
def test_it_lists_every_url_in_the_table(world):
    assert set(_named_urls()) == set(_table(world)), "add new URLs to the permission table"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_it_lets_in_exactly_who_the_roles_allow(client, cast, world, role):
    failures = []
    for name, cases in _table(world).items():
        for method, kwargs, expected in cases:
            client.logout()
            if cast[role] is not None:
                client.force_login(cast[role])
            url = reverse(name, kwargs=kwargs)
            data = {"outcome": "no_action", "confirm": CONFIRM.get(name, "")} if method == "post" else None
            response = getattr(client, method)(url, data)
            want = expected[role]
            if want == "login":
                ok = response.status_code == 302 and reverse("accounts:login") in response["Location"]
            else:
                ok = response.status_code == want
            if not ok:
                failures.append(f"{method.upper()} {url} as {role}: got {response.status_code}, want {want}")
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_it_opens_django_admin_only_to_admins(client, cast, role):
    if cast[role] is not None:
        client.force_login(cast[role])
    for url in ("/admin/", "/admin/accounts/accessgrant/", "/admin/listening/savedsearch/",
                "/admin/listening/watchlist/", "/admin/accounts/team/", "/admin/governance/auditevent/"):
        response = client.get(url)
        if role == "admin":
            assert response.status_code == 200, url
        else:
            assert response.status_code == 302 and "/admin/login/" in response["Location"], (url, role)


@pytest.mark.django_db
def test_it_denies_everything_after_a_grant_is_revoked(client, comms_officer):
    from django.utils import timezone

    comms_officer.grants.update(revoked_at=timezone.now())
    client.force_login(comms_officer)
    assert client.get(reverse("triage:inbox", kwargs={"slug": "communications"})).status_code == 403
    assert client.get(reverse("home")).status_code == 403


@pytest.mark.django_db
def test_the_admin_sign_in_page_sends_people_to_the_one_sign_in_page(client, comms_officer):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    client.force_login(comms_officer)
    assert client.get("/admin/login/?next=/admin/").status_code == 403
