"""Service health: can we reach the database and Redis, and is a worker listening?"""

from __future__ import annotations

from dataclasses import dataclass

from rq import Worker
from sqlalchemy import text

from backend.core.database import app_engine
from backend.core.errors import PharmacyError
from backend.core.queue import redis_connection


@dataclass(frozen=True)
class ServiceHealth:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class HealthReport:
    ok: bool
    services: list[ServiceHealth]

    def as_dict(self) -> dict[str, object]:
        return {
            "status": "ok" if self.ok else "degraded",
            "services": {s.name: {"ok": s.ok, "detail": s.detail} for s in self.services},
        }


def _database() -> ServiceHealth:
    try:
        with app_engine().connect() as connection:
            revision = connection.execute(text("SELECT current_setting('server_version')")).scalar()
        return ServiceHealth("database", True, f"PostgreSQL {revision}")
    except PharmacyError as exc:
        return ServiceHealth("database", False, exc.message)
    except Exception as exc:  # noqa: BLE001 - report, never crash the health page
        return ServiceHealth("database", False, f"unreachable ({type(exc).__name__})")


def _redis_and_workers() -> list[ServiceHealth]:
    connection = redis_connection()
    try:
        connection.ping()
    except Exception as exc:  # noqa: BLE001
        return [
            ServiceHealth("redis", False, f"unreachable ({type(exc).__name__})"),
            ServiceHealth("worker", False, "unknown: Redis is unreachable"),
        ]
    workers = Worker.all(connection=connection)
    server: dict[str, object] = connection.info("server")  # type: ignore[assignment]
    redis_ok = ServiceHealth("redis", True, f"Redis {server.get('redis_version')}")
    if workers:
        return [redis_ok, ServiceHealth("worker", True, f"{len(workers)} worker(s) listening")]
    return [redis_ok, ServiceHealth("worker", False, "no RQ worker is running")]


def system_health() -> HealthReport:
    """Check every service the product needs; never raises."""
    services = [_database(), *_redis_and_workers()]
    return HealthReport(ok=all(s.ok for s in services), services=services)
