"""COPY plumbing for the domains' bulk loaders (the demo chain, load-test data).

Each domain owns a bulk loader for its own tables (backend/inventory/bulk.py, backend/billing/bulk.py,
backend/patients/bulk.py, ...); this module only turns rows into PostgreSQL's COPY text format and
streams them. The caller owns the transaction: COPY FROM is refused on tables with row-level security
for a role subject to it, so bulk loads run on the audited platform path (`platform_session`) and hand
its session to every loader, which keeps a seed one transaction, all or nothing.

Rows stream in chunks of about a megabyte: the server inserts one chunk while Python formats the next.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

# COPY text format: backslash, tab, newline and carriage return are escaped; NULL is \N.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_CHUNK = 1 << 20
_NULL = r"\N"


def cell(value: Any) -> str:
    """One value as COPY text. Money is Decimal (never float), times are timezone-aware."""
    if type(value) is str:  # the common case first: loaders pass ids and codes as text
        return value.translate(_ESCAPES)
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    if isinstance(value, float):
        raise TypeError("bulk rows carry Decimal, never float")
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError("bulk rows carry timezone-aware times")
    if isinstance(value, (int, Decimal, uuid.UUID, date)):
        return str(value)
    if isinstance(value, bytes):
        return _bytea(value)
    raise TypeError(f"{type(value).__name__} has no COPY form here")


def _bytea(value: bytes) -> str:
    """bytea in hex input form, its backslash escaped for COPY (sealed values, blind indexes)."""
    return "\\\\x" + value.hex()


def _backslashes_expected(row: Sequence[Any]) -> int:
    """Backslashes a row's plain line may hold without escaping: one per NULL, two per bytea."""
    return sum(1 if value is None else 2 if type(value) is bytes else 0 for value in row)


def driver_cursor(session: Session) -> Any:
    """The psycopg cursor under a session's connection (COPY is not part of SQLAlchemy)."""
    return session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]


def copy_rows(session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Stream `rows` into `table` (a name from the calling module, never from input); returns the count.

    Values are text, int, Decimal, bool, UUID, date, timezone-aware datetime or None (the bulk books
    build them so; `cell` checks the types on the slow path). Most rows hold nothing COPY must escape,
    so a row is first written as plain `str()`s and checked as a whole (separator and backslash
    counts, two byte scans); only a row that needs it is built again through `cell`.
    """
    count = 0
    separators = len(columns) - 1
    buffer: list[str] = []
    size = 0
    with driver_cursor(session) as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            line = "\t".join(
                [_NULL if value is None else _bytea(value) if type(value) is bytes else str(value) for value in row]
            )
            if (
                line.count("\t") != separators
                or "\n" in line
                or "\r" in line
                # Each NULL is one backslash, each bytea two; any other needs escaping. (Counted by
                # identity: `==` on Decimals and times is slow.)
                or ("\\" in line and line.count("\\") != _backslashes_expected(row))
            ):
                line = "\t".join([cell(value) for value in row])
            buffer.append(line)
            size += len(line)
            count += 1
            if size >= _CHUNK:
                copy.write("\n".join(buffer) + "\n")
                buffer, size = [], 0
        if buffer:
            copy.write("\n".join(buffer) + "\n")
    return count


class SequentialIds:
    """Ids for one bulk load, as text: a prefix drawn from the caller's random source and a rising
    counter, so each table's primary-key index grows at its right edge instead of taking a random
    page per row (uuid4 would), and a seeded generator gives the same ids every run."""

    def __init__(self, prefix_bits: int) -> None:
        head = uuid.UUID(int=prefix_bits & ((1 << 128) - 1), version=4).hex
        self._head = f"{head[:8]}-{head[8:12]}-{head[12:16]}-{head[16:20]}-"
        self._next = 0

    def __call__(self) -> str:
        self._next += 1
        return f"{self._head}{self._next:012x}"


class BulkWriter:
    """Runs a bulk load's write steps in order, on its session, from one background thread, while the
    caller prepares the next rows: the server inserts one branch while Python replays the next, which
    on a two-core machine is most of a seed's time. The caller must not use the session until
    `close`, which waits for the steps, raises the first error (later steps are skipped) and
    returns the row counts.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.counts: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self._error: BaseException | None = None
        self._steps: queue.Queue[tuple[str, Callable[[], dict[str, int]]] | None] = queue.Queue()
        # A bulk load's few large statements gain nothing from JIT and would pay its compile time;
        # an UPDATE joins a batch of rows in memory.
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL work_mem = '64MB'"))
        self._thread = threading.Thread(target=self._run, name="bulk-writer", daemon=True)
        self._thread.start()

    def submit(self, name: str, step: Callable[[], dict[str, int]]) -> None:
        self._steps.put((name, step))

    def _run(self) -> None:
        while (item := self._steps.get()) is not None:
            name, step = item
            if self._error is not None:
                continue
            started = time.perf_counter()
            try:
                for table, count in step().items():
                    self.counts[table] = self.counts.get(table, 0) + count
            except BaseException as exc:  # noqa: BLE001 - handed to the caller by close()
                self._error = exc
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    def close(self) -> dict[str, int]:
        self._steps.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self.counts
