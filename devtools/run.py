"""`make run`: services, migrations, demo data, then the app, a worker and the outbox relay.

Ctrl-C stops everything this command started. Data stays under .data/ for the next run.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
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
)

VENV_BIN = Path(sys.executable).parent
BUN = ROOT / ".tools" / "node_modules" / "bun" / "bin" / "bun.exe"
EMBEDDED_PG_PORT = 54329
EMBEDDED_REDIS_PORT = 63799


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


def ensure_database(server_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def postgres(started: list[object]) -> str:
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
        if check_postgres_url(server.url) is None or _port_taken(EMBEDDED_PG_PORT):
            server.port = free_port()
        say(f"Starting embedded PostgreSQL on 127.0.0.1:{server.port} (data in .data/pg)")
        server.start()
        started.append(server)
    else:
        server.port = port
        say(f"Reusing embedded PostgreSQL on 127.0.0.1:{port}")
    return ensure_database(server.url, "pharmacy")


def _port_taken(port: int) -> bool:
    from devtools.services import port_open

    return port_open(port)


def redis(started: list[object]) -> str:
    configured = os.environ.get("REDIS_URL")
    if configured:
        problem = check_redis_url(configured)
        if problem:
            raise ServiceError(
                f"REDIS_URL is set but unreachable ({problem}); fix it or unset it to start a local Redis"
            )
        say("Using Redis from REDIS_URL")
        return configured
    port = EMBEDDED_REDIS_PORT if not _port_taken(EMBEDDED_REDIS_PORT) else free_port()
    server = Redis(DATA / "redis", port, persistent=True)
    say(f"Starting Redis on 127.0.0.1:{port}")
    server.start()
    started.append(server)
    return server.url


def mail_sink(processes: list[subprocess.Popen[bytes]]) -> str:
    """MAIL_URL from the environment, or a local SMTP sink that saves mail to .data/mail/."""
    if os.environ.get("MAIL_URL"):
        return os.environ["MAIL_URL"]
    port = free_port()
    processes.append(
        subprocess.Popen(
            [sys.executable, "-m", "devtools.mailsink", "--port", str(port), "--dir", str(DATA / "mail")],
            cwd=ROOT,
            start_new_session=True,
        )
    )
    say(f"E-mail goes to a local sink: open the .eml files in .data/mail/ (SMTP on 127.0.0.1:{port})")
    return f"mailto://127.0.0.1:{port}?from=Pharmacy%20Cloud%20%3Cno-reply@pharmacy.local%3E&mode=insecure"


def app_environment(database_url: str, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY=secret_key(),
        APP_URL=os.environ.get("APP_URL", "http://localhost:3000"),
        REFLEX_BUN_PATH=str(BUN),
        REFLEX_TELEMETRY_ENABLED="false",
        REFLEX_CHECK_LATEST_VERSION="false",
        GRANIAN_WORKERS=os.environ.get("GRANIAN_WORKERS", "2"),
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


def wait_for_app(url: str, processes: list[subprocess.Popen[bytes]], timeout: float = 900) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            return False
        try:
            with urllib.request.urlopen(f"{url}/api/v1/health", timeout=3):
                return True
        except urllib.error.HTTPError:
            return True  # 503 means the app answers but a service is degraded
        except OSError:
            time.sleep(1)
    return False


def main() -> int:
    started: list[object] = []
    processes: list[subprocess.Popen[bytes]] = []
    try:
        env = app_environment(postgres(started), redis(started))
        env["MAIL_URL"] = mail_sink(processes)
        cli = str(VENV_BIN / "pharmacy-saas")
        say("Applying migrations")
        subprocess.run([cli, "db", "upgrade"], env=env, check=True)
        subprocess.run([cli, "demo", "seed"], env=env, check=True)
        say("Starting the app (first run builds the frontend; this takes a minute or two)")
        align_web_dir(ROOT / ".web")  # so the build does not rewrite the committed reflex.lock/
        for command in (
            [str(VENV_BIN / "reflex"), "run", "--env", "prod", "--single-port"],
            [cli, "worker"],
            [cli, "relay"],
        ):
            processes.append(subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True))
        url = env["APP_URL"]
        if not wait_for_app(url, processes):
            say("The app did not start; see the output above")
            return 1
        print(
            f"\n  Pharmacy Cloud is running at {url}\n"
            f"  Demo sign-in: {env.get('DEMO_OWNER_EMAIL', 'owner@demo-pharmacy.example')} / "
            f"{env.get('DEMO_OWNER_PASSWORD', 'demo-pharmacy-2026')}\n"
            "  Press Ctrl-C to stop.\n",
            flush=True,
        )
        while all(p.poll() is None for p in processes):
            time.sleep(1)
        say("A process exited; stopping the rest")
        return 1
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        return exc.returncode or 1
    except KeyboardInterrupt:
        say("Stopping")
        return 0
    finally:
        stop_all(processes, started)


def stop_all(processes: list[subprocess.Popen[bytes]], started: list[object]) -> None:
    for process in processes:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    for process in processes:
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    for server in reversed(started):
        server.stop()  # type: ignore[attr-defined]


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    # Installed explicitly: a shell that starts us in the background may have ignored SIGINT.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    sys.exit(main())
