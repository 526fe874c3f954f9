#!/usr/bin/env python3
"""Run Earshot on a machine that has only Python 3.11+.

    python3 dev.py run               set up, migrate, load demo data, run web + worker + beat
    python3 dev.py test [ARGS...]    set up with test extras and run pytest with ARGS
    python3 dev.py services          start the embedded PostgreSQL and Redis and leave them running
    python3 dev.py stop              stop the embedded PostgreSQL and Redis (their data stays)

Setup creates .venv (python -m venv) and installs the project into it; it reinstalls
only when pyproject.toml changes. When DATABASE_URL / REDIS_URL are unset, an
embedded PostgreSQL and Redis (config/embedded.py) run with their data under var/
(or $EARSHOT_VAR_DIR), and every process started here shares them. Servers that a
command started are stopped when it ends, unless another dev.py command still uses
them. The web server listens on $EARSHOT_HOST:$EARSHOT_PORT (127.0.0.1:8000).

This file uses only the standard library: it runs before the venv exists.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
INSTALL_STAMP = VENV / ".earshot-install.json"
MIN_PYTHON = (3, 11)
BIN = "Scripts" if os.name == "nt" else "bin"
VENV_PYTHON = VENV / BIN / ("python.exe" if os.name == "nt" else "python")
# Run by path, not as config.embedded, so the config package (Celery app) is not imported.
EMBEDDED = [str(VENV_PYTHON), str(ROOT / "config" / "embedded.py")]
COLOURS = {"web": "32", "worker": "36", "beat": "35", "dev": "33"}
STOP_GRACE_SECONDS = 10.0


class DevError(Exception):
    pass


# --------------------------------------------------------------------------- output

_print_lock = threading.Lock()
_use_colour = sys.stdout.isatty() and os.environ.get("NO_COLOR") is None and os.name != "nt"


def say(message: str, name: str = "dev") -> None:
    prefix = f"{name:<6}|"
    if _use_colour:
        prefix = f"\033[{COLOURS.get(name, '0')}m{prefix}\033[0m"
    with _print_lock:
        for line in message.splitlines() or [""]:
            sys.stdout.write(f"{prefix} {line}\n")
        sys.stdout.flush()


def run(cmd: list[str], **kwargs) -> None:
    """Run a command in the project directory; raise DevError if it fails."""
    kwargs.setdefault("cwd", ROOT)
    code = subprocess.call(cmd, **kwargs)
    if code != 0:
        raise DevError(f"{' '.join(str(part) for part in cmd)} exited with code {code}")


# --------------------------------------------------------------------------- venv


def check_python() -> None:
    if os.name == "nt":
        raise DevError("dev.py runs on Linux and macOS; on Windows use WSL, or docker compose")
    if sys.version_info < MIN_PYTHON:
        raise DevError(
            f"Earshot needs Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer; this is "
            f"{sys.version.split()[0]}. Run it with a newer interpreter, e.g. python3.11 dev.py run"
        )


def venv_version() -> tuple[int, int] | None:
    if not VENV_PYTHON.exists():
        return None
    try:
        out = subprocess.run(
            [str(VENV_PYTHON), "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except OSError:
        return None
    if out.returncode != 0:
        return None
    major, minor = out.stdout.split()
    return int(major), int(minor)


def ensure_venv(extras: tuple[str, ...] = ()) -> None:
    """Create .venv if needed and install the project (with extras) if pyproject.toml changed."""
    version = venv_version()
    if version is not None and version < MIN_PYTHON:
        raise DevError(f"{VENV} uses Python {version[0]}.{version[1]}; delete it and run this again")
    if version is None:
        if VENV.exists() and any(VENV.iterdir()):
            raise DevError(f"{VENV} exists but has no working Python; delete it and run this again")
        say(f"creating {VENV.name} with Python {sys.version.split()[0]}")
        code = subprocess.call([sys.executable, "-m", "venv", str(VENV)], cwd=ROOT)
        if code != 0 or not VENV_PYTHON.exists():
            raise DevError(
                "python -m venv failed. On Debian or Ubuntu install the venv module first "
                "(sudo apt install python3-venv), then run this again."
            )

    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    try:
        stamp = json.loads(INSTALL_STAMP.read_text())
    except (OSError, ValueError):
        stamp = {}
    installed_extras = set(stamp.get("extras", [])) if stamp.get("pyproject") == digest else None
    if installed_extras is not None and set(extras) <= installed_extras:
        return

    wanted = sorted(set(extras) | (installed_extras or set()))
    target = "." + (f"[{','.join(wanted)}]" if wanted else "")
    say(f"installing the project into {VENV.name} (pip install -e '{target}'); the first time takes a while")
    INSTALL_STAMP.unlink(missing_ok=True)
    run([str(VENV_PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-e", target])
    INSTALL_STAMP.write_text(json.dumps({"pyproject": digest, "extras": wanted}) + "\n")


# --------------------------------------------------------------------------- embedded services


def var_dir() -> Path:
    raw = os.environ.get("EARSHOT_VAR_DIR", "").strip()
    return (Path(raw).expanduser() if raw else ROOT / "var").resolve()


class Services:
    """The embedded PostgreSQL / Redis this command uses, and whether it started them."""

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.started: list[str] = []
        self.session_file: Path | None = None

    def start(self) -> None:
        wanted = [name for name, var in (("postgres", "DATABASE_URL"), ("redis", "REDIS_URL")) if not self.env.get(var)]
        if not wanted:
            return
        sessions = var_dir() / ".dev-sessions"
        sessions.mkdir(parents=True, exist_ok=True)
        self.session_file = sessions / str(os.getpid())
        self.session_file.write_text(f"{os.getpid()}\n")
        cmd = [*EMBEDDED, "env", "--var-dir", str(var_dir())]
        for name in wanted:
            cmd += ["--only", name]
        out = subprocess.run(cmd, cwd=ROOT, env=self.env, capture_output=True, text=True)
        if out.returncode != 0:
            raise DevError(f"could not start the embedded services:\n{out.stderr.strip() or out.stdout.strip()}")
        for line in out.stdout.splitlines():
            key, _, value = line.partition("=")
            if key in ("DATABASE_URL", "REDIS_URL"):
                self.env[key] = value
            elif key == "# started" and value.strip():
                self.started = value.strip().split(",")
        for name, var in (("postgres", "DATABASE_URL"), ("redis", "REDIS_URL")):
            if name in wanted:
                how = "started" if name in self.started else "already running"
                say(f"embedded {name} ({how}): {var}={self.env[var]}")

    def stop(self) -> None:
        """Stop what this command started, unless another dev.py command is still using it."""
        if self.session_file is None:
            return
        self.session_file.unlink(missing_ok=True)
        others = []
        for entry in self.session_file.parent.iterdir():
            try:
                pid = int(entry.name)
                os.kill(pid, 0)
                others.append(pid)
            except (ValueError, ProcessLookupError):
                entry.unlink(missing_ok=True)
            except PermissionError:
                others.append(entry.name)
        if not self.started:
            return
        if others:
            say(f"leaving embedded {' and '.join(self.started)} running for dev.py process(es) {others}")
            return
        cmd = [*EMBEDDED, "stop", "--var-dir", str(var_dir())]
        for name in self.started:
            cmd += ["--only", name]
        subprocess.call(cmd, cwd=ROOT, stdout=subprocess.DEVNULL)
        say(f"stopped embedded {' and '.join(self.started)} (data kept in {var_dir()})")


# --------------------------------------------------------------------------- process group


class Child:
    def __init__(self, name: str, cmd: list[str], env: dict[str, str]):
        self.name = name
        self.cmd = cmd
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            bufsize=1,
            text=True,
            errors="replace",
            start_new_session=True,  # Ctrl-C reaches dev.py only; it stops the children in order
        )
        self.reader = threading.Thread(target=self._pump, name=f"read-{name}", daemon=True)
        self.reader.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            say(line.rstrip("\n"), self.name)

    def signal(self, sig: int) -> None:
        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, sig)  # the whole group: Celery's pool processes too
        except (ProcessLookupError, PermissionError):
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass


def supervise(children: list[Child]) -> int:
    """Wait until Ctrl-C, SIGTERM or a child exiting; then stop every child. Returns an exit code."""
    stopping = threading.Event()
    reason: dict[str, object] = {}

    def on_signal(signum, frame):
        reason.setdefault("signal", signum)
        stopping.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stopping.is_set():
            for child in children:
                code = child.proc.poll()
                if code is not None:
                    reason.setdefault("child", (child.name, code))
                    stopping.set()
                    break
            stopping.wait(0.2)

        if "signal" in reason:
            say("stopping web, worker and beat")
        else:
            name, code = reason["child"]
            say(f"{name} exited with code {code}; stopping the others")
        for child in children:
            child.signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in children:
            try:
                child.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                say(f"{child.name} did not stop in {STOP_GRACE_SECONDS:.0f}s; killing it")
                child.signal(signal.SIGKILL)
                child.proc.wait()
        for child in children:
            child.reader.join(timeout=2)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if "signal" in reason:
        return 0
    return 1


# --------------------------------------------------------------------------- commands


def base_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONHOME", None)
    env["PYTHONUNBUFFERED"] = "1"
    if os.environ.get("EARSHOT_VAR_DIR"):
        env["EARSHOT_VAR_DIR"] = str(var_dir())
    # A venv's scripts (celery, playwright) first on PATH, as if it were activated.
    env["VIRTUAL_ENV"] = str(VENV)
    env["PATH"] = str(VENV / BIN) + os.pathsep + env.get("PATH", "")
    return env


def cmd_run(args: list[str]) -> int:
    if args:
        raise DevError(f"run takes no arguments (got {' '.join(args)})")
    ensure_venv()
    env = base_env()
    env.setdefault("DEBUG", "1")
    host = env.get("EARSHOT_HOST", "127.0.0.1")
    port = env.get("EARSHOT_PORT", "8000")
    services = Services(env)
    try:
        services.start()
        python = str(VENV_PYTHON)
        say("migrating the database")
        run([python, "manage.py", "migrate", "--no-input"], env=env)
        say("loading demo data")
        run([python, "manage.py", "load_demo"], env=env)
        schedule = var_dir() / "celerybeat-schedule"
        schedule.parent.mkdir(parents=True, exist_ok=True)
        children: list[Child] = []
        try:
            for name, cmd in (
                ("web", [python, "manage.py", "runserver", f"{host}:{port}", "--noreload"]),
                ("worker", [python, "-m", "celery", "-A", "config", "worker", "-l", "info", "--concurrency", "2"]),
                ("beat", [python, "-m", "celery", "-A", "config", "beat", "-l", "info", "--schedule", str(schedule)]),
            ):
                children.append(Child(name, cmd, env))
            say(f"Earshot is starting at http://{host}:{port}/  (Ctrl-C stops everything)")
            return supervise(children)
        finally:
            for child in children:  # a no-op unless starting a child failed
                child.signal(signal.SIGKILL)
    finally:
        services.stop()


def cmd_test(args: list[str]) -> int:
    ensure_venv(("test",))
    env = base_env()
    services = Services(env)
    try:
        services.start()
        return subprocess.call([str(VENV_PYTHON), "-m", "pytest", *args], cwd=ROOT, env=env)
    finally:
        services.stop()


def cmd_services(args: list[str]) -> int:
    ensure_venv()
    cmd = [*EMBEDDED, "env", "--var-dir", str(var_dir())]
    return subprocess.call(cmd, cwd=ROOT, env=base_env())


def cmd_stop(args: list[str]) -> int:
    if not VENV_PYTHON.exists():
        return 0
    cmd = [*EMBEDDED, "stop", "--var-dir", str(var_dir())]
    return subprocess.call(cmd, cwd=ROOT, env=base_env())


COMMANDS = {"run": cmd_run, "test": cmd_test, "services": cmd_services, "stop": cmd_stop}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print("\n\n".join(__doc__.strip().split("\n\n")[:2]), file=sys.stderr)
        return 2
    try:
        check_python()
        return COMMANDS[argv[0]](argv[1:])
    except DevError as exc:
        say(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        say("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
