from io import StringIO

from django.core.management import call_command


def test_bench_matching_prints_its_figures():
    out = StringIO()
    call_command("bench", "matching", "--searches", "20", "--posts", "400", stdout=out)
    report = out.getvalue()
    for figure in ("prefiltered:", "unfiltered:", "ratio:", "posts/s", "agreement:   identical"):
        assert figure in report


def test_bench_ingest_prints_its_figures_and_leaves_no_scratch_database():
    """Run in a process of its own: the benchmark creates and drops a scratch database."""
    import os
    import subprocess
    import sys

    from django.conf import settings

    # The same environment as the tests: the same server (configured or embedded).
    done = subprocess.run(
        [sys.executable, "manage.py", "bench", "ingest", "--posts", "600", "--searches", "20", "--preload", "2000"],
        cwd=settings.BASE_DIR, env=dict(os.environ), capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = done.stdout
    for figure in ("empty tables", "2,000 mentions stored", "after a large delete", "    ingest: ", "raw COPY:", "ORM save per row:"):
        assert figure in report
    import re

    stored = [int(n.replace(",", "")) for n in re.findall(r"posts, ([\d,]+) stored", report)]
    assert len(stored) == 3 and all(stored), report


def test_bench_tryit_prints_p50_and_p95_per_query():
    """Run in a process of its own: the benchmark creates and drops a scratch database."""
    import os
    import re
    import subprocess
    import sys

    from django.conf import settings

    done = subprocess.run(
        [sys.executable, "manage.py", "bench", "tryit", "--mentions", "3000", "--repeats", "1"],
        cwd=settings.BASE_DIR, env=dict(os.environ), capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = done.stdout
    assert '"Try it" over 30 days: 3,000 mentions' in report
    assert "prefilter text differing from Python on a sample: 0" in report
    assert re.search(r"all requests: p50 [\d.]+ ms, p95 [\d.]+ ms", report)
    assert '"the ICO"' in report and "to:commissioner" in report and "xylophone" in report
