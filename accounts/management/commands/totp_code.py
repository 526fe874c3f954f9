"""Print the current sign-in code of a person's authenticator, for trying the demo without a phone.

Refused in production (EARSHOT_PRODUCTION): there a code must come from the person's own app.
"""

import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = "Print the current TOTP code for USERNAME's authenticator (set up or being set up). Not in production."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        if settings.PRODUCTION:
            raise CommandError("Not in production: codes come from each person's own authenticator app.")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No one is called {username!r}.")
        device = TOTPDevice.objects.filter(user=user).order_by("-confirmed", "-id").first()
        if device is None:
            raise CommandError(f"{username} has no authenticator yet: sign in as them and press Start on the set-up page.")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = time.time()
        if totp.t() <= device.last_t:  # this step's code was used: the next one is accepted
            totp.time += device.step
        state = "set up" if device.confirmed else "being set up"
        self.stdout.write(f"{totp.token():0{device.digits}d}  ({username}'s authenticator, {state}; valid for up to a minute)")
