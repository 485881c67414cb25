"""Portal tests reuse the prescriptions tests' pharmacy: a chain with a catalog, a prescriber and staff."""

import pytest

from backend.core.queue import redis_connection
from backend.core.settings import reset_settings_cache
from tests.backend.prescriptions.conftest import pharmacy  # noqa: F401 - a fixture


@pytest.fixture
def portal_settings(monkeypatch):
    """Set PORTAL_* (or any) settings for one test: `portal_settings(PORTAL_RESPONSE_FLOOR_MS=50)`.
    Redis starts and ends empty, and the settings are back to the environment's afterwards."""
    redis_connection().flushdb()

    def configure(**values: object) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, str(value))
        reset_settings_cache()

    yield configure
    monkeypatch.undo()
    reset_settings_cache()
    redis_connection().flushdb()
