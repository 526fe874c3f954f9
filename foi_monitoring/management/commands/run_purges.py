from django.core.management.base import BaseCommand

from foi_monitoring.purge import monitoring_purge


class Command(BaseCommand):
    help = (
        "Apply the FOI five-day rule and its ceiling now (beat does this every 15 minutes). "
        "With --dry-run, print what would be deleted and change nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Report what would go; delete nothing, record nothing.")

    def handle(self, *args, dry_run=False, **options):
        result = monitoring_purge(dry_run=dry_run, triggered_by="run_purges")
        self.stdout.write(result.describe())
        if result.record is not None:
            self.stdout.write(f"Purge record {result.record.pk} written.")
