"""Circulations: mail to teams, recorded, sent after commit by a Celery task, retryable.

1. `circulation_create` records the circulation and one recipient row per team, and
   queues one task per recipient once the transaction commits.
2. `circulation_recipient_send` (from the task) renders and sends one email and records
   the result; a failure is kept on the row, retried by the task with a backoff, and
   left as "failed" once the retries run out.
3. `circulation_retry` queues the failed recipients again, from the page.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import Team
from governance.services import audit_event_record
from triage.mail import header_safe, message_build
from triage.models import (
    Case,
    Circulation,
    CirculationRecipient,
    Decision,
    InboxItem,
    Outcome,
    SpikeAlert,
    TeamMailPreference,
)

NOTE_MAX_LENGTH = 2000
MAX_RECIPIENT_TEAMS = 20
DIGEST_MAX_ITEMS = 200


class CirculationRejected(ValueError):
    """The circulation cannot be sent as asked; the message says why."""


class MailSendFailed(Exception):
    """One email could not be handed to the mail server; the recipient row says why."""


def _queue(recipient_ids: list[int]) -> None:
    from triage.tasks import send_circulation_email

    for recipient_id in recipient_ids:
        send_circulation_email.delay(recipient_id)


def circulation_create(*, item: InboxItem, actor, team_ids: list[int], note: str = "", ip: str | None = None) -> Circulation:
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise CirculationRejected(f"Keep the note under {NOTE_MAX_LENGTH} characters.")
    team_ids = sorted(set(team_ids))
    if not team_ids:
        raise CirculationRejected("Choose at least one team to send it to.")
    if len(team_ids) > MAX_RECIPIENT_TEAMS:
        raise CirculationRejected(f"Send to at most {MAX_RECIPIENT_TEAMS} teams at once.")
    teams = list(Team.objects.filter(pk__in=team_ids))
    if len(teams) != len(team_ids):
        raise CirculationRejected("One of those teams does not exist.")
    if missing := [team.name for team in teams if not team.email]:
        raise CirculationRejected(f"No email address for {', '.join(missing)}: an admin adds it on the team.")
    mention = item.mention
    searches = sorted({hit.saved_search.name for hit in mention.hits.filter(saved_search__team_id=item.team_id).select_related("saved_search")})
    author = f"{mention.author_name} (@{mention.author_handle})" if mention.author_name else f"@{mention.author_handle}"
    with transaction.atomic():
        circulation = Circulation.objects.create(
            kind=Circulation.Kind.NEWS_ITEM, team_id=item.team_id, item=item, mention=mention, sender=actor, note=note,
            subject=header_safe(f"Circulated: {author}: {mention.title or mention.text}", 150),
            saved_searches=", ".join(searches)[:500], mention_url=mention.safe_url[:2000], mention_author=author[:300],
        )
        recipients = CirculationRecipient.objects.bulk_create(
            CirculationRecipient(circulation=circulation, team=team, email=team.email) for team in teams
        )
        audit_event_record(
            action="circulation.create", actor=actor, obj=circulation, ip=ip,
            details={"mention_id": mention.pk, "teams": [team.name for team in teams], "note_length": len(note)},
        )
        ids = [r.pk for r in recipients]
        transaction.on_commit(lambda: _queue(ids))
    return circulation


def circulation_retry(*, circulation: Circulation, actor, ip: str | None = None) -> int:
    """Queue the failed emails of a circulation again; returns how many."""
    with transaction.atomic():
        failed = list(
            circulation.recipients.select_for_update().filter(status=CirculationRecipient.Status.FAILED).values_list("pk", flat=True)
        )
        if not failed:
            raise CirculationRejected("Nothing to retry: no email of this circulation has failed.")
        CirculationRecipient.objects.filter(pk__in=failed).update(status=CirculationRecipient.Status.QUEUED)
        audit_event_record(action="circulation.retry", actor=actor, obj=circulation, ip=ip, details={"recipients": failed})
        transaction.on_commit(lambda: _queue(failed))
    return len(failed)


def _message(recipient: CirculationRecipient):
    circulation = recipient.circulation
    context = {"circulation": circulation, "recipient": recipient}
    if circulation.kind == Circulation.Kind.NEWS_ITEM:
        mention = circulation.mention
        context.update(
            mention=mention,
            link=circulation.mention_url,
            sender_name=circulation.sender.get_username() if circulation.sender else "Someone",
        )
        template = "news_item"
    elif circulation.kind == Circulation.Kind.DIGEST:
        items = (
            InboxItem.objects.filter(pk__in=circulation.payload.get("item_ids", []))
            .select_related("mention").order_by("-decided_at", "-id")
        )
        context.update(items=items, period=circulation.payload.get("period", ""))
        template = "digest"
    elif circulation.kind == Circulation.Kind.SPIKE_ALERT:
        context.update(alert=SpikeAlert.objects.select_related("saved_search").filter(pk=circulation.payload.get("alert_id")).first())
        template = "spike_alert"
    else:
        cases = (
            Case.objects.filter(pk__in=circulation.payload.get("case_ids", []))
            .select_related("team", "forwarded_to", "owner").order_by("due_date", "id")
        )
        context.update(cases=cases, today=timezone.localdate())
        template = "due_cases"
    return message_build(subject=circulation.subject, to=recipient.email, template=template, context=context)


def circulation_recipient_send(*, recipient_id: int, final_attempt: bool) -> CirculationRecipient | None:
    """Send one email. A row deleted since queuing, or already sent, is left alone."""
    with transaction.atomic():
        recipient = (
            CirculationRecipient.objects.select_for_update(of=("self",))
            .select_related("circulation__team", "circulation__sender", "circulation__mention", "team")
            .filter(pk=recipient_id).first()
        )
        if recipient is None or recipient.status == CirculationRecipient.Status.SENT:
            return recipient
        recipient.attempts += 1
        try:
            _message(recipient).send()
        except Exception as error:  # any backend failure: refused, timed out, bad credentials
            recipient.status = CirculationRecipient.Status.FAILED if final_attempt else CirculationRecipient.Status.RETRYING
            recipient.last_error = f"{type(error).__name__}: {error}"[:1000]
            recipient.save(update_fields=["attempts", "status", "last_error"])
            failure = MailSendFailed(recipient.last_error)
        else:
            recipient.status, recipient.sent_at, recipient.last_error = CirculationRecipient.Status.SENT, timezone.now(), ""
            recipient.save(update_fields=["attempts", "status", "sent_at", "last_error"])
            return recipient
    raise failure


# Digests and due-case reminders ------------------------------------------------------------

DIGEST_HOUR = 8


def next_send_at(frequency: str, after: datetime) -> datetime:
    """The next 08:00 UK time after `after`: every day, or Mondays only for weekly."""
    local = timezone.localtime(after)
    candidate = local.replace(hour=DIGEST_HOUR, minute=0, second=0, microsecond=0)
    if candidate <= local:
        candidate += timedelta(days=1)
    if frequency == TeamMailPreference.Digest.WEEKLY:
        candidate += timedelta(days=(7 - candidate.weekday()) % 7)
    # Rebuild through the zone so a daylight-saving change keeps it at 08:00.
    return timezone.make_aware(candidate.replace(tzinfo=None))


def team_mail_preference_save(*, team: Team, actor, news_digest: str, due_cases_daily: bool, ip: str | None = None) -> TeamMailPreference:
    if news_digest not in TeamMailPreference.Digest.values:
        raise CirculationRejected("Choose daily, weekly or no digest.")
    if (news_digest != TeamMailPreference.Digest.OFF or due_cases_daily) and not team.email:
        raise CirculationRejected(f"{team.name} has no email address yet: an admin adds it on the team.")
    now = timezone.now()
    with transaction.atomic():
        preference, _ = TeamMailPreference.objects.select_for_update().get_or_create(team=team)
        if preference.news_digest != news_digest:
            preference.news_digest_next_at = None if news_digest == "off" else next_send_at(news_digest, now)
        preference.news_digest = news_digest
        if due_cases_daily and not preference.due_cases_daily:
            preference.due_cases_next_at = next_send_at(TeamMailPreference.Digest.DAILY, now)
        preference.due_cases_daily = due_cases_daily
        preference.save()
        audit_event_record(action="team.mail_preference", actor=actor, obj=team, ip=ip,
                           details={"news_digest": news_digest, "due_cases_daily": due_cases_daily})
    return preference


def _claim(preference_id: int, field: str, seen: datetime, frequency: str, now: datetime) -> bool:
    # Safe to run twice: only the run that moves the time on from what it saw sends.
    return bool(
        TeamMailPreference.objects.filter(pk=preference_id, **{field: seen}).update(**{field: next_send_at(frequency, now)})
    )


def _circulate_to_team(*, team: Team, kind: str, subject: str, payload: dict) -> Circulation:
    with transaction.atomic():
        circulation = Circulation.objects.create(kind=kind, team=team, subject=header_safe(subject), payload=payload)
        recipient = CirculationRecipient.objects.create(circulation=circulation, team=team, email=team.email)
        audit_event_record(action=f"circulation.{kind}", obj=circulation, actor_label="system",
                           details={"team": team.name, **{k: len(v) for k, v in payload.items() if isinstance(v, list)}})
        transaction.on_commit(lambda: _queue([recipient.pk]))
    return circulation


def scheduled_mail_send(*, now: datetime | None = None) -> list[Circulation]:
    """Send every digest and due-case reminder whose time has come. Safe to run twice."""
    now = now or timezone.now()
    sent = []
    due_digests = TeamMailPreference.objects.select_related("team").filter(
        ~Q(news_digest=TeamMailPreference.Digest.OFF), news_digest_next_at__lte=now
    )
    for preference in due_digests:
        seen = preference.news_digest_next_at
        if not preference.team.email or not _claim(preference.pk, "news_digest_next_at", seen, preference.news_digest, now):
            continue
        since = seen - timedelta(days=7 if preference.news_digest == TeamMailPreference.Digest.WEEKLY else 1)
        item_ids = list(
            Decision.objects.filter(
                item__team=preference.team, outcome=Outcome.NEWS_ITEM, decided_at__gte=since, decided_at__lt=seen,
                undone_at__isnull=True,
            )
            .order_by("-decided_at").values_list("item_id", flat=True).distinct()[:DIGEST_MAX_ITEMS]
        )
        period = f"{timezone.localtime(since):%-d %b %H:%M} to {timezone.localtime(seen):%-d %b %H:%M}"
        subject = f"{preference.team.name}: {len(item_ids)} news item{'s' if len(item_ids) != 1 else ''}, {period}"
        sent.append(_circulate_to_team(team=preference.team, kind=Circulation.Kind.DIGEST, subject=subject,
                                       payload={"item_ids": item_ids, "period": period}))
    due_reminders = TeamMailPreference.objects.select_related("team").filter(due_cases_daily=True, due_cases_next_at__lte=now)
    for preference in due_reminders:
        seen = preference.due_cases_next_at
        if not preference.team.email or not _claim(preference.pk, "due_cases_next_at", seen, "daily", now):
            continue
        horizon = timezone.localdate(now) + timedelta(days=7)
        case_ids = list(
            Case.objects.filter(Q(team=preference.team) | Q(forwarded_to=preference.team), status=Case.Status.OPEN,
                                due_date__lte=horizon).order_by("due_date", "id").values_list("pk", flat=True)[:DIGEST_MAX_ITEMS]
        )
        if not case_ids:
            continue
        subject = f"{preference.team.name}: {len(case_ids)} case{'s' if len(case_ids) != 1 else ''} due in the next 7 days or overdue"
        sent.append(_circulate_to_team(team=preference.team, kind=Circulation.Kind.DUE_CASES, subject=subject,
                                       payload={"case_ids": case_ids}))
    return sent


def case_url(case: Case) -> str:
    return reverse("triage:case", args=[case.reference])
