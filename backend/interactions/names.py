"""Drug names to generics for the checker, fast: a file cache in front of `backend.drugs.matcher.resolve`.

The matcher is the one authority on what a name means; loading its dictionary takes about 2 s, which
a command-line check cannot afford on every run. So the answers of `matcher.resolve` are kept in a file
under the user's cache directory:

- the *exact index*: `resolve(variant, fuzzy=False)` for every name in the dictionary, computed once by
  calling the matcher itself (about 1-2 s after the dictionary has loaded), so a brand, synonym or
  generic typed as the dictionary spells it never loads the dictionary again;
- the *learned* answers: any other name (a typo, a longer phrase) goes to the matcher once and its
  answer, including "not found", is remembered.

Both are keyed by the dictionary package's version and a hash of matcher.py, so upgrading either
rebuilds the cache. When the cache directory is not writable the answers simply stay in memory.
Set PHARMACY_SAAS_CACHE_DIR to choose the directory (default: $XDG_CACHE_HOME or ~/.cache, then
`pharmacy-saas/`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import marshal
import os
import tempfile
import threading
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from backend.drugs import matcher

log = logging.getLogger(__name__)

FORMAT = 1
DICTIONARY_PACKAGE = "drug-named-entity-recognition"


@dataclass(frozen=True)
class Resolved:
    generic: str  # the dictionary's generic, as the matcher spells it
    exact: bool
    similarity: float


def normalise(name: str) -> str:
    return " ".join(name.split()).lower()


def cache_dir() -> Path:
    explicit = os.environ.get("PHARMACY_SAAS_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pharmacy-saas"


def cache_key() -> str:
    try:
        version = metadata.version(DICTIONARY_PACKAGE)
    except metadata.PackageNotFoundError:
        version = "missing"
    source = Path(matcher.__file__).read_bytes()
    return f"v{FORMAT}-{version}-{hashlib.sha256(source).hexdigest()[:12]}"


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _matcher_resolve(name: str) -> Resolved | None:
    try:
        match = matcher.resolve(name)
    except Exception:  # noqa: BLE001 - a dictionary bug means "not identified", never "no interaction"
        log.warning("drug dictionary failed on a name", exc_info=True)
        return None
    if match is None:
        return None
    return Resolved(match.generic, match.exact, match.similarity)


def build_exact_index() -> dict[str, str]:
    """`matcher.resolve(v, fuzzy=False).generic` for every dictionary name v that resolves exactly."""
    matcher._finder()  # loads the dictionary
    from drug_named_entity_recognition import drugs_finder

    index: dict[str, str] = {}
    uncached = getattr(matcher.resolve, "__wrapped__", matcher.resolve)  # keep the matcher's own LRU small
    for variant in drugs_finder.drug_variant_to_canonical:
        key = normalise(variant)
        if not key or key in index:
            continue
        try:
            match = uncached(key, fuzzy=False)
        except Exception:  # noqa: BLE001 - same as above: such a name is simply not indexed
            continue
        if match is not None and match.exact:
            index[key] = match.generic
    return index


class NameCache:
    """Resolve names through the cached index; fall back to the matcher and remember its answer."""

    def __init__(self, directory: Path | None = None, *, build: bool = True) -> None:
        self.directory = directory or cache_dir()
        self.key = cache_key()
        self._lock = threading.Lock()
        self._exact: dict[str, str] | None = None
        self._learned: dict[str, list[object] | None] = {}
        self._build = build
        self._load()

    @property
    def index_path(self) -> Path:
        return self.directory / f"drug-index-{self.key}.marshal"

    @property
    def learned_path(self) -> Path:
        return self.directory / f"drug-learned-{self.key}.json"

    def _load(self) -> None:
        try:
            self._exact = marshal.loads(self.index_path.read_bytes())  # noqa: S302 - our own file
        except (OSError, ValueError, EOFError, TypeError):
            self._exact = None
        try:
            self._learned = json.loads(self.learned_path.read_text())
        except (OSError, ValueError):
            self._learned = {}

    def ensure_index(self) -> bool:
        """Build and save the exact index if missing; True when it is available (in memory at least)."""
        if self._exact is not None:
            return True
        with self._lock:
            if self._exact is None:
                self._exact = build_exact_index()
                try:
                    _atomic_write(self.index_path, marshal.dumps(self._exact))
                except OSError:
                    log.warning("drug index cache not writable: %s", self.directory)
        return True

    @property
    def has_index(self) -> bool:
        return self._exact is not None

    def resolve(self, name: str) -> Resolved | None:
        key = normalise(name)
        if self._exact is None and self._build:
            self.ensure_index()
        generic = self._exact.get(key) if self._exact is not None else None
        if generic is not None:
            return Resolved(generic, True, 1.0)
        if key in self._learned:
            hit = self._learned[key]
            return None if hit is None else Resolved(str(hit[0]), bool(hit[1]), float(hit[2]))  # type: ignore[arg-type]
        resolved = _matcher_resolve(name)
        self._remember(key, resolved)
        return resolved

    def _remember(self, key: str, resolved: Resolved | None) -> None:
        with self._lock:
            self._learned[key] = None if resolved is None else [resolved.generic, resolved.exact, resolved.similarity]
            if len(self._learned) > 5_000:  # a bound for a long-running server fed random strings
                self._learned.clear()
            try:
                _atomic_write(self.learned_path, json.dumps(self._learned).encode())
            except OSError:
                pass

    def known_names(self) -> list[str]:
        """Every name the index knows (for suggestions); empty before the index exists."""
        return list(self._exact) if self._exact is not None else []


_default: NameCache | None = None
_default_lock = threading.Lock()


def default_cache() -> NameCache:
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = NameCache()
    return _default
