"""`make test`: real Postgres and Redis (configured or throwaway), then the whole pytest suite.

TEST_DATABASE_URL / TEST_REDIS_URL point the suite at existing servers; otherwise it starts its
own on free ports and removes them afterwards. `--bench` runs the benchmarks instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from devtools.services import (
    ROOT,
    Postgres,
    Redis,
    ServiceError,
    check_postgres_url,
    check_redis_url,
    free_port,
)

PYTEST_NO_TESTS = 5


def main(argv: list[str]) -> int:
    bench = "--bench" in argv
    args = [a for a in argv if a != "--bench"]
    started: list[Postgres | Redis] = []
    scratch = Path(tempfile.mkdtemp(prefix="pharmacy-test-"))
    env = dict(os.environ)
    try:
        env["TEST_DATABASE_URL"] = test_postgres(scratch, started)
        env["TEST_REDIS_URL"] = test_redis(scratch, started)
        env.setdefault("PATH", "")
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
        if bench:
            for module in (
                "bench.rls_overhead",
                "bench.auth_validation",
                "bench.portal_refill",
                "bench.portal_pages",
                "bench.notify_throughput",
                "bench.live_events",
                "bench.sales",
                "bench.assistant_eval",
                "bench.ocr",
            ):
                code = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=env).returncode
                if code:
                    return code
            return 0
        code = subprocess.run([sys.executable, "-m", "pytest", *args], cwd=ROOT, env=env).returncode
        if code == PYTEST_NO_TESTS:
            print("error: pytest collected no tests", file=sys.stderr)
            return 1
        return code
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        for server in reversed(started):
            server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


def test_postgres(scratch: Path, started: list[Postgres | Redis]) -> str:
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        problem = check_postgres_url(configured)
        if problem:
            raise ServiceError(f"TEST_DATABASE_URL is unreachable ({problem})")
        return configured
    server = Postgres(scratch / "pg", free_port(), durable=False)
    print(f"==> Starting a throwaway PostgreSQL on 127.0.0.1:{server.port}", flush=True)
    server.start()
    started.append(server)
    return server.url


def test_redis(scratch: Path, started: list[Postgres | Redis]) -> str:
    configured = os.environ.get("TEST_REDIS_URL")
    if configured:
        problem = check_redis_url(configured)
        if problem:
            raise ServiceError(f"TEST_REDIS_URL is unreachable ({problem})")
        return configured
    server = Redis(scratch / "redis", free_port())
    print(f"==> Starting a throwaway Redis on 127.0.0.1:{server.port}", flush=True)
    server.start()
    started.append(server)
    return server.url


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
