"""Re-encrypt every stored platform secret under the first key of EARSHOT_SECRETS_KEY.

To rotate: put a new key first (`EARSHOT_SECRETS_KEY=new,old`), restart, run this,
then drop the old key.
"""

from django.core.management.base import BaseCommand, CommandError

from listening.credentials import CredentialUnreadable, secrets_rotate


class Command(BaseCommand):
    help = "Re-encrypt every stored platform secret under the first key of EARSHOT_SECRETS_KEY."

    def handle(self, *args, **options):
        try:
            count = secrets_rotate()
        except CredentialUnreadable as error:
            raise CommandError(f"{error} Nothing was changed.") from None
        self.stdout.write(f"Re-encrypted {count} credential{'s' if count != 1 else ''} under the first key.")
