from django.core.management.base import BaseCommand

from listening.demo import demo_load


class Command(BaseCommand):
    help = "Create the demo teams, people, saved searches and watch list (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=int, default=1, help="Minutes between harvests of each demo search.")

    def handle(self, *args, interval, **options):
        people = demo_load(interval_minutes=interval)
        from foi_monitoring.models import PublicAuthority
        from foi_monitoring.register import bundled_import

        if not PublicAuthority.objects.exists():
            # The FOI group's linking needs the register; the bundled UK data is the demo's.
            result = bundled_import()
            self.stdout.write(f"Loaded the public authority register: {result.created} authorities.")
        self.stdout.write(self.style.SUCCESS("Demo loaded. Sign in as:"))
        width = max(len(p.username) for p in people)
        for person in people:
            self.stdout.write(
                f"  {person.username.ljust(width)}  password {person.password}  ({person.role}, {person.team})"
            )
        admins = [p.username for p in people if p.role == "admin"]
        if admins:
            self.stdout.write(
                f"Admins ({', '.join(admins)}) set up two-factor sign-in the first time they sign in: scan the QR code"
                " with an authenticator app, or, without a phone, print the current code with"
                f" `.venv/bin/python manage.py totp_code {admins[0]}` (not in production)."
            )
