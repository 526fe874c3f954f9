from django.core.management.base import BaseCommand, CommandError

from governance.models import RetentionPolicy
from governance.retention import retention_apply


class Command(BaseCommand):
    help = (
        "Apply the retention policies now (beat does this nightly), each category in batches, each writing a "
        "purge record. With --dry-run, print what each policy would delete now and change nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Report what would go; delete nothing, record nothing.")
        parser.add_argument(
            "--category", action="append", choices=[c.value for c in RetentionPolicy.CATEGORIES],
            help="Only this category (repeat for more). Default: every policy.",
        )
        parser.add_argument("--batch-size", type=int, default=5000, help="Mentions (or rows) per transaction.")

    def handle(self, *args, dry_run=False, category=None, batch_size=5000, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        result = retention_apply(dry_run=dry_run, categories=category, triggered_by="apply_retention",
                                 batch_size=batch_size)
        self.stdout.write(result.describe())
        for category_result in result.categories:
            if category_result.record is not None:
                self.stdout.write(f"Purge record {category_result.record.pk} written ({category_result.category}).")
