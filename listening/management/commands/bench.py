"""Benchmarks print figures; they never assert times. See DESIGN.md, performance targets."""

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run a benchmark and print its figures: `bench matching`."

    def add_arguments(self, parser):
        parser.add_argument("which", choices=["matching"], help="matching: 200 saved searches over 100,000 posts")
        parser.add_argument("--searches", type=int, default=200)
        parser.add_argument("--posts", type=int, default=100_000)
        parser.add_argument("--seed", type=int, default=20261122)

    def handle(self, *args, which, searches, posts, seed, **options):
        if which == "matching":
            from listening.benchmarks.matching import format_report, run

            if searches < 1 or posts < 1:
                raise CommandError("--searches and --posts must be at least 1")
            self.stdout.write(format_report(run(n_searches=searches, n_posts=posts, seed=seed)))
