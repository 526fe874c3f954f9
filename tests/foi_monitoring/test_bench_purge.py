"""`bench purge` prints its figures and leaves no scratch database (never asserts times)."""

import os
import re
import subprocess
import sys

import pytest


@pytest.mark.timeout(300)
def test_bench_purge_prints_its_figures_and_deletes_only_monitoring_rows():
    from django.conf import settings

    done = subprocess.run(
        [sys.executable, "manage.py", "bench", "purge", "--rows", "4000", "--triage-rows", "500"],
        cwd=settings.BASE_DIR, env=dict(os.environ), capture_output=True, text=True, timeout=280,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = done.stdout
    for figure in ("Five-day purge: 4,000 monitoring rows", "purge:", "connection(s) (EARSHOT_FOI_PURGE_CONNECTIONS)",
                   "inbox page p95 before:", "inbox page p95 during:"):
        assert figure in report
    counts = dict(re.findall(r"    ([a-z_.]+): ([\d,]+)", report))
    # 1,000 monitoring mentions; one in twenty is also a Communications complaint and stays.
    assert counts["foi_monitoring.authoritysignal"] == "1,000"
    assert counts["triage.inboxitem"] == "1,000"
    assert counts["listening.mention"] == "950"
