"""Verify the audit log's hash chain: "intact: N events", or the first break and a non-zero exit."""

from django.core.management.base import BaseCommand

from governance.selectors import audit_log_verify


class Command(BaseCommand):
    help = "Check the audit log's hash chain from the oldest remaining event; exit 1 at the first break."

    def handle(self, *args, **options):
        report = audit_log_verify()
        if report.intact:
            self.stdout.write(report.summary())
            if report.count:
                self.stdout.write(f"events {report.first_id} to {report.last_id}; newest hash {report.head_hash}")
            return
        self.stderr.write(report.summary())
        raise SystemExit(1)
