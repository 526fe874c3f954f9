"""`load_demo`: the demo installation, safe to run again."""

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Team
from foi_monitoring.models import PublicAuthority
from listening.models import SavedSearch


@pytest.mark.django_db
def test_load_demo_makes_teams_that_can_receive_mail_and_loads_the_register_once(tmp_path, settings):
    settings.VAR_DIR = tmp_path
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "Loaded the public authority register" in out.getvalue()
    authorities = PublicAuthority.objects.count()
    assert authorities > 4000
    assert all(team.email.endswith("@demo.earshot.invalid") for team in Team.objects.all())
    searches = SavedSearch.objects.count()

    again = StringIO()
    call_command("load_demo", stdout=again)
    assert "Loaded the public authority register" not in again.getvalue()
    assert (PublicAuthority.objects.count(), SavedSearch.objects.count()) == (authorities, searches)
