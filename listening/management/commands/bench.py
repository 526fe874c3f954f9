"""Benchmarks print figures; they never assert times. See DESIGN.md, performance targets."""

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Run a benchmark and print its figures. `bench matching`: local matching of many saved searches. "
        "`bench ingest`: ingest as a harvest stores pages, beside raw COPY and per-row ORM saves, in a scratch database. "
        "`bench purge`: the FOI five-day purge of 1,000,000 monitoring rows and the inbox p95 during it. "
        "`bench inbox`: the inbox list's pages, search and counts at 1,000,000 mentions, in a scratch database. "
        "`bench tryit`: \"Try it\" over 30 days with 1,000,000 mentions stored."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "which",
            choices=["matching", "ingest", "purge", "inbox", "tryit"],
            help="matching: 200 saved searches over 100,000 posts; ingest: 200,000 posts stored three ways; "
            "purge: 1,000,000 monitoring rows purged while the inbox is read; "
            "inbox: 1,000,000 mentions, 200,000 open items, pages timed; "
            "tryit: Try it's p50 and p95 for realistic queries over 1,000,000 mentions",
        )
        parser.add_argument("--searches", type=int, default=200)
        parser.add_argument("--posts", type=int, default=None, help="matching: 100,000; ingest: 200,000")
        parser.add_argument("--preload", type=int, default=1_000_000, help="ingest: mentions already stored")
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument("--rows", type=int, default=1_000_000, help="purge: monitoring rows")
        parser.add_argument("--triage-rows", type=int, default=200_000, help="purge: unrelated inbox items")
        parser.add_argument("--mentions", type=int, default=1_000_000, help="inbox, tryit: mentions stored")
        parser.add_argument("--open-items", type=int, default=200_000, help="inbox: how many of those items are open")
        parser.add_argument("--samples", type=int, default=100, help="inbox: requests timed per figure")
        parser.add_argument("--repeats", type=int, default=5, help="tryit: requests per query and role")

    def handle(self, *args, which, searches, posts, preload, seed, rows, triage_rows, mentions, open_items, samples,
               repeats, **options):
        if searches < 1 or (posts is not None and posts < 1) or preload < 0:
            raise CommandError("--searches and --posts must be at least 1, --preload at least 0")
        if which == "inbox":
            if mentions < 1 or not 1 <= open_items <= mentions or samples < 2:
                raise CommandError("--mentions must be at least 1, --open-items 1 to --mentions, --samples at least 2")
            from triage.benchmarks import format_report, run

            self.stdout.write(format_report(run(mentions=mentions, open_items=open_items, samples=samples)))
            return
        if which == "tryit":
            if mentions < 1 or repeats < 1:
                raise CommandError("--mentions and --repeats must be at least 1")
            from listening.benchmarks.try_it import format_report, try_it_figures

            self.stdout.write(format_report(try_it_figures(mentions=mentions, repeats=repeats)))
            return
        if which == "purge":
            if rows < 4 or triage_rows < 1:
                raise CommandError("--rows must be at least 4 and --triage-rows at least 1")
            from foi_monitoring.benchmarks import format_report, run

            self.stdout.write(format_report(run(rows=rows, triage_rows=triage_rows)))
            return
        if which == "matching":
            from listening.benchmarks.matching import format_report, run

            figures = run(n_searches=searches, n_posts=posts or 100_000, seed=seed or 20261122)
        else:
            from listening.benchmarks.ingest import format_report, run

            figures = run(n_searches=searches, n_posts=posts or 200_000, preload=preload, seed=seed or 20261202)
        self.stdout.write(format_report(figures))
