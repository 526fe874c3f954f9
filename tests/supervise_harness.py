"""Run dev.py's Supervisor over the children named on the command line (for tests).

    python tests/supervise_harness.py '{"children": [["name", ["cmd", ...]], ...], "backoff_seconds": 0.1, ...}'

Every key besides "children" is passed to Supervisor as a keyword. Exits with the
supervisor's exit code, as `dev.py run` does.
"""

import importlib.util
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
dev = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dev)

config = json.loads(sys.argv[1])
children = [dev.Child(name, cmd, dict(os.environ)) for name, cmd in config.pop("children")]
sys.exit(dev.Supervisor(children, **config).run())
