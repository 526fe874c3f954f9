"""Run one harvest in its own process, pausing before each page after the first.

Used by test_harvest_killed: the test kills this process with SIGKILL while it waits,
as a worker dies on a host that goes away.
Usage: python tests/listening/slow_harvest.py STATE_ID TOKEN PAGES PAGE_SIZE
"""

import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from listening import services  # noqa: E402
from listening.sources.demo import DemoSource  # noqa: E402


class SlowDemoSource(DemoSource):
    def pages(self, **kwargs):
        for number, page in enumerate(super().pages(**kwargs), start=1):
            if number > 1:
                time.sleep(60)
            yield page


state_id, token, pages, page_size = sys.argv[1:]
services.harvest_run(
    state_id=int(state_id), token=uuid.UUID(token), max_pages=int(pages), source=SlowDemoSource(page_size=int(page_size))
)
