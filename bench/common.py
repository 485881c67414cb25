"""Shared set-up: a fresh, migrated benchmark database on the server in TEST_DATABASE_URL."""

from __future__ import annotations

import os
import sys

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
    from backend.core import dbadmin
    from backend.core.settings import reset_settings_cache

    reset_settings_cache()
    dbadmin.upgrade()
    return os.environ["DATABASE_URL"]
