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

`run` supervises what it started: a web, worker or beat process that exits is started
again (with a growing pause, giving up after five quick failures in a row), and so is
an embedded PostgreSQL or Redis that died. Ctrl-C stops everything.

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


_embedded = None


def embedded_module():
    """config/embedded.py, loaded by path (standard library only, like this file).

    Its liveness checks are cheap enough to run every second; starting a server still
    goes through ``EMBEDDED`` in the venv, which has pgserver.
    """
    global _embedded
    if _embedded is None:
        import importlib.util

        spec = importlib.util.spec_from_file_location("earshot_embedded", ROOT / "config" / "embedded.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _embedded = module
    return _embedded


class Services:
    """The embedded PostgreSQL / Redis this command uses, and whether it started them."""

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.started: list[str] = []
        self.session_file: Path | None = None
        # The embedded servers to keep alive: name -> restart bookkeeping (see heal).
        self.watch: dict[str, dict] = {}

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
                self.watch[name] = {"started_at": time.monotonic(), "quick_failures": 0, "restart_at": None}

    def heal(self, supervisor: Supervisor) -> None:
        """Start again any embedded server whose process died (see Supervisor)."""
        module = embedded_module()
        for name in self.watch:
            state = self.watch[name]
            if module.running_pid(var_dir(), name) is not None:
                continue
            now = time.monotonic()
            if state["restart_at"] is None:
                quick = now - state["started_at"] < supervisor.quick_seconds
                state["quick_failures"] = state["quick_failures"] + 1 if quick else 0
                if state["quick_failures"] >= supervisor.max_quick_failures:
                    log = var_dir() / ("pgdata/log" if name == "postgres" else "redis/redis.log")
                    raise GiveUp(
                        f"embedded {name} died {state['quick_failures']} times in a row, each soon after "
                        f"starting; giving up. See {log}"
                    )
                wait = supervisor.delay(state["quick_failures"])
                state["restart_at"] = now + wait
                say(f"{name} died; restarting it" + (f" in {wait:g}s" if wait else ""))
            if now < state["restart_at"]:
                continue
            state["restart_at"] = None
            state["started_at"] = now
            self._restart(name, supervisor)

    def _restart(self, name: str, supervisor: Supervisor) -> None:
        var = "DATABASE_URL" if name == "postgres" else "REDIS_URL"
        # A session of its own: a Ctrl-C now must not cut the server's start short.
        out = subprocess.run(
            [*EMBEDDED, "env", "--var-dir", str(var_dir()), "--only", name],
            cwd=ROOT, env=self.env, capture_output=True, text=True, start_new_session=True,
        )
        if out.returncode != 0:
            say(f"could not restart embedded {name}: {out.stderr.strip() or out.stdout.strip()}")
            return  # still dead: the next check counts it as a quick failure
        if name not in self.started:
            self.started.append(name)  # ours to stop now
        url = next((line.partition("=")[2] for line in out.stdout.splitlines() if line.startswith(f"{var}=")), "")
        say(f"embedded {name} restarted")
        if url and url != self.env.get(var):
            # Not expected (the socket paths follow the var directory), but the children
            # would keep knocking on the old address.
            say(f"embedded {name} is now at {var}={url}; restarting web, worker and beat")
            self.env[var] = url
            stop_children(supervisor.children)
            for child in supervisor.children:
                child.start()

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
    """One long-running process (web, worker, beat) that the supervisor starts and restarts."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str]):
        self.name = name
        self.cmd = cmd
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.reader: threading.Thread | None = None
        self.started_at = 0.0
        self.quick_failures = 0  # exits in a row, each soon after its start
        self.restart_at: float | None = None  # when a restart is due (time.monotonic())

    def start(self) -> None:
        self.restart_at = None
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(
            self.cmd,
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            bufsize=1,
            text=True,
            errors="replace",
            start_new_session=True,  # Ctrl-C reaches dev.py only; it stops the children in order
        )
        self.reader = threading.Thread(target=self._pump, args=(self.proc,), name=f"read-{self.name}", daemon=True)
        self.reader.start()

    def _pump(self, proc: subprocess.Popen) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            say(line.rstrip("\n"), self.name)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if not self.running():
            return
        try:
            os.killpg(self.proc.pid, sig)  # the whole group: Celery's pool processes too
        except (ProcessLookupError, PermissionError):
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass


def stop_children(children: list[Child], grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM every running child, wait up to ``grace`` seconds, then SIGKILL what is left."""
    for child in children:
        child.restart_at = None
        child.signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children:
        if child.proc is None:
            continue
        try:
            child.proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{child.name} did not stop in {grace:.0f}s; killing it")
            child.signal(signal.SIGKILL)
            child.proc.wait()
    for child in children:
        if child.reader is not None:
            child.reader.join(timeout=2)


class GiveUp(Exception):
    """Something keeps dying right after it is restarted: stop everything."""


class Supervisor:
    """Keep web, worker, beat and the embedded servers running until Ctrl-C or SIGTERM.

    A child that exits when nobody asked it to is started again: at once after a run
    longer than ``quick_seconds``; after ``backoff_seconds``, doubling up to
    ``max_backoff_seconds``, for each quick failure in a row (an exit within
    ``quick_seconds`` of its start). After ``max_quick_failures`` quick failures in a
    row it gives up and stops everything rather than spin. An embedded PostgreSQL or
    Redis whose process died is started again the same way (checked every
    ``check_seconds``); web, worker and beat reconnect to it by themselves.
    """

    def __init__(
        self,
        children: list[Child],
        services: "Services | None" = None,
        *,
        backoff_seconds: float = 1.0,
        max_backoff_seconds: float = 30.0,
        quick_seconds: float = 60.0,
        max_quick_failures: int = 5,
        check_seconds: float = 1.0,
    ):
        self.children = children
        self.services = services
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.quick_seconds = quick_seconds
        self.max_quick_failures = max_quick_failures
        self.check_seconds = check_seconds
        self.stopping = threading.Event()
        self.signum: int | None = None

    def delay(self, quick_failures: int) -> float:
        """The pause before a restart: none after a long run, then doubling with each quick failure."""
        if quick_failures == 0:
            return 0.0
        return min(self.max_backoff_seconds, self.backoff_seconds * 2 ** (quick_failures - 1))

    def _on_signal(self, signum, frame) -> None:
        if self.signum is None:
            self.signum = signum
        self.stopping.set()

    def _child_exited(self, child: Child, code: int, now: float) -> None:
        quick = now - child.started_at < self.quick_seconds
        child.quick_failures = child.quick_failures + 1 if quick else 0
        if child.quick_failures >= self.max_quick_failures:
            raise GiveUp(
                f"{child.name} exited (code {code}) {child.quick_failures} times in a row, each within "
                f"{self.quick_seconds:.0f}s of starting; giving up. Its output above says why."
            )
        wait = self.delay(child.quick_failures)
        child.restart_at = now + wait
        say(f"{child.name} exited unexpectedly (code {code}); restarting it" + (f" in {wait:g}s" if wait else ""))

    def _watch_children(self, now: float) -> None:
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    say(f"restarting {child.name}")
                    child.start()
            elif child.proc is not None and (code := child.proc.poll()) is not None:
                self._child_exited(child, code, now)

    def run(self) -> int:
        """Start every child and watch them all. Returns dev.py's exit code."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        code = 0
        try:
            for child in self.children:
                child.start()
            next_check = time.monotonic() + self.check_seconds
            while not self.stopping.is_set():
                now = time.monotonic()
                try:
                    self._watch_children(now)
                    if self.services is not None and now >= next_check:
                        self.services.heal(self)
                        next_check = time.monotonic() + self.check_seconds
                except GiveUp as exc:
                    say(str(exc))
                    code = 1
                    break
                self.stopping.wait(0.2)
            say("stopping " + ", ".join(child.name for child in self.children))
            stop_children(self.children)
            return code
        finally:
            for child in self.children:  # a no-op unless something above failed half-way
                child.signal(signal.SIGKILL)
            for sig, handler in previous.items():
                signal.signal(sig, handler)


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
        children = [
            Child(name, cmd, env)
            for name, cmd in (
                ("web", [python, "manage.py", "runserver", f"{host}:{port}", "--noreload"]),
                ("worker", [python, "-m", "celery", "-A", "config", "worker", "-l", "info", "--concurrency", "2"]),
                ("beat", [python, "-m", "celery", "-A", "config", "beat", "-l", "info", "--schedule", str(schedule)]),
            )
        ]
        say(f"Earshot is starting at http://{host}:{port}/  (Ctrl-C stops everything)")
        return Supervisor(children, services).run()
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
