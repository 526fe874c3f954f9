"""Every column that can hold a person's data, and what an erasure does with it.

`COLUMNS` accounts for every text, JSON and array column in the database (a test
compares it with information_schema), so a new column is classified before it ships.
"""

# Free text that may name anyone (a note, a harvest's message, a spike's top authors):
# the search lists the rows that refer to the subject and the erasure blanks the
# references out, leaving the rest of the row.
TEXT_PLACES: list[tuple[str, list[str]]] = [
    ("triage.Decision", ["note"]),
    ("triage.Case", ["extension_reason"]),
    ("triage.CaseEvent", ["note", "details"]),
    ("triage.ClockPause", ["reason"]),
    ("triage.Circulation", ["subject", "note", "mention_author", "mention_url", "payload"]),
    ("triage.CirculationRecipient", ["last_error"]),
    ("triage.SpikeAlert", ["top_authors", "top_terms"]),
    ("foi_monitoring.ReviewDecision", ["notes"]),
    ("listening.HarvestRun", ["errors", "notes"]),
    ("listening.SavedSearchPlatform", ["notes", "last_error"]),
    ("listening.Channel", ["notes", "last_error"]),
    ("listening.MentionHit", ["spans"]),
    ("listening.WatchList", ["description"]),
    ("admin.LogEntry", ["object_repr", "change_message"]),
]

# The posts themselves: written by the subject (deleted, or anonymised under a kept
# case), or referring to them (the references blanked out, the raw payload dropped).
MENTION_FIELDS = ["text", "title", "mentions", "in_reply_to_handle", "links", "url", "raw"]

_TEXT = "free text: blanked where it refers to the person"
_MENTION = "a post: deleted or anonymised if theirs, references blanked if about them"
_STAFF = "staff and configuration, not people who are monitored"
_CODE = "a code or label the application sets"
_AUDIT = "the audit log is never edited: writers give ids and lengths, never a post, a handle or a note"

COLUMNS: dict[str, str] = {
    **{f"listening_mention.{c}": _MENTION for c in (
        "author_handle", "author_name", "text", "title", "links", "mentions", "in_reply_to_handle", "url", "raw",
        "external_id", "search_vector", "prefilter_text")},
    "listening_mention.platform": _CODE, "listening_mention.lang": _CODE, "listening_mention.kind": _CODE,
    "listening_mentionhit.spans": _TEXT,
    "listening_watchlistmember.handle": "deleted when it is the person's",
    "listening_watchlistmember.platform": _CODE,
    "listening_watchlist.description": _TEXT, "listening_watchlist.name": _STAFF, "listening_watchlist.x_list_id": _CODE,
    "listening_savedsearch.query": "a query naming the person stops the erasure until an officer changes it",
    "listening_savedsearch.name": _STAFF, "listening_savedsearch.purpose": _CODE,
    "listening_savedsearch.purpose_statement": "why the organisation runs the search: staff configuration, published "
                                               "in the transparency report",
    "listening_savedsearchplatform.notes": _TEXT, "listening_savedsearchplatform.last_error": _TEXT,
    "listening_savedsearchplatform.cursor": "a platform's paging token", "listening_savedsearchplatform.last_status": _CODE,
    "listening_savedsearchplatform.platform": _CODE,
    "listening_channel.notes": _TEXT, "listening_channel.last_error": _TEXT,
    "listening_channel.channel": "the organisation's own feeds, lists and hashtags (each source refuses anything else)",
    "listening_channel.cursor": "a platform's paging token", "listening_channel.name": _STAFF,
    "listening_channel.base_url": _STAFF, "listening_channel.last_status": _CODE, "listening_channel.platform": _CODE,
    "listening_harvestrun.errors": _TEXT, "listening_harvestrun.notes": _TEXT,
    "listening_harvestrun.platform": _CODE, "listening_harvestrun.status": _CODE,
    "listening_platformcredential.secrets": "the organisation's own keys, encrypted",
    "listening_platformcredential.last_error": _STAFF, "listening_platformcredential.base_url": _STAFF,
    "listening_platformcredential.platform": _CODE, "listening_platformcredential.state": _CODE,
    "listening_platformusage.platform": _CODE, "listening_spendcap.platform": _CODE,
    "triage_decision.note": _TEXT, "triage_decision.outcome": _CODE, "triage_decision.request_type": _CODE,
    "triage_inboxitem.status": _CODE,
    "triage_case.extension_reason": _TEXT,
    **{f"triage_case.{c}": _CODE for c in ("reference", "kind", "request_type", "status", "resolution", "nation")},
    "triage_caseevent.note": _TEXT, "triage_caseevent.details": _TEXT, "triage_caseevent.action": _CODE,
    "triage_clockpause.reason": _TEXT,
    **{f"triage_circulation.{c}": _TEXT for c in ("subject", "note", "mention_author", "mention_url", "payload")},
    "triage_circulation.saved_searches": _STAFF, "triage_circulation.kind": _CODE,
    "triage_circulationrecipient.last_error": _TEXT, "triage_circulationrecipient.email": _STAFF,
    "triage_circulationrecipient.status": _CODE,
    "triage_spikealert.top_authors": _TEXT, "triage_spikealert.top_terms": _TEXT,
    "triage_teammailpreference.news_digest": _CODE,
    "foi_monitoring_authoritysignal.author_key": "deleted when it is the person's, with their posts' signals",
    "foi_monitoring_authoritysignal.codes": _CODE,
    "foi_monitoring_reviewdecision.notes": _TEXT, "foi_monitoring_reviewdecision.outcome": _CODE,
    "foi_monitoring_reviewmeeting.attendees": _STAFF,
    **{f"foi_monitoring_publicauthority.{c}": "public bodies, not people" for c in (
        "name", "short_name", "aliases", "handles", "web_domains", "authority_type", "nation", "region", "code",
        "source_id")},
    "foi_monitoring_flag.reason": _CODE,
    **{f"governance_auditevent.{c}": _AUDIT for c in (
        "actor_label", "action", "object_type", "object_id", "object_repr", "details", "previous_hash", "hash", "ip")},
    **{f"governance_purgerecord.{c}": "counts and the policy behind them" for c in (
        "category", "counts", "basis", "triggered_by")},
    "governance_retentionpolicy.category": _CODE,
    "governance_suppressedauthor.platform": _CODE,
    "governance_suppressedauthor.digest": "a keyed hash of the handle of someone whose data was erased: it can match "
                                          "their next post, not give the handle back",
    **{f"governance_erasurerecord.{c}": "counts only; the reason is refused if it names the person" for c in (
        "platform", "reason", "counts")},
    **{f"accounts_user.{c}": _STAFF for c in (
        "username", "first_name", "last_name", "email", "password", "excluded_reason")},
    **{f"accounts_team.{c}": _STAFF for c in ("name", "slug", "description", "email")},
    **{f"accounts_accessgrant.{c}": _STAFF for c in ("role", "reason", "revoke_reason")},
    "django_admin_log.object_repr": _TEXT, "django_admin_log.change_message": _TEXT,
    "django_admin_log.object_id": "a row's id",
    **{f"{table}.{c}": "staff two-factor devices and recovery codes" for table, c in (
        ("otp_totp_totpdevice", "key"), ("otp_totp_totpdevice", "name"),
        ("otp_static_staticdevice", "name"), ("otp_static_statictoken", "token"))},
    "django_session.session_key": "a random key",
    "django_session.session_data": "staff sign-in state; the subject access pages send the handle by POST and never "
                                   "put it in a message",
    **{f"axes_{table}.{c}": "staff sign-in attempts" for table, columns in (
        ("accessattempt", ("get_data", "post_data", "http_accept", "ip_address", "path_info", "user_agent", "username")),
        ("accessfailurelog", ("http_accept", "ip_address", "path_info", "user_agent", "username")),
        ("accesslog", ("http_accept", "ip_address", "path_info", "session_hash", "user_agent", "username")),
    ) for c in columns},
    **{f"{table}.{c}": "framework bookkeeping" for table, c in (
        ("auth_group", "name"), ("auth_permission", "codename"), ("auth_permission", "name"),
        ("django_content_type", "app_label"), ("django_content_type", "model"),
        ("django_migrations", "app"), ("django_migrations", "name"))},
}
