"""Configuration: URL mapping, derived role URLs, and one clear line for bad settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from backend.core.errors import ConfigurationError
from backend.core.settings import Settings, to_psycopg_url
from devtools.services import free_port

CLI = str(Path(sys.executable).parent / "pharmacy-saas")


@pytest.mark.parametrize(
    "given", ["postgresql://u@h:5432/db", "postgres://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"]
)
def test_postgres_urls_map_to_psycopg3(given):
    assert to_psycopg_url(given) == "postgresql+psycopg://u@h:5432/db"


def test_other_drivers_are_refused_with_a_reason():
    with pytest.raises(ConfigurationError, match="unsupported driver"):
        to_psycopg_url("postgresql+psycopg2://u@h/db")


def test_app_and_platform_urls_derive_from_the_owner_url():
    settings = Settings(DATABASE_URL="postgresql://owner:pw@db.internal:6543/pharmacy", SECRET_KEY="k" * 40)
    app_url = settings.app_database_url()
    assert app_url.startswith("postgresql+psycopg://pharmacy_app:")
    assert app_url.endswith("@db.internal:6543/pharmacy")
    assert "owner" not in app_url and "pw@" not in app_url
    assert settings.platform_database_url().startswith("postgresql+psycopg://pharmacy_platform:")
    assert settings.role_password("pharmacy_app") != settings.role_password("pharmacy_platform")


def test_secret_key_has_no_default():
    with pytest.raises(ConfigurationError, match="SECRET_KEY is not set"):
        Settings(SECRET_KEY=None, DATABASE_URL="postgresql://x@y/z").check_boot()
    with pytest.raises(ConfigurationError, match="at least 32"):
        Settings(SECRET_KEY="short", ENVIRONMENT="production").secret_key()


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=60, env={**os.environ, **env})


def test_unreachable_database_is_one_clear_line():
    result = run_cli("db", "upgrade", DATABASE_URL=f"postgresql://postgres@127.0.0.1:{free_port()}/x")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Set DATABASE_URL" in lines[0]


def test_unreachable_redis_is_one_clear_line():
    result = run_cli("worker", "--burst", REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Set REDIS_URL" in lines[0]


def test_missing_database_url_says_what_to_set():
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run([CLI, "tenants", "list"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: DATABASE_URL is not set")
