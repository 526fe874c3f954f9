"""Retention: the preview counts exactly what the purge then deletes, and nothing still needed goes."""

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from accounts.models import Team
from foi_monitoring.models import AuthoritySignal, PublicAuthority
from governance.models import AuditEvent, PurgeRecord, RetentionPolicy
from governance.services import audit_event_record
from governance.retention import ORDER, retention_apply, retention_preview
from listening.models import HarvestRun, Mention, MentionHit, SavedSearch
from triage.cases import case_close
from triage.models import Case, CaseEvent, Circulation, CirculationRecipient, Decision, InboxItem
from triage.services import inbox_item_decide

Category = PurgeRecord.Category
DAY = timedelta(days=1)


def exists(mention) -> bool:
    return Mention.objects.filter(pk=mention.pk).exists()


def aged(model, pk, **fields):
    model.objects.filter(pk=pk).update(**fields)


@pytest.fixture
def policies(db):
    """The default policies the migration seeds (a transactional test before this one may have flushed them)."""
    for category, days in RetentionPolicy.DEFAULT_DAYS.items():
        RetentionPolicy.objects.update_or_create(category=category, defaults={"days": days})


@pytest.fixture
def press(db):
    return Team.objects.create(name="Press office", slug="press", email="press@example.invalid")


@pytest.fixture
def world(policies, communications, foi_team, press, make_item, make_mention, admin_user):
    """Data of every category, some past a short policy and some within it, with what keeps it."""
    now = timezone.now()
    old, recent = now - 200 * DAY, now - 10 * DAY
    search = SavedSearch.objects.create(team=communications, name="the ICO", query='"the ICO"')
    foi_search = SavedSearch.objects.create(team=foi_team, name="FOI", query="FOI overdue", purpose="foi_monitoring")
    w = {"now": now, "search": search}

    def item(team, at, mention=None, **mention_fields):
        made = InboxItem.objects.create(team=team, mention=mention or make_mention(**mention_fields))
        aged(InboxItem, made.pk, created_at=at)
        aged(Mention, made.mention_id, first_seen_at=min(at, made.mention.first_seen_at))
        MentionHit.objects.get_or_create(mention_id=made.mention_id, saved_search=search if team != foi_team else foi_search)
        return made

    def decided(team, at, outcome, mention=None, **extra):
        made = item(team, at - DAY, mention=mention)
        inbox_item_decide(item=made, outcome=outcome, actor=admin_user, **extra)
        aged(InboxItem, made.pk, decided_at=at)
        return made

    # Untriaged.
    w["untriaged_old"] = item(communications, old)
    w["untriaged_recent"] = item(communications, recent)
    w["untriaged_shared"] = item(communications, old)  # and an open item in the press office, recent
    w["press_open"] = item(press, recent, mention=w["untriaged_shared"].mention)
    w["orphan"] = make_mention(first_seen_at=old)
    # Dismissed.
    w["dismissed_old"] = decided(communications, old, "no_action")
    w["dismissed_recent"] = decided(communications, recent, "no_action")
    w["dismissed_with_case"] = decided(communications, old, "no_action")  # another team made it a case
    w["press_case_item"] = decided(press, old, "complaint", mention=w["dismissed_with_case"].mention)
    # A complaint that became "no action": its case is closed as redecided and goes with the item.
    w["redecided"] = decided(communications, old, "complaint")
    inbox_item_decide(item=w["redecided"], outcome="no_action", actor=admin_user, redecide=True)
    aged(InboxItem, w["redecided"].pk, decided_at=old)
    # News items, one circulated recently.
    w["news_old"] = decided(communications, old, "news_item")
    w["news_circulated"] = decided(communications, old, "news_item")
    w["circulation_recent"] = Circulation.objects.create(
        team=communications, item=w["news_circulated"], mention=w["news_circulated"].mention, subject="A find"
    )
    # Cases: one closed long ago, one closed recently, one still open (from long ago).
    w["case_old"] = decided(communications, old, "enquiry")
    w["case_recent"] = decided(communications, old, "information_request", request_type="foi")
    w["case_open"] = decided(communications, old, "complaint")
    for key, closed_at in (("case_old", old), ("case_recent", recent)):
        case = case_close(case=w[key].case, actor=admin_user, resolution="resolved")
        aged(Case, case.pk, closed_at=closed_at)
    # FOI monitoring data on a mention that another team left untriaged.
    w["monitored"] = item(foi_team, old)
    w["monitored_comms"] = item(communications, old, mention=w["monitored"].mention)
    authority = PublicAuthority.objects.create(name="Borsetshire County Council", code="BOR")
    AuthoritySignal.objects.create(authority=authority, mention=w["monitored"].mention, codes=["overdue"],
                                   author_key="demo:x", occurred_at=old, collected_at=old)
    # Circulations and harvest runs.
    w["circulation_old"] = Circulation.objects.create(team=communications, kind="digest", subject="Digest")
    CirculationRecipient.objects.create(circulation=w["circulation_old"], team=press, email="press@example.invalid")
    aged(Circulation, w["circulation_old"].pk, created_at=old)
    w["run_old"] = HarvestRun.objects.create(saved_search=search, platform="demo", started_at=old, finished_at=old)
    w["run_recent"] = HarvestRun.objects.create(saved_search=search, platform="demo", started_at=recent, finished_at=recent)
    w["run_stuck"] = HarvestRun.objects.create(saved_search=search, platform="demo", started_at=old)
    return w


def apply(category, days, **kwargs):
    RetentionPolicy.objects.filter(category=category).update(days=days)
    (result,) = retention_apply(categories=[category], triggered_by="test", **kwargs).categories
    return result


@pytest.mark.django_db
@pytest.mark.parametrize("category", [c for c in ORDER if c != Category.AUDIT_LOG])
def test_the_preview_counts_exactly_what_the_purge_then_deletes(world, category):
    preview = retention_preview(category=category, days=100)
    assert sum(preview.values()) > 0, "the seeded data must give every category something to delete"
    result = apply(category, 100)
    assert result.counts == preview
    assert result.record.counts == preview and result.record.policy.category == category
    # A second run finds nothing left, and its preview said so.
    assert sum(retention_preview(category=category, days=100).values()) == 0
    assert apply(category, 100).total == 0


@pytest.mark.django_db
def test_the_audit_log_preview_counts_what_its_purge_deletes(policies, admin_user):
    for n in range(4):
        audit_event_record(action=f"test.{n}")
    with connection.cursor() as cursor:  # the oldest three are a year old
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE governance_auditevent DISABLE TRIGGER audit_event_no_update")
        cursor.execute("UPDATE governance_auditevent SET at = at - interval '365 days'"
                       " WHERE id IN (SELECT id FROM governance_auditevent ORDER BY id LIMIT 3)")
        cursor.execute("ALTER TABLE governance_auditevent ENABLE TRIGGER audit_event_no_update")
    preview = retention_preview(category=Category.AUDIT_LOG, days=30)
    assert preview == {"audit_events": 3}
    assert apply(Category.AUDIT_LOG, 30).counts == preview


@pytest.mark.django_db
def test_untriaged_items_go_with_their_mentions_unless_something_keeps_the_mention(world):
    result = apply(Category.UNTRIAGED_MENTIONS, 100)
    w = world
    assert not exists(w["untriaged_old"].mention) and not exists(w["orphan"])
    assert exists(w["untriaged_recent"].mention)
    # An open item in another team keeps the mention; only this team's expired item goes.
    assert exists(w["untriaged_shared"].mention) and InboxItem.objects.filter(pk=w["press_open"].pk).exists()
    assert not InboxItem.objects.filter(pk=w["untriaged_shared"].pk).exists()
    # FOI monitoring data keeps its mention and its team's item: the five-day rule governs them.
    assert exists(w["monitored"].mention) and InboxItem.objects.filter(pk=w["monitored"].pk).exists()
    assert not InboxItem.objects.filter(pk=w["monitored_comms"].pk).exists()
    # Decided items are other categories' business.
    assert InboxItem.objects.filter(pk=w["dismissed_old"].pk).exists()
    assert result.counts["listening.mention"] == 2 and result.counts["triage.inboxitem"] == 3


@pytest.mark.django_db
def test_a_mention_still_needed_by_a_case_in_another_team_survives(world):
    w = world
    apply(Category.DISMISSED_ITEMS, 100)
    assert not InboxItem.objects.filter(pk=w["dismissed_with_case"].pk).exists()
    assert exists(w["dismissed_with_case"].mention)
    assert Case.objects.filter(item=w["press_case_item"]).exists()
    assert not exists(w["dismissed_old"].mention) and exists(w["dismissed_recent"].mention)
    # The case stub of a decision changed to "no action" went with its item; casework stays.
    assert not exists(w["redecided"].mention) and not Case.objects.filter(item_id=w["redecided"].pk).exists()
    assert Case.objects.filter(item=w["case_open"]).exists() and Case.objects.filter(item=w["case_old"]).exists()


@pytest.mark.django_db
def test_only_closed_cases_past_the_policy_go_with_their_history(world):
    w = world
    case_id = w["case_old"].case.pk
    result = apply(Category.CASES, 100)
    assert not Case.objects.filter(pk=case_id).exists() and not CaseEvent.objects.filter(case_id=case_id).exists()
    assert not exists(w["case_old"].mention) and not Decision.objects.filter(item_id=w["case_old"].pk).exists()
    assert Case.objects.filter(item=w["case_recent"]).exists() and Case.objects.filter(item=w["case_open"]).exists()
    assert result.counts["triage.case"] == 1 and result.counts["listening.mention"] == 1
    # The press office's open complaint is casework: kept whatever its age.
    assert Case.objects.filter(item=w["press_case_item"]).exists()


@pytest.mark.django_db
def test_a_circulation_within_its_retention_keeps_its_mention_and_after_it_does_not(world):
    w = world
    apply(Category.NEWS_ITEMS, 100)
    assert not exists(w["news_old"].mention)
    assert exists(w["news_circulated"].mention) and not InboxItem.objects.filter(pk=w["news_circulated"].pk).exists()
    circulation = Circulation.objects.get(pk=w["circulation_recent"].pk)
    assert circulation.item_id is None and circulation.mention_id == w["news_circulated"].mention_id
    # Once circulations are kept for less than the circulation's age, it keeps nothing; the
    # circulation goes by its own policy, and the mention no item holds goes as untriaged.
    aged(Circulation, circulation.pk, created_at=w["now"] - 150 * DAY)
    RetentionPolicy.objects.filter(category=Category.CIRCULATIONS).update(days=100)
    assert retention_preview(category=Category.CIRCULATIONS, days=100)["triage.circulation"] == 2
    result = retention_apply(categories=[Category.CIRCULATIONS, Category.UNTRIAGED_MENTIONS])
    assert not Circulation.objects.filter(pk=circulation.pk).exists()
    assert not exists(w["news_circulated"].mention)
    assert result.categories[0].counts == {"triage.circulation": 2, "triage.circulationrecipient": 1}


@pytest.mark.django_db
def test_harvest_runs_go_from_their_end_and_a_run_that_never_ended_from_its_start(world):
    result = apply(Category.HARVEST_RUNS, 100)
    assert list(HarvestRun.objects.values_list("pk", flat=True)) == [world["run_recent"].pk]
    assert result.counts == {"listening.harvestrun": 2}


@pytest.mark.django_db
def test_a_row_of_any_other_table_referring_to_a_mention_keeps_it(world):
    w = world
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE retention_test_hold (id serial PRIMARY KEY,"
                       " mention_id bigint REFERENCES listening_mention (id) DEFERRABLE INITIALLY DEFERRED)")
        cursor.execute("INSERT INTO retention_test_hold (mention_id) VALUES (%s)", [w["untriaged_old"].mention_id])
    preview = retention_preview(category=Category.UNTRIAGED_MENTIONS, days=100)
    result = apply(Category.UNTRIAGED_MENTIONS, 100)
    assert exists(w["untriaged_old"].mention) and not exists(w["orphan"])
    assert result.counts == preview and result.counts["listening.mention"] == 1


@pytest.mark.django_db
def test_a_row_referring_to_a_decision_keeps_its_item_and_mention(world):
    w = world
    decision = Decision.objects.get(item=w["dismissed_old"])
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE retention_test_note (id serial PRIMARY KEY,"
                       " decision_id bigint REFERENCES triage_decision (id) DEFERRABLE INITIALLY DEFERRED)")
        cursor.execute("INSERT INTO retention_test_note (decision_id) VALUES (%s)", [decision.pk])
    preview = retention_preview(category=Category.DISMISSED_ITEMS, days=100)
    result = apply(Category.DISMISSED_ITEMS, 100)
    assert result.counts == preview and result.failed_batches == 0
    assert Decision.objects.filter(pk=decision.pk).exists() and exists(w["dismissed_old"].mention)
    assert not InboxItem.objects.filter(pk=w["redecided"].pk).exists()


@pytest.mark.django_db
def test_it_deletes_in_batches_and_counts_every_one(world, make_mention):
    old = world["now"] - 200 * DAY
    for _ in range(7):
        make_mention(first_seen_at=old)
    preview = retention_preview(category=Category.UNTRIAGED_MENTIONS, days=100)
    result = apply(Category.UNTRIAGED_MENTIONS, 100, batch_size=2)
    assert result.counts == preview and result.counts["listening.mention"] == 9


@pytest.mark.django_db
def test_a_dry_run_prints_what_would_go_and_changes_nothing(world):
    RetentionPolicy.objects.update(days=100)
    before = (Mention.objects.count(), InboxItem.objects.count(), Case.objects.count(), Circulation.objects.count(),
              HarvestRun.objects.count(), AuditEvent.objects.count())
    out = StringIO()
    call_command("apply_retention", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "Untriaged mentions: would delete 3 inbox items" in text and "2 mentions" in text
    assert "Harvest runs: would delete 2 harvest runs" in text
    after = (Mention.objects.count(), InboxItem.objects.count(), Case.objects.count(), Circulation.objects.count(),
             HarvestRun.objects.count(), AuditEvent.objects.count())
    assert after == before and not PurgeRecord.objects.exists()
    call_command("apply_retention", stdout=out)
    assert PurgeRecord.objects.filter(policy__isnull=False).count() == len(ORDER)
    assert HarvestRun.objects.count() == 1


@pytest.mark.django_db
def test_each_category_run_writes_one_record_and_one_audit_event(world):
    result = retention_apply(triggered_by="beat")
    assert [r.category for r in result.categories] == list(ORDER)
    records = PurgeRecord.objects.filter(category__in=ORDER)
    assert records.count() == len(ORDER)
    for record in records:
        assert record.policy.category == record.category and record.triggered_by == "beat"
        assert record.cutoff < world["now"]
        assert record.basis.startswith("Retention policy:")
    audited = AuditEvent.objects.filter(action="retention.purge")
    assert audited.count() == len(ORDER) - 1  # the audit log's purge records itself as audit_log.purge
    assert AuditEvent.objects.filter(action="audit_log.purge").count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
def test_two_concurrent_runs_delete_once_and_each_writes_its_records(policies, communications, make_item):
    old = timezone.now() - 200 * DAY
    for _ in range(30):
        made = make_item(communications)
        aged(InboxItem, made.pk, created_at=old)
    kept = make_item(communications)
    start = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            start.wait()
            results.append(retention_apply(categories=[Category.UNTRIAGED_MENTIONS], batch_size=4))
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(r.categories[0].counts["listening.mention"] for r in results) == [0, 30]
    records = PurgeRecord.objects.filter(category=Category.UNTRIAGED_MENTIONS)
    assert sorted(r.counts["triage.inboxitem"] for r in records) == [0, 30]
    assert list(Mention.objects.values_list("pk", flat=True)) == [kept.mention_id]


def test_beat_applies_retention_nightly():
    from celery.schedules import crontab

    from config.celery import app

    entries = [e for e in app.conf.beat_schedule.values() if e["task"] == "governance.tasks.apply_retention"]
    assert len(entries) == 1 and isinstance(entries[0]["schedule"], crontab)


@pytest.mark.django_db
def test_the_beat_task_applies_every_policy(world):
    from governance.tasks import apply_retention

    apply_retention()
    assert PurgeRecord.objects.filter(triggered_by="beat", category__in=ORDER).count() == len(ORDER)


@pytest.mark.django_db
def test_a_batch_a_concurrent_change_undoes_is_left_for_the_next_run_and_the_rest_go(policies, communications, make_item):
    old = timezone.now() - 200 * DAY
    items = []
    for _ in range(6):
        made = make_item(communications)
        aged(InboxItem, made.pk, created_at=old)
        items.append(made)
    blocked = items[3].pk
    with connection.cursor() as cursor:
        # What a deadlock with a concurrent writer looks like to the purge, on one item only.
        cursor.execute(f"""
            CREATE FUNCTION retention_test_block() RETURNS trigger AS $$ BEGIN
              IF OLD.id = {blocked} THEN RAISE EXCEPTION 'deadlock' USING ERRCODE = '40P01'; END IF;
              RETURN OLD;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER retention_test_block BEFORE DELETE ON triage_inboxitem
              FOR EACH ROW EXECUTE FUNCTION retention_test_block();
        """)
    result = apply(Category.UNTRIAGED_MENTIONS, 100, batch_size=2)
    assert result.failed_batches == 1
    assert result.counts["triage.inboxitem"] == 4 and result.counts["listening.mention"] == 4
    assert result.record.counts == result.counts
    assert sorted(InboxItem.objects.values_list("pk", flat=True)) == sorted(i.pk for i in items[2:4])
    event = AuditEvent.objects.get(action="retention.purge")
    assert event.details["failed_batches"] == 1
