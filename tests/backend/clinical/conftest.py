"""One drug-name index per test session, built in a temporary cache directory (about 3 s, once)."""

from __future__ import annotations

import pytest

from backend.interactions import names


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("drug-cache")


@pytest.fixture(scope="session")
def name_cache(cache_dir):
    cache = names.NameCache(cache_dir)
    assert cache.ensure_index() and cache.index_path.exists()
    return cache


@pytest.fixture
def default_name_cache(name_cache, monkeypatch):
    """Make the default cache the session one (the REST endpoint, the CLI and `check()` without a cache)."""
    monkeypatch.setattr(names, "_default", name_cache)
    return name_cache
