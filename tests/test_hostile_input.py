"""Hostile input on every URL, as every member of the cast: never a 5xx, and nothing changes.

Every named URL from the permission walk, and every admin page, is requested with each
parameter its view reads set to a hostile value: a NUL character, a number too long for
Python to read, a number too big for the database, long and very long text, invalid
UTF-8 (raw bytes and percent-encoded), and repeated keys where one value is expected.
"""

import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse

from tests.test_permissions import ROLES, _named_urls, _table, world  # noqa: F401  (world is a fixture)

LONG_TEXT = "x" * 15_000  # under the request guard's limit, so it reaches the views
HOSTILE = {
    "nul": "before\x00after",
    "number_past_python_limit": "9" * 4301,
    "number_past_bigint": "9" * 30,
    "negative": "-1",
    "long_text": LONG_TEXT,
    "text_100_kb": "y" * 100 * 1024,
    "markup": "<script>alert(1)</script>",
    # Repeated keys: .get() sees the last, .getlist() all of them.
    "repeated": ["-1", "9" * 30, LONG_TEXT],
}
# Refused by the request guard itself, on every URL, whoever asks.
GUARDED = {"nul", "number_past_python_limit", "text_100_kb"}
# Invalid in every admin form ("-1" is a fine username, which an admin may set).
NEVER_VALID = GUARDED | {"long_text", "repeated"}
INVALID_UTF8_QUERY = "query=%FF%FE&q=\xff\xfe&note=caf%C3"  # WSGI spells raw bytes as latin-1 characters
INVALID_UTF8_BODY = b"outcome=\xff\xfe&note=caf%C3&query=%C0%AF"

# What each view reads from the request (GET and POST alike), beyond its path.
COMMON = ["next", "page"]
PARAMETERS = {
    "home": [],
    "healthz": [],
    "accounts:login": ["username", "password"],
    "accounts:logout": [],
    "accounts:reauth": ["password", "code"],
    "accounts:login_code": ["code"],
    "accounts:two_factor": [],
    "accounts:totp_enrol": ["confirm", "code"],
    "accounts:recovery_codes": ["confirm"],
    "accounts:totp_remove": ["confirm"],
    "accounts:totp_reset": ["user", "reason"],
    "accounts:invite": ["username", "email", "first_name", "last_name", "team", "role", "reason"],
    "accounts:invitation_resend": [],
    "accounts:invitation_withdraw": ["reason"],
    "accounts:invitation_accept": ["new_password1", "new_password2"],
    "triage:inbox": [
        "status", "outcome", "platform", "search", "assignee", "case", "since", "until", "sort", "q", "cursor", "counts",
    ],
    "triage:item": [],
    "triage:decide": ["outcome", "request_type", "note", "redecide"],
    "triage:claim": ["confirm"],
    "triage:release": ["confirm"],
    "triage:take_over": ["confirm"],
    "triage:assign": ["assignee", "back"],
    "triage:undo": ["decision"],
    "triage:holders": ["ids"],
    "triage:bulk": ["action", "scope", "items", "outcome", "request_type", "assignee", "filters"],

    "triage:group": ["before"],
    "triage:circulate": ["teams", "note"],
    "triage:team": ["range"],
    "triage:team_mail": ["news_digest", "due_cases_daily"],
    "triage:circulations": ["before"],
    "triage:circulations_export": [],
    "triage:circulation_retry": ["confirm"],
    "triage:alerts": ["before"],
    "triage:alert_dismiss": ["confirm"],
    "triage:spike_threshold": ["ratio", "min_count", "cooldown_minutes", "enabled"],
    "triage:cases": ["side", "status", "kind", "request_type", "before"],
    "triage:cases_due": ["after"],
    "triage:case": [],
    "triage:case_note": ["note"],
    "triage:case_pause": ["reason", "paused_on"],
    "triage:case_resume": ["answered_on"],
    "triage:case_extend": ["reason", "new_due"],
    "triage:case_assign": ["owner", "forwarded_to"],
    "triage:case_close": ["resolution", "note"],
    "triage:case_reopen": ["confirm", "note"],
    "listening:saved_searches": [],
    "listening:saved_search_new": [
        "team", "name", "query", "purpose", "purpose_statement", "publishable", "platforms", "interval_minutes", "enabled",
    ],
    "listening:saved_search_edit": [
        "team", "name", "query", "purpose", "purpose_statement", "publishable", "platforms", "interval_minutes", "enabled",
    ],
    "listening:saved_search_check": ["query", "platforms"],
    "listening:saved_search_try": ["query", "days"],
    "listening:saved_search_archive": ["confirm"],
    "listening:harvest_health": ["platform", "status", "search"],
    "foi_monitoring:authorities": ["q"],
    "foi_monitoring:authority": [],
    "foi_monitoring:authority_import": ["file"],
    "foi_monitoring:flags": [],
    "foi_monitoring:flag_api": [],
    "foi_monitoring:meetings": ["starts_at", "attendees"],
    "foi_monitoring:meeting": [],
    "foi_monitoring:meeting_minutes": [],
    "foi_monitoring:meeting_add_authority": ["authority"],
    "foi_monitoring:meeting_decide": ["outcome", "notes"],
    "foi_monitoring:meeting_close": ["confirm"],
    "listening:platforms": [],
    "listening:credential_new": ["base_url", "bearer_token", "user_id", "access_token", "identifier", "app_password"],
    "listening:credential_edit": ["base_url", "bearer_token", "user_id", "access_token", "identifier", "app_password"],
    "listening:credential_test": ["confirm"],
    "listening:credential_delete": ["confirm"],
    "listening:spend_cap_edit": ["monthly_cap"],
    "listening:channels": [],
    "governance:audit_log": ["actor", "action", "object_type", "object_id", "since", "until", "before"],
    "governance:audit_export": ["actor", "action", "object_type", "object_id", "since", "until"],
    "governance:audit_verify": [],
    "governance:retention": [],
    "governance:retention_preview": ["days"],
    "governance:retention_save": ["days", "confirm"],

    "governance:subject_access": ["platform", "handle", "name"],
    "governance:subject_access_export": ["platform", "handle", "name"],
    "governance:erasure_preview": ["platform", "handle", "name", "reason"],
    "governance:erasure": ["platform", "handle", "name", "reason", "preview", "confirm", "stop_collecting"],
    "governance:collect_again": ["platform", "handle", "name", "reason"],

    "governance:transparency": [],
    "governance:transparency_print": [],
    "governance:transparency_json": [],
    "governance:transparency_csv": [],
    "accounts:access": [],
    "accounts:access_grant": ["user", "team", "role", "reason", "expires_on"],
    "accounts:access_revoke": ["confirm", "reason"],
    "accounts:access_confirm": ["confirm"],
    "accounts:user_exclude": ["user", "reason"],
    "accounts:user_exclusion_lift": ["reason"],
    "accounts:access_history": ["user", "team"],
    "accounts:access_export": ["user", "team"],
    "listening:channel_new": ["platform", "channel", "name", "base_url", "interval_minutes", "enabled"],
    "listening:channel_edit": ["platform", "channel", "name", "base_url", "interval_minutes", "enabled"],
}
ADMIN_EDIT_FORMS = {
    "listening:credential_new", "listening:credential_edit", "listening:channel_new", "listening:channel_edit",
    "listening:spend_cap_edit",
}
# A case note's only input is free text: "-1" or "<script>" is a note an officer may write (and the
# case page escapes it), so only never-valid values are posted there.
FREE_TEXT_FORMS = {"triage:case_note"}
ADMIN_CHANGELIST = ["q", "o", "p", "e", "all", "_changelist_filters", "_popup", "_to_field"]
SIGN_IN_ACTIONS = ("login", "logout", "login_failed")
# Downloading a CSV is an audited read: each GET records who took the data, by design.
EXPORT_ACTIONS = ("circulation.export", "foi.minutes_export", "audit.export", "access.export")
ADMIN_ACTION = ["action", "_selected_action", "select_across", "index"]


def _snapshot():
    """Row counts of every model, and the rows of the tables a request could act on."""
    from governance.models import AuditEvent
    from listening.models import SavedSearch
    from triage.models import Decision, InboxItem

    skip = {"sessions", "axes"}  # signing in and out writes these by design
    counts = {m._meta.label: m.objects.count() for m in apps.get_models() if m._meta.app_label not in skip}
    rows = {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in (AuditEvent, Decision, InboxItem, SavedSearch)
    }
    return counts, rows


def _form_data(names, value):
    return {name: value for name in names}


def _admin_cases(admin_user):
    """(url, GET names, POST names or None, hostile kinds to POST) for every admin page."""
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    cases = [("/admin/", ["next"], None, None)]
    for model, model_admin in admin.site._registry.items():
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        filters = [
            name
            for spec in model_admin.get_changelist_instance(request).filter_specs
            for name in spec.expected_parameters()
        ]
        form_fields = list(model_admin.get_form(request)().fields) + ["_save"]
        cases.append((reverse(f"{info}_changelist"), ADMIN_CHANGELIST + filters, ADMIN_ACTION, HOSTILE))
        try:
            cases.append((reverse(f"{info}_add"), ["_changelist_filters"], form_fields, NEVER_VALID))
        except NoReverseMatch:
            pass
        first = model.objects.order_by("pk").first()
        if first is not None:
            # GET only on delete: a POST there is a confirmed deletion, which an admin may make.
            editable = list(model_admin.get_form(request, first)().fields)
            # With every field read-only, any POST is a (logged) save of nothing: send only what the guard refuses.
            kinds = NEVER_VALID if editable else GUARDED
            cases.append((reverse(f"{info}_change", args=[first.pk]), ["_changelist_filters"], editable + ["_save"], kinds))
            cases.append((reverse(f"{info}_history", args=[first.pk]), ["p"], None, None))
            cases.append((reverse(f"{info}_delete", args=[first.pk]), ["_changelist_filters"], None, None))
    return cases


def _app_cases(world):
    cases = []
    for name, entries in _table(world).items():
        for _method, kwargs, _expected in entries:
            names = PARAMETERS[name] + COMMON
            # An admin may set a token or a feed name to "-1": only never-valid values there.
            kinds = NEVER_VALID if name in ADMIN_EDIT_FORMS | FREE_TEXT_FORMS else HOSTILE
            cases.append((reverse(name, kwargs=kwargs), names, names, kinds))
    return cases


def _walk(client, cases, who, failures, *, login=None):
    for url, get_names, post_names, post_kinds in cases:
        for kind, value in HOSTILE.items():
            responses = [("GET", client.get(url, _form_data(get_names, value)))]
            if post_names is not None and kind in post_kinds:
                responses.append(("POST", client.post(url, _form_data(post_names, value), HTTP_HX_REQUEST="true")))
            for method, response in responses:
                wanted = "400" if kind in GUARDED else "below 500"
                if response.status_code >= 500 or (kind in GUARDED and response.status_code != 400):
                    failures.append(f"{method} {url} [{kind}] as {who}: {response.status_code}, want {wanted}")
            if login and "logout" in url:
                login()
        raw = [client.get(url, QUERY_STRING=INVALID_UTF8_QUERY)]
        if post_names is not None:
            raw.append(client.generic("POST", url, INVALID_UTF8_BODY, content_type="application/x-www-form-urlencoded"))
        for response in raw:
            if response.status_code != 400:
                failures.append(f"{response.request['REQUEST_METHOD']} {url} [invalid UTF-8] as {who}: {response.status_code}")
        if login and "logout" in url:
            login()


@pytest.mark.django_db
def test_every_named_url_has_its_parameters_listed(world):
    assert set(_named_urls()) == set(PARAMETERS), "add the new URL's parameters to PARAMETERS"


@pytest.mark.django_db
def test_every_field_and_link_parameter_the_pages_render_is_walked(client, admin_user, world):
    from urllib.parse import parse_qsl

    from triage.services import inbox_item_decide

    inbox_item_decide(item=world["comms_item"], outcome="enquiry", actor=admin_user)  # shows the change-decision form
    client.force_login(admin_user)
    walked = {name for names in PARAMETERS.values() for name in names} | set(COMMON) | {"csrfmiddlewaretoken"}
    seen = set()
    for url, *_ in _app_cases(world):
        response = client.get(url)
        body = (b"".join(response.streaming_content) if response.streaming else response.content).decode()
        seen |= set(re.findall(r'<(?:input|select|textarea|button)\b[^>]*\sname="([^"]+)"', body))
        for query in re.findall(r'href="[^"]*\?([^"#]*)"', body):
            seen |= {name for name, _ in parse_qsl(query.replace("&amp;", "&"), keep_blank_values=True)}
    assert seen and seen <= walked, f"walk these too: {sorted(seen - walked)}"


@pytest.mark.django_db
@pytest.mark.timeout(120)
@pytest.mark.parametrize("role", ROLES)
def test_hostile_parameters_never_cause_a_server_error_or_a_change(client, cast, world, role):
    from listening.models import Mention

    Mention.objects.create(platform="demo", external_id="older", text="An older ICO post")
    user = cast[role]
    client.raise_request_exception = False  # count every server error, not just the first

    def login():
        if user is not None:
            client.force_login(user)

    login()
    before = _snapshot()
    failures = []
    cases = _app_cases(world) + _admin_cases(cast["admin"])
    _walk(client, cases, role, failures, login=login)
    assert not failures, "\n".join(failures[:60]) + f"\n({len(failures)} in all)"
    after = _snapshot()
    # Signing out, back in, failed sign-ins and exports are audited by design; nothing else may change.
    for snapshot in (before, after):
        snapshot[0].pop("governance.AuditEvent")
        snapshot[1]["governance.AuditEvent"] = [
            row for row in snapshot[1]["governance.AuditEvent"] if row["action"] not in SIGN_IN_ACTIONS + EXPORT_ACTIONS
        ]
    assert after == before, "\n".join(_changes(before, after))


def _changes(before, after):
    """What differs between two snapshots, one line each: the model, and the rows that came, went or changed."""
    lines = [f"{label}: {before[0][label]} rows, then {count}" for label, count in after[0].items() if count != before[0].get(label)]
    for label, rows in after[1].items():
        old = {row["id"]: row for row in before[1][label]}
        new = {row["id"]: row for row in rows}
        lines += [f"{label} new: {new[pk]}" for pk in new.keys() - old.keys()]
        lines += [f"{label} gone: {old[pk]}" for pk in old.keys() - new.keys()]
        lines += [f"{label} changed: {old[pk]} -> {new[pk]}" for pk in old.keys() & new.keys() if old[pk] != new[pk]]
    return [line[:400] for line in lines]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/inbox/communications/%00/", "/inbox/%FF%FE/", "/admin/accounts/team/%00/change/", "/searches/\x00/"],
)
def test_it_refuses_a_hostile_path(client, admin_user, path):
    client.force_login(admin_user)
    response = client.get(path)
    assert response.status_code == 400


@pytest.mark.django_db
def test_the_refusal_page_is_plain_and_escaped(client, comms_officer):
    client.force_login(comms_officer)
    response = client.get("/inbox/communications/", {"<b>status\x00</b>": "x"})
    body = response.content.decode()
    assert response.status_code == 400 and "<b>status" not in body
    assert "NUL" in body or "cannot be accepted" in body
    htmx = client.get("/inbox/communications/", {"q": "a\x00"}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 400 and htmx["Content-Type"].startswith("text/plain")
    assert re.search(r"\S", htmx.content.decode())


@pytest.mark.django_db
def test_it_refuses_a_nul_in_a_cookie_or_a_header(client, comms_officer):
    client.raise_request_exception = False
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"
    assert client.get("/inbox/communications/").status_code == 400
    client.cookies.clear()
    response = client.post("/accounts/login/", {"username": "carys", "password": "wrong"}, HTTP_USER_AGENT="bot\x00")
    assert response.status_code == 400
    from governance.models import AuditEvent

    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_form_body_that_is_not_utf8(client, comms_officer, communications, make_item):
    from triage.models import Decision

    item = make_item(communications)
    client.force_login(comms_officer)
    response = client.generic(
        "POST", f"/items/{item.id}/decide/", b"outcome=no_action&note=caf\xe9", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400 and "UTF-8" in response.content.decode()
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_the_authority_search_refuses_an_over_long_search_with_a_message(client, foi_member):
    from foi_monitoring.models import PublicAuthority

    PublicAuthority.objects.create(name="Information Commissioner's Office", code="ICO")
    client.force_login(foi_member)
    body = client.get("/foi/authorities/", {"q": "Information " * 20}).content.decode()
    assert "Search for at most 200 characters" in body and "Information Commissioner" not in body
    assert "Information Commissioner" in client.get("/foi/authorities/", {"q": "commissioner"}).content.decode()


@pytest.mark.django_db
def test_it_refuses_an_over_large_body_from_anyone_before_reading_it(client, tmp_path, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from config.request_guard import BODY_MAX_BYTES

    # Django spools a large upload to a temporary file while parsing: none may be written.
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    upload = SimpleUploadedFile("big.csv", b"x" * (BODY_MAX_BYTES + 1), content_type="text/csv")
    response = client.post("/accounts/login/", {"username": "carys", "password": "wrong", "file": upload})
    assert response.status_code == 400 and "too large" in response.content.decode()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.django_db
def test_an_import_file_over_its_own_limit_still_gets_the_import_pages_message(client, admin_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from foi_monitoring.register import CSV_MAX_BYTES

    client.force_login(admin_user)
    upload = SimpleUploadedFile("big.csv", b"name\n" + b"x" * CSV_MAX_BYTES, content_type="text/csv")
    response = client.post("/foi/authorities/import/", {"file": upload})
    assert response.status_code == 400 and "The file is larger than 2 MB." in response.content.decode()
