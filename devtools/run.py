"""`make run`: services, migrations, demo data, then the app, RQ workers and outbox relays.

Everything it starts is supervised (devtools/supervisor.py): a process that exits unexpectedly is
started again after a growing back-off, and only Ctrl-C or SIGTERM stops everything, leaving no process
behind. Data stays under .data/ for the next run.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from devtools.reflex_lock import align_web_dir
from devtools.services import (
    DATA,
    ROOT,
    Postgres,
    Redis,
    ServiceError,
    check_postgres_url,
    check_redis_url,
    free_port,
    port_open,
)
from devtools.supervisor import Program, Supervisor

VENV_BIN = Path(sys.executable).parent
BUN = ROOT / ".tools" / "node_modules" / "bun" / "bin" / "bun.exe"
EMBEDDED_PG_PORT = 54329
EMBEDDED_REDIS_PORT = 63799
# Two of each, like the app's two workers: while the supervisor restarts one that died, the other
# keeps running jobs (or relaying them), so losing one costs nothing (relays share rows by SKIP LOCKED).
RQ_WORKERS = 2
RELAYS = 2


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def secret_key() -> str:
    """SECRET_KEY from the environment, or one generated once into .data/secret_key."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = DATA / "secret_key"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def data_encryption_key() -> str:
    """DATA_ENCRYPTION_KEY from the environment, or one generated once into .data/data_key (base64 of
    32 random bytes). Losing it loses the local patients' data: it is the master key of field encryption."""
    if os.environ.get("DATA_ENCRYPTION_KEY"):
        return os.environ["DATA_ENCRYPTION_KEY"]
    path = DATA / "data_key"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        path.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
        path.chmod(0o600)
    return path.read_text().strip()


def vapid_keys() -> tuple[str, str]:
    """VAPID_PRIVATE_KEY / VAPID_PUBLIC_KEY (web push) from the environment, or a pair generated once into
    .data/vapid_private_key and .data/vapid_public_key. A new pair voids every browser's subscription."""
    if os.environ.get("VAPID_PRIVATE_KEY"):
        from backend.notifications.webpush import public_of

        private = os.environ["VAPID_PRIVATE_KEY"]
        return private, os.environ.get("VAPID_PUBLIC_KEY") or public_of(private)
    private_path, public_path = DATA / "vapid_private_key", DATA / "vapid_public_key"
    if not private_path.exists() or not public_path.exists():
        from backend.notifications.webpush import new_key_pair

        DATA.mkdir(exist_ok=True)
        private, public = new_key_pair()
        private_path.write_text(private)
        private_path.chmod(0o600)
        public_path.write_text(public)
    return private_path.read_text().strip(), public_path.read_text().strip()


def ensure_database(server_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def postgres(supervisor: Supervisor) -> str:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        problem = check_postgres_url(configured)
        if problem:
            raise ServiceError(
                f"DATABASE_URL is set but unreachable ({problem}); fix it or unset it to use the embedded Postgres"
            )
        say("Using PostgreSQL from DATABASE_URL")
        return configured
    server = Postgres(DATA / "pg", EMBEDDED_PG_PORT)
    port = server.running_port()
    if port is None:
        if check_postgres_url(server.url) is None or port_open(EMBEDDED_PG_PORT):
            server.port = free_port()
        say(f"Starting embedded PostgreSQL on 127.0.0.1:{server.port} (data in .data/pg)")
        extra = server.initialize()
        program = supervisor.add(
            Program(
                "postgres",
                server.foreground_command(),
                tier=0,
                stop_signal=signal.SIGINT,  # "fast" shutdown: SIGTERM would wait for every client to leave
                stop_timeout=60,
                echo=False,
                log_file=server.log_file,
                popen_extra=extra,
            )
        )
        wait_for_service(program, lambda: check_postgres_url(server.url) is None, f"see {server.log_file}")
    else:
        server.port = port
        say(f"Reusing embedded PostgreSQL on 127.0.0.1:{port}")
    return ensure_database(server.url, "pharmacy")


def redis(supervisor: Supervisor) -> str:
    configured = os.environ.get("REDIS_URL")
    if configured:
        problem = check_redis_url(configured)
        if problem:
            raise ServiceError(
                f"REDIS_URL is set but unreachable ({problem}); fix it or unset it to start a local Redis"
            )
        say("Using Redis from REDIS_URL")
        return configured
    port = EMBEDDED_REDIS_PORT if not port_open(EMBEDDED_REDIS_PORT) else free_port()
    server = Redis(DATA / "redis", port, persistent=True)
    say(f"Starting Redis on 127.0.0.1:{port}")
    program = supervisor.add(Program("redis", server.command(), tier=0, echo=False, log_file=DATA / "redis.log"))
    wait_for_service(program, lambda: port_open(port), f"see {DATA / 'redis.log'}")
    return server.url


def wait_for_service(program: Program, ready: Callable[[], bool], where: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if not program.running() or time.monotonic() > deadline:
            raise ServiceError(f"{program.name} did not start; {where}")
        time.sleep(0.1)


def mail_sink(supervisor: Supervisor) -> str:
    """MAIL_URL from the environment, or a local SMTP sink that saves mail to .data/mail/."""
    if os.environ.get("MAIL_URL"):
        return os.environ["MAIL_URL"]
    port = free_port()
    supervisor.add(
        Program(
            "mail sink",
            [sys.executable, "-m", "devtools.mailsink", "--port", str(port), "--dir", str(DATA / "mail")],
            cwd=ROOT,
            tier=1,  # after the worker, which may still be sending
        )
    )
    say(f"E-mail goes to a local sink: open the .eml files in .data/mail/ (SMTP on 127.0.0.1:{port})")
    return f"mailto://127.0.0.1:{port}?from=Pharmacy%20Cloud%20%3Cno-reply@pharmacy.local%3E&mode=insecure"


def app_environment(database_url: str, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    vapid_private, vapid_public = vapid_keys()
    env.update(
        VAPID_PRIVATE_KEY=vapid_private,
        VAPID_PUBLIC_KEY=vapid_public,
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY=secret_key(),
        DATA_ENCRYPTION_KEY=data_encryption_key(),
        APP_URL=os.environ.get("APP_URL", "http://localhost:3000"),
        REFLEX_BUN_PATH=str(BUN),
        REFLEX_TELEMETRY_ENABLED="false",
        REFLEX_CHECK_LATEST_VERSION="false",
        GRANIAN_WORKERS=os.environ.get("GRANIAN_WORKERS", "2"),
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v1/health", timeout=3):
            return True
    except urllib.error.HTTPError:
        return True  # 503 means the app answers but a service is degraded
    except OSError:
        return False


def wait_for_app(url: str, app: Program, supervisor: Supervisor, timeout: float = 900) -> bool:
    """Supervise the rest while the app builds; False if the app exits before it ever answered (a build
    or configuration error: starting it again would only repeat it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not app.running():
            return False
        supervisor.poll()
        if answers(url):
            return True
        time.sleep(1)
    return False


def worker_name(slot: int) -> str:
    """Stable across restarts, so a restarted worker retries at once the job its predecessor was
    running when it died (backend/jobs/recovery.py); the checkout's name keeps two checkouts apart."""
    return f"{socket.gethostname()}-{ROOT.name}-worker-{slot}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.run", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--api-only",
        action="store_true",
        help="serve the REST API and the app's socket, without building the web pages (the fault test uses it)",
    )
    api_only = parser.parse_args(argv).api_only
    supervisor = Supervisor(say=say)
    try:
        env = app_environment(postgres(supervisor), redis(supervisor))
        env["MAIL_URL"] = mail_sink(supervisor)
        cli = str(VENV_BIN / "pharmacy-saas")
        say("Applying migrations")
        subprocess.run([cli, "db", "upgrade"], env=env, check=True)
        subprocess.run([cli, "demo", "seed"], env=env, check=True)
        say("Starting the app (first run builds the frontend; this takes a minute or two)")
        align_web_dir(ROOT / ".web")  # so the build does not rewrite the committed reflex.lock/
        serve_build = [sys.executable, "-m", "devtools.serve_app", *(["--api-only"] if api_only else [])]
        build_and_serve = [str(VENV_BIN / "reflex"), "run", "--env", "prod", "--single-port"]
        app = supervisor.add(Program("app", serve_build if api_only else build_and_serve, env=env, cwd=ROOT))
        # Each worker runs RQ's scheduler too (one holds the lock at a time): it starts the scheduled-jobs
        # tick every few minutes (docs/schedules.md); the tick's unique key runs each job once.
        for slot in range(1, RQ_WORKERS + 1):
            # Both queues, messages first (a sign-in code must not wait behind a tick's digests), then the
            # counter's jobs. RQ's scheduler runs once, as its own program below, not as a child of every worker.
            command = [
                cli,
                "worker",
                "--queues",
                "notifications,default",
                "--no-scheduler",
                "--name",
                worker_name(slot),
            ]
            supervisor.add(Program(f"worker-{slot}", command, env=env, cwd=ROOT))
        # Prescription OCR on its own queue, so a burst of uploads never slows the counter's jobs.
        ocr_worker = [cli, "worker", "--queues", "ocr", "--name", worker_name(RQ_WORKERS + 1)]
        supervisor.add(Program("worker-ocr", ocr_worker, env=env, cwd=ROOT))
        # Retries at intervals and delayed jobs (the notifications queue) are moved to their queues by it.
        supervisor.add(Program("scheduler", [cli, "scheduler", "--queues", "default,notifications"], env=env, cwd=ROOT))
        for slot in range(1, RELAYS + 1):
            supervisor.add(Program(f"relay-{slot}", [cli, "relay"], env=env, cwd=ROOT))
        url = env["APP_URL"]
        if not wait_for_app(url, app, supervisor):
            say("The app did not start; see the output above")
            return 1
        # The build is complete: should the app server's main process die, serve that build again
        # in seconds instead of rebuilding it for a minute or two (devtools/serve_app.py).
        app.command = serve_build
        print(f"\n  Pharmacy Cloud is running at {url}", flush=True)
        subprocess.run([cli, "demo", "sign-ins"], env=env, check=False)  # one per role, with the password
        print("  A process that stops is started again; press Ctrl-C to stop everything.\n", flush=True)
        supervisor.run()
        return 0
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        return exc.returncode or 1
    except KeyboardInterrupt:
        say("Stopping")
        return 0
    finally:
        # A second Ctrl-C must not cut the stop short and leave processes behind; the stop is bounded.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        supervisor.stop_all()


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    # Installed explicitly: a shell that starts us in the background may have ignored SIGINT.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    sys.exit(main())
