"""Each chain's data keys, stored wrapped by the master key in `chain_data_keys` (RLS: a chain reads its own).

- kind 'data': the AES-256-GCM keys values are sealed with. New values use the newest unretired
  version; every version stays readable (a rotation retires a version once no value uses it).
- kind 'index': the key of the chain's blind indexes (one version: re-encrypting values keeps the
  indexes valid).
Keys are created on first use (ON CONFLICT: two first writers agree on one key) and unwrapped once per
transaction (`session.info`): a rolled-back creation is never remembered beyond its transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import text

from backend.core.fieldcrypt import (
    MasterKeyRing,
    associated_data,
    blind_index,
    key_version,
    new_data_key,
    open_sealed,
    seal,
)
from backend.core.settings import get_settings

DATA, INDEX = "data", "index"
_CACHE = "chain_keys"


class Executes(Protocol):
    """A Session or a Connection (the migration encrypts with the owner's connection)."""

    @property
    def info(self) -> dict[Any, Any]: ...

    def execute(self, statement: Any, parameters: Any = None) -> Any: ...


def wrap_context(tenant_id: object, kind: str, version: int) -> bytes:
    return f"chain-key|{tenant_id}|{kind}|{version}".encode()


@dataclass(frozen=True)
class ChainKeys:
    """A chain's unwrapped keys for one transaction: seal, open and index its values."""

    tenant_id: str
    data: dict[int, bytes]
    current: int
    index: bytes
    # One AESGCM per key version, built on first use (building one costs more than sealing a value).
    _aeads: dict[int, AESGCM] = field(default_factory=dict, repr=False, compare=False)

    def _aead(self, version: int) -> AESGCM:
        aead = self._aeads.get(version)
        if aead is None:
            aead = self._aeads[version] = AESGCM(self.data[version])
        return aead

    def seal(self, table: str, column: str, row_id: object, value: str) -> bytes:
        return self.seal_bytes(table, column, row_id, value.encode())

    def open(self, table: str, column: str, row_id: object, sealed: bytes) -> str:
        return self.open_bytes(table, column, row_id, sealed).decode()

    def seal_bytes(self, table: str, column: str, row_id: object, value: bytes) -> bytes:
        aad = associated_data(self.tenant_id, table, column, row_id)
        return seal(self._aead(self.current), self.current, value, aad)

    def open_bytes(self, table: str, column: str, row_id: object, sealed: bytes) -> bytes:
        sealed = bytes(sealed)
        aad = associated_data(self.tenant_id, table, column, row_id)
        return open_sealed(self._aead(key_version(sealed)), sealed, aad)

    def reseal(self, table: str, column: str, row_id: object, sealed: bytes) -> bytes | None:
        """The value sealed again under the current data key, or None when it already is."""
        sealed = bytes(sealed)
        if key_version(sealed) == self.current:
            return None
        return self.seal_bytes(table, column, row_id, self.open_bytes(table, column, row_id, sealed))

    def token(self, kind: str, normalised: str | date | None) -> bytes | None:
        """The blind index of a normalised value (None for an empty one: nothing to find)."""
        if normalised is None or normalised == "":
            return None
        value = normalised.isoformat() if isinstance(normalised, date) else normalised
        return blind_index(self.index, kind, value)


def chain_keys(session: Executes, tenant_id: object, ring: MasterKeyRing | None = None) -> ChainKeys:
    """The chain's keys, created on first use, unwrapped once per transaction."""
    cached = session.info.get((_CACHE, str(tenant_id)))
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    ring = ring or get_settings().master_keys()
    rows = _rows(session, tenant_id)
    if not any(r.kind == DATA for r in rows) or not any(r.kind == INDEX for r in rows):
        _create_first_keys(session, tenant_id, ring)
        rows = _rows(session, tenant_id)
    data = {
        r.version: ring.unwrap(r.wrapped, r.master_version, wrap_context(tenant_id, DATA, r.version))
        for r in rows
        if r.kind == DATA
    }
    current = max(r.version for r in rows if r.kind == DATA and r.retired_at is None)
    index_row = next(r for r in rows if r.kind == INDEX)
    index = ring.unwrap(index_row.wrapped, index_row.master_version, wrap_context(tenant_id, INDEX, index_row.version))
    keys = ChainKeys(str(tenant_id), data, current, index)
    session.info[(_CACHE, str(tenant_id))] = keys
    return keys


def reseal_rows(
    session: Executes,
    keys: ChainKeys,
    table: str,
    columns: tuple[str, ...],
    after: object,
    limit: int,
    *,
    id_column: str = "id",
) -> tuple[Any, int]:
    """One batch of a re-encryption, for the domain that owns `table` (it passes its own table and sealed
    columns): the next `limit` rows by id after `after`, locked, each stale value sealed again under
    the current data key. Returns (the last id seen or None at the end, values changed)."""
    rows = session.execute(
        text(
            f"SELECT {id_column} AS id, {', '.join(columns)} FROM {table} "  # noqa: S608 - the owner's own names
            f"WHERE CAST(:after AS uuid) IS NULL OR {id_column} > CAST(:after AS uuid) "
            f"ORDER BY {id_column} LIMIT :n FOR UPDATE"
        ),
        {"after": None if after is None else str(after), "n": limit},
    ).all()
    changed = 0
    for row in rows:
        fresh = {c: keys.reseal(table, c, row.id, getattr(row, c)) for c in columns if getattr(row, c) is not None}
        fresh = {c: v for c, v in fresh.items() if v is not None}
        if fresh:
            changed += len(fresh)
            session.execute(
                text(f"UPDATE {table} SET {', '.join(f'{c} = :{c}' for c in fresh)} WHERE {id_column} = :id"),  # noqa: S608
                {"id": row.id, **fresh},
            )
    return (rows[-1].id if len(rows) == limit else None), changed


def forget_chain_keys(session: Executes, tenant_id: object) -> None:
    session.info.pop((_CACHE, str(tenant_id)), None)


def _rows(session: Executes, tenant_id: object) -> list[Any]:
    return list(
        session.execute(
            text(
                "SELECT kind, version, wrapped, master_version, retired_at FROM chain_data_keys "
                "WHERE tenant_id = :t ORDER BY kind, version"
            ),
            {"t": uuid.UUID(str(tenant_id))},
        ).all()
    )


def _create_first_keys(session: Executes, tenant_id: object, ring: MasterKeyRing) -> None:
    for kind in (DATA, INDEX):
        session.execute(
            text(
                "INSERT INTO chain_data_keys (tenant_id, kind, version, wrapped, master_version) "
                "VALUES (:t, :k, 1, :w, :m) ON CONFLICT DO NOTHING"
            ),
            {
                "t": uuid.UUID(str(tenant_id)),
                "k": kind,
                "w": ring.current.wrap(new_data_key(), wrap_context(tenant_id, kind, 1)),
                "m": ring.current.version,
            },
        )
