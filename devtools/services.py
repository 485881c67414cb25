"""Find PostgreSQL and Redis from configuration, or start local ones.

`make run` keeps its servers' data under .data/ so a second run reuses it; `make test` starts
throwaway servers on free ports. Postgres comes from the `pgserver` wheel (initdb refuses to
run as root, so as root the servers run as an unprivileged `pgserver` user); Redis from the
system's redis-server, bound to 127.0.0.1 only.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".data"
SERVICE_USER = "pgserver"


class ServiceError(RuntimeError):
    """A service could not be found or started; the message says what to do."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex((host, port)) == 0


def _as_service_user() -> dict[str, object]:
    """subprocess kwargs that drop root to the unprivileged service user."""
    if os.geteuid() != 0:
        return {}
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin", SERVICE_USER],
            check=True,
            capture_output=True,
        )
    return {"user": SERVICE_USER, "group": pwd.getpwnam(SERVICE_USER).pw_gid}


def _open_path_for_service_user(path: Path) -> None:
    """Let the service user reach `path` (owned by it) through its parent folders."""
    if os.geteuid() != 0:
        return
    entry = pwd.getpwnam(SERVICE_USER)
    for folder in [path, *path.parents]:
        if folder == path:
            os.chown(folder, entry.pw_uid, entry.pw_gid)
        else:
            folder.chmod(folder.stat().st_mode | 0o011)  # traverse only, no listing


@dataclass
class Postgres:
    """A Postgres server this process started (or None when configuration supplied one)."""

    data_dir: Path
    port: int
    durable: bool = True  # throwaway test servers skip fsync
    log_file: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_file = self.data_dir.parent / f"{self.data_dir.name}.log"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @staticmethod
    def bin_dir() -> Path:
        # Located without importing pgserver (its import sets up lock files we do not use).
        import importlib.util

        spec = importlib.util.find_spec("pgserver")
        if spec is None or spec.origin is None:
            raise ServiceError("the pgserver package is missing: run `make setup`, or set DATABASE_URL")
        return Path(spec.origin).parent / "pginstall" / "bin"

    def initialize(self) -> dict[str, object]:
        """Create the data folder on first use. Returns the subprocess kwargs that run the server (as
        the unprivileged service user when we are root)."""
        bin_dir = self.bin_dir()
        extra = _as_service_user()
        if extra:
            # pgserver's own files must be readable by the service user.
            subprocess.run(["chmod", "-R", "o+rX", str(bin_dir.parent)], check=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        _open_path_for_service_user(self.data_dir)
        if not (self.data_dir / "PG_VERSION").exists():
            subprocess.run(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                ],
                check=True,
                capture_output=True,
                **extra,  # type: ignore[arg-type]
            )
        self.log_file.touch()
        if extra:
            os.chown(self.log_file, pwd.getpwnam(SERVICE_USER).pw_uid, -1)
        return extra

    def server_options(self) -> list[str]:
        options = ["-h", "127.0.0.1", "-p", str(self.port), "-k", "/tmp", "-c", "max_connections=200"]
        if not self.durable:
            options += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        return options

    def foreground_command(self) -> list[str]:
        """The server in the foreground, for a supervisor that restarts it (`make run`)."""
        return [str(self.bin_dir() / "postgres"), "-D", str(self.data_dir), *self.server_options()]

    def start(self) -> None:
        """Start the server in the background with pg_ctl and wait until it accepts connections."""
        extra = self.initialize()
        result = subprocess.run(
            [
                str(self.bin_dir() / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                " ".join(self.server_options()),
                "-w",
                "-t",
                "60",
                "start",
            ],
            capture_output=True,
            text=True,
            **extra,  # type: ignore[arg-type]
        )
        if result.returncode != 0:
            raise ServiceError(f"PostgreSQL did not start; see {self.log_file}")

    def stop(self) -> None:
        subprocess.run(
            [str(self.bin_dir() / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"],
            capture_output=True,
            **_as_service_user(),  # type: ignore[arg-type]
        )

    def running_port(self) -> int | None:
        """The port of a server already running on this data folder (a previous `make run`)."""
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return None
        lines = pid_file.read_text().splitlines()
        try:
            pid, port = int(lines[0]), int(lines[3])
            os.kill(pid, 0)
        except (IndexError, ValueError, ProcessLookupError, PermissionError):
            return None
        return port if port_open(port) else None


@dataclass
class Redis:
    data_dir: Path
    port: int
    persistent: bool = False
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        """redis-server in the foreground (also what a supervisor restarts)."""
        binary = redis_server_binary()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        save = ["--save", "60 1", "--appendonly", "no"] if self.persistent else ["--save", "", "--appendonly", "no"]
        return [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--dir",
            str(self.data_dir),
            "--protected-mode",
            "yes",
            *save,
        ]

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.command(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(100):
            if port_open(self.port):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise ServiceError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("Installing redis-server from Debian's packages ...", file=sys.stderr)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "redis-server"], check=True, env=env, capture_output=True)
        found = shutil.which("redis-server")
        if found:
            return found
    raise ServiceError(
        "redis-server is not installed: install it (apt-get install redis-server) or set REDIS_URL to a running Redis"
    )


def check_postgres_url(url: str) -> str | None:
    """None if a server answers at `url`, else a one-line reason."""
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(plain, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]


def check_redis_url(url: str) -> str | None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        return None
    except (redis.RedisError, OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
