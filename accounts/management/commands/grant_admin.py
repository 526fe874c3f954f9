from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Role
from accounts.services import access_grant_create, team_get_or_create


class Command(BaseCommand):
    help = "Give a user an admin grant: how the first admin of a new installation gets in."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--team", default="Administration", help="Team to hold the grant (created if missing).")
        parser.add_argument("--reason", default="Granted from the command line")

    def handle(self, *args, username, team, reason, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user called {username!r}; create one with createsuperuser first.")
        grant = access_grant_create(
            user=user, team=team_get_or_create(name=team), role=Role.ADMIN, reason=reason, via="grant_admin"
        )
        self.stdout.write(self.style.SUCCESS(f"{username} is an admin (grant {grant.pk} on {grant.team})."))
