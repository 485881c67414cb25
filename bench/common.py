"""Shared set-up: a fresh, migrated benchmark database on the server in TEST_DATABASE_URL."""

from __future__ import annotations

import os
import statistics
import sys
import time
import urllib.error
import urllib.request
from typing import Any

import psycopg


def fresh_database(name: str) -> str:
    """Drop and recreate database `name`, migrate it, point DATABASE_URL at it; returns its URL."""
    server = os.environ.get("TEST_DATABASE_URL") or sys.exit("set TEST_DATABASE_URL (or run `make bench`)")
    server = server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = server.rsplit("/", 1)[0] + f"/{name}"
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production-000000")
    os.environ.setdefault("DATA_ENCRYPTION_KEY", "YmVuY2gtZGF0YS1rZXktbm90LWZvci1wcm9kdWN0aW8=")
    from backend.core import dbadmin
    from backend.core.settings import reset_settings_cache

    reset_settings_cache()
    dbadmin.upgrade()
    return os.environ["DATABASE_URL"]


def md5_uuid(text_value: str) -> str:
    """The uuid PostgreSQL's `md5(text)::uuid` gives, so Python-seeded rows match SQL-seeded references."""
    import hashlib
    import uuid

    return str(uuid.UUID(hashlib.md5(text_value.encode()).hexdigest()))  # noqa: S324 - an id, not a hash of secrets


def insert_patients(tenant: object, branch: object, people: list[tuple[Any, ...]]) -> None:
    """Patients (id, full name, date of birth, free-text allergies[, phone]) sealed and indexed as the app stores
    them (field encryption, issue 16), written as the owner role in batches."""
    from sqlalchemy import text

    from backend.core.database import owner_engine
    from backend.patients import identity
    from backend.protection.keys import chain_keys

    columns = (*identity.SEALED.values(), *identity.INDEXES)
    sql = text(
        f"INSERT INTO patients (tenant_id, id, home_branch_id, {', '.join(columns)}) "  # noqa: S608 - fixed names
        f"VALUES (:t, :id, :b, {', '.join(':' + c for c in columns)})"
    )
    with owner_engine().begin() as conn:
        keys = chain_keys(conn, tenant)
        for start in range(0, len(people), 2000):
            conn.execute(
                sql,
                [
                    {
                        "t": tenant,
                        "id": pid,
                        "b": branch,
                        **identity.stored(
                            keys,
                            pid,
                            {
                                "full_name": name,
                                "date_of_birth": born,
                                "phone": rest[0] if rest else "",
                                "email": "",
                                "address": "",
                                "allergies": allergies,
                                "notes": "",
                            },
                        ),
                    }
                    for pid, name, born, allergies, *rest in people[start : start + 2000]
                ],
            )


def bench_chain(slug: str, owner_email: str, *, name: str = "Bench Pharmacy", code: str = "MAIN") -> Any:
    """A one-branch chain to measure in (after `fresh_database` pointed the settings at it); `code` is the
    branch's, which starts its Rx numbers."""
    from backend.core.passwords import hash_password
    from tenants.provisioning import NewBranch, NewChain, provision_tenant

    return provision_tenant(
        NewChain(
            name=name,
            slug=slug,
            owner_email=owner_email,
            owner_name="Bench",
            owner_password_hash=hash_password("x" * 12),
            branches=(NewBranch(name="Main", code=code),),
        ),
        actor="bench",
        reason="bench seed",
    )


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    """(p50, p95, max) of timings in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95, ordered[-1]


def app_answers(url: str) -> bool:
    """Whether the app answers its health endpoint (503 "degraded" counts: a bench may run no worker)."""
    try:
        with urllib.request.urlopen(f"{url}/api/v1/health", timeout=3):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def wait_for_app(url: str, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if app_answers(url):
            return
        time.sleep(1)
    raise SystemExit("the app did not start; see .data/bench-app.log")
