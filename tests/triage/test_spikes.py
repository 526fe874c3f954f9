"""Spike alerts: one per spike, never for a steady volume, counted in SQL."""

import itertools
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from listening.models import Mention, MentionHit, SavedSearch
from triage.models import Circulation, SpikeAlert
from triage.spikes import hourly_volumes, spike_threshold_save, spikes_detect

pytestmark = pytest.mark.django_db
_n = itertools.count()


@pytest.fixture
def search(communications):
    communications.email = "comms@example.org"
    communications.save()
    return SavedSearch.objects.create(team=communications, name="the ICO", query='"the ICO"')


def _posts(search, at, count, author="someone", text="Complaint about the registration fee"):
    mentions = Mention.objects.bulk_create(
        Mention(platform="demo", external_id=f"s-{next(_n)}", author_handle=author, text=text, posted_at=at, first_seen_at=at)
        for _ in range(count)
    )
    MentionHit.objects.bulk_create(MentionHit(mention=m, saved_search=search, matched_at=at + timedelta(minutes=1)) for m in mentions)


def _steady(search, now, per_hour, hours=13):
    for hour in range(hours):
        _posts(search, now - timedelta(hours=hour, minutes=30), per_hour)


def test_a_steady_volume_never_fires(search):
    now = timezone.now()
    _steady(search, now - timedelta(hours=3), per_hour=20, hours=16)
    _steady(search, now, per_hour=20, hours=3)
    for minutes in range(0, 180, 15):
        assert spikes_detect(now=now - timedelta(minutes=minutes)) == []
    assert not SpikeAlert.objects.exists()


def test_a_spike_fires_once_naming_top_authors_and_terms(search, django_capture_on_commit_callbacks, settings):
    from config.celery import app

    app.conf.task_always_eager = True
    try:
        now = timezone.now()
        _steady(search, now - timedelta(hours=1), per_hour=2, hours=12)
        _posts(search, now - timedelta(minutes=20), 25, author="loud_journalist", text="Registration letter scam warning")
        _posts(search, now - timedelta(minutes=10), 5, author="another")
        with django_capture_on_commit_callbacks(execute=True):
            [alert] = spikes_detect(now=now)
            # The same spike, seen on later runs within the cooldown, is not a new alert.
            for minutes in (5, 30, 60, 120):
                assert spikes_detect(now=now + timedelta(minutes=minutes)) == []
    finally:
        app.conf.task_always_eager = False
    assert SpikeAlert.objects.count() == 1
    assert (alert.count, alert.baseline) == (30, 2.0)
    assert alert.top_authors[0] == ["loud_journalist", 25]
    terms = [term for term, _ in alert.top_terms]
    assert "registration" in terms and "scam" in terms and "the" not in terms
    [message] = mail.outbox
    assert message.to == ["comms@example.org"] and "@loud_journalist" in message.body and "registration" in message.body
    assert Circulation.objects.get().kind == "spike_alert"


def test_a_quiet_search_needs_the_minimum_count(search):
    now = timezone.now()
    _posts(search, now - timedelta(minutes=10), 6)
    assert spikes_detect(now=now) == []
    spike_threshold_save(search=search, actor=None, ratio="3", min_count="5", cooldown_minutes="60", enabled=True)
    assert len(spikes_detect(now=now)) == 1


def test_a_search_with_alerts_off_never_fires(search):
    now = timezone.now()
    _posts(search, now - timedelta(minutes=10), 50)
    spike_threshold_save(search=search, actor=None, ratio="3", min_count="5", cooldown_minutes="60", enabled=False)
    assert spikes_detect(now=now) == []


def test_after_the_cooldown_a_new_spike_alerts_again(search):
    now = timezone.now()
    spike_threshold_save(search=search, actor=None, ratio="2", min_count="10", cooldown_minutes="60", enabled=True)
    _posts(search, now - timedelta(minutes=10), 12)
    assert len(spikes_detect(now=now)) == 1
    later = now + timedelta(hours=6)
    _posts(search, later - timedelta(minutes=10), 40)
    assert len(spikes_detect(now=later)) == 1
    assert SpikeAlert.objects.count() == 2


def test_a_backfill_of_old_posts_is_not_a_spike(search):
    now = timezone.now()
    # A first harvest brings in a week of posts at once: matched now, posted long ago.
    mentions = Mention.objects.bulk_create(
        Mention(platform="demo", external_id=f"old-{n}", text="x", posted_at=now - timedelta(days=3)) for n in range(80)
    )
    MentionHit.objects.bulk_create(MentionHit(mention=m, saved_search=search, matched_at=now - timedelta(minutes=5)) for m in mentions)
    assert spikes_detect(now=now) == []


def test_the_volumes_of_every_search_take_one_query(communications, search, django_assert_num_queries):
    others = [SavedSearch.objects.create(team=communications, name=f"s{n}", query="ICO") for n in range(5)]
    now = timezone.now()
    for other in [search, *others]:
        _posts(other, now - timedelta(minutes=5), 3)
        _posts(other, now - timedelta(hours=5), 2)
    with django_assert_num_queries(1):
        volumes = hourly_volumes(now=now)
    assert volumes[search.pk] == (3, 2) and len(volumes) == 6


def test_thresholds_refuse_bad_values(search):
    from triage.spikes import ThresholdRejected

    for ratio, count, cooldown in (("0.5", "5", "60"), ("x", "5", "60"), ("3", "0", "60"), ("3", "5", "1")):
        with pytest.raises(ThresholdRejected):
            spike_threshold_save(search=search, actor=None, ratio=ratio, min_count=count, cooldown_minutes=cooldown, enabled=True)


def test_the_banner_shows_on_the_teams_pages_until_dismissed(client, comms_officer, search):
    now = timezone.now()
    _posts(search, now - timedelta(minutes=10), 15, author="<b>loud</b>")
    [alert] = spikes_detect(now=now)
    client.force_login(comms_officer)
    inbox = client.get(reverse("triage:inbox", args=["communications"])).content.decode()
    assert "spike-banner" in inbox and "@&lt;b&gt;loud&lt;/b&gt;" in inbox
    client.post(reverse("triage:alert_dismiss", args=[alert.id]), {"confirm": "dismiss"})
    assert "spike-banner" not in client.get(reverse("triage:inbox", args=["communications"])).content.decode()
    assert "Dismissed by carys" in client.get(reverse("triage:alerts", args=["communications"])).content.decode()


def test_dismiss_refuses_a_post_that_did_not_come_from_the_button(client, comms_officer, search):
    alert = SpikeAlert.objects.create(saved_search=search, team=search.team, window_end=timezone.now(), count=20,
                                      baseline=1, ratio=3, min_count=10)
    client.force_login(comms_officer)
    response = client.post(reverse("triage:alert_dismiss", args=[alert.id]), {"confirm": "yes"})
    assert response.status_code == 400 and "Dismiss button" in response.content.decode()
    alert.refresh_from_db()
    assert alert.dismissed_at is None
    page = client.get(reverse("triage:alerts", args=["communications"])).content.decode()
    assert 'name="confirm" value="dismiss"' in page
