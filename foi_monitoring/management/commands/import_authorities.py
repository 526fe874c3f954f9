from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from foi_monitoring import register
from governance.services import audit_event_record


class Command(BaseCommand):
    help = (
        "Load the bundled UK public authority register (mySociety local authorities and publicbodies), "
        "or a CSV with --csv PATH (all rows or none). Importing again updates rows in place."
    )

    def add_arguments(self, parser):
        parser.add_argument("--csv", dest="csv_path", default=None, help="A register CSV; see foi_monitoring/register.py")

    def handle(self, *args, csv_path=None, **options):
        with transaction.atomic():
            if csv_path:
                try:
                    with open(csv_path, "rb") as handle:
                        data = handle.read(register.CSV_MAX_BYTES + 1)
                except OSError as error:
                    raise CommandError(f"Cannot read {csv_path}: {error.strerror}") from None
                result = register.csv_import(data)
                if not result.ok:
                    lines = [f"line {line}: {problem}" for line, problems in result.errors for problem in problems]
                    raise CommandError("Nothing imported; the file has errors:\n" + "\n".join(lines))
            else:
                result = register.bundled_import()
            audit_event_record(
                action="foi.register_import", actor_label="import_authorities",
                details={"source": "csv" if csv_path else "bundled", "created": result.created, "updated": result.updated},
            )
        self.stdout.write(f"{result.created} authorities created, {result.updated} updated.")
