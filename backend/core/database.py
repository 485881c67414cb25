"""Database engines and the one place sessions are opened.

Five roles (see settings and docs/architecture.md "Database roles"): the owner runs migrations, the
app role serves every request under row-level security, the platform role (BYPASSRLS) is reachable
only through `tenants.platform_session`, and two narrow roles own nothing and may only execute the
functions of their path: `auth` (sign-in lookup, password reset, SSO by slug, invitation links; opened
only by `backend.accounts.auth_path`) and `relay` (claim and mark outbox rows; opened only by the
relay). Nothing here knows about tenants; `tenants.session` sets the tenant.
"""

from __future__ import annotations

import contextvars
import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Literal, TypeVar

import psycopg
from psycopg import errors as pg_errors
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session

from backend.core.errors import ConcurrentChange, ServiceUnavailable
from backend.core.settings import get_settings

RoleKind = Literal["app", "platform", "auth", "relay"]
T = TypeVar("T")

# Tests bind every session to one connection whose transaction they roll back; the role
# each session needs is then switched with SET LOCAL ROLE inside that transaction.
_bound_connection: contextvars.ContextVar[Connection | None] = contextvars.ContextVar("bound_connection", default=None)


# How many times one unit of work runs before its caller is told to try again (see `is_retryable`).
MAX_ATTEMPTS = 8


class RaceLost(Exception):
    """Raised inside a unit of work that lost a race it can detect itself (a conditional UPDATE that
    matched no row because a concurrent transaction got there first). Nothing of the attempt is kept;
    the adapter runs the whole unit of work again."""


def is_retryable(exc: BaseException) -> bool:
    """Whether a failed transaction may simply be run again: it lost a race, hit a deadlock, or could
    not be serialized. The one place these are recognised; the adapters' retry policy uses it."""
    if isinstance(exc, RaceLost):
        return True
    cause = exc.orig if isinstance(exc, DBAPIError) else exc  # the ORM wraps driver errors; the lean path does not
    return isinstance(cause, (pg_errors.DeadlockDetected, pg_errors.SerializationFailure))


def retrying(attempt: Callable[[], T], busy_message: str) -> T:
    """The one retry policy: run `attempt` (a whole transaction) again while it fails in a way
    `is_retryable` recognises, up to MAX_ATTEMPTS times; then ConcurrentChange(busy_message)."""
    for _ in range(MAX_ATTEMPTS):
        try:
            return attempt()
        except Exception as exc:
            if not is_retryable(exc):
                raise
    raise ConcurrentChange(busy_message)


def make_engine(url: str, *, pool_size: int | None = None, manual_begin: bool = True) -> Engine:
    """An engine that never writes bound parameters (patient data) into logs or errors."""
    size = pool_size if pool_size is not None else get_settings().DB_POOL_SIZE
    engine = create_engine(
        url,
        hide_parameters=True,
        # open_session sends BEGIN itself (with the tenant settings) to save a round trip.
        isolation_level="AUTOCOMMIT" if manual_begin else "READ COMMITTED",
        # Manual-BEGIN engines find a connection the server dropped on their BEGIN, which is safe to
        # retry (see _begun); the others ping on checkout.
        pool_pre_ping=not manual_begin,
        pool_size=size,
        max_overflow=size,
        connect_args={
            "connect_timeout": 5,
            "application_name": get_settings().SERVICE_NAME,
            "options": "-c timezone=UTC",
        },
    )
    # A forked RQ work-horse must not share the parent's sockets.
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    return engine


@lru_cache(maxsize=1)
def app_engine() -> Engine:
    """Engine of the restricted app role (RLS applies to every query)."""
    return make_engine(get_settings().app_database_url())


@lru_cache(maxsize=1)
def platform_engine() -> Engine:
    """Engine of the BYPASSRLS platform role. Only `tenants.platform_session` may call this."""
    return make_engine(get_settings().platform_database_url(), pool_size=2)


@lru_cache(maxsize=1)
def auth_engine() -> Engine:
    """Engine of the auth role. Only `backend.accounts.auth_path` may open it (a test lists callers)."""
    return make_engine(get_settings().auth_database_url(), pool_size=2)


@lru_cache(maxsize=1)
def relay_engine() -> Engine:
    """Engine of the relay role. Only the outbox relay may open it (a test lists callers)."""
    return make_engine(get_settings().relay_database_url(), pool_size=1)


def engine_for(kind: RoleKind) -> Engine:
    # Names are looked up when called, so a test may swap one engine factory for another.
    factories = {"app": app_engine, "platform": platform_engine, "auth": auth_engine, "relay": relay_engine}
    return factories[kind]()


@lru_cache(maxsize=1)
def owner_engine() -> Engine:
    """Engine of the owner role, for migrations and operator commands."""
    return make_engine(get_settings().owner_database_url(), pool_size=1, manual_begin=False)


def dispose_engines() -> None:
    """Close pooled connections and forget engines (settings may have changed)."""
    for factory in (app_engine, platform_engine, auth_engine, relay_engine, owner_engine):
        if factory.cache_info().currsize:
            factory().dispose()
        factory.cache_clear()


def role_name(kind: RoleKind) -> str:
    settings = get_settings()
    return {
        "app": settings.APP_DB_ROLE,
        "platform": settings.PLATFORM_DB_ROLE,
        "auth": settings.AUTH_DB_ROLE,
        "relay": settings.RELAY_DB_ROLE,
    }[kind]


@contextmanager
def bind_to_connection(connection: Connection) -> Iterator[None]:
    """Route every session opened inside this block through `connection` (tests roll it back)."""
    token = _bound_connection.set(connection)
    try:
        yield
    finally:
        _bound_connection.reset(token)


def analyze_tables(tables: Iterable[str]) -> None:
    """Fresh planner statistics for tables just bulk-loaded (only their owner may ANALYZE them).

    Until autovacuum gets round to it the planner trusts the old row counts, and a plan made for a
    few dozen rows (a nested loop re-reading a table per row) is chosen for tens of thousands. In the
    tests the load is inside the rolled-back transaction, whose own rows ANALYZE counts.
    """
    names = [_table_name(table) for table in tables]
    bound = _bound_connection.get()
    if bound is not None:
        with bound.begin_nested():
            bound.execute(text("RESET ROLE"))  # the connection's own (owner) role, not a session's SET LOCAL
            for name in names:
                bound.execute(text(f"ANALYZE {name}"))
        return
    with owner_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for name in names:
            connection.execute(text(f"ANALYZE {name}"))


def _table_name(table: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", table):
        raise ValueError(f"not a table name: {table!r}")
    return table


def _begin_statement(settings: dict[str, str]) -> str:
    """BEGIN plus transaction-local settings, as one simple-protocol string (one round trip).

    Values are UUIDs or empty; they are re-parsed here so nothing else can reach the SQL text.
    """
    parts = ["BEGIN"]
    for name, value in settings.items():
        if name not in _SETTABLE:
            raise ValueError(f"unknown session setting {name!r}")
        literal = str(uuid.UUID(value)) if value else ""
        parts.append(f"SET LOCAL {name} = '{literal}'")  # same effect as set_config(..., true)
    return "; ".join(parts)


_SETTABLE = {"app.tenant_id", "app.user_id"}


@contextmanager
def open_session(kind: RoleKind = "app", *, settings: dict[str, str] | None = None) -> Iterator[Session]:
    """A session in its own transaction: committed on success, rolled back on any error.

    `settings` (app.tenant_id, app.user_id) are set transaction-locally before anything runs.
    The engines' driver connections are in autocommit mode and we send BEGIN ourselves, together
    with those settings, so scoping a transaction to a tenant costs no extra round trip; psycopg's
    commit() and rollback() act on the server's real transaction state.
    """
    bound = _bound_connection.get()
    connection: Connection | None = None
    try:
        if bound is not None:
            session = Session(bind=bound, join_transaction_mode="create_savepoint", expire_on_commit=False)
        else:
            connection = _begun(engine_for(kind), _begin_statement(settings or {}))
            session = Session(bind=connection, expire_on_commit=False)
        try:
            with session.begin():
                if bound is not None:
                    session.execute(text(f'SET LOCAL ROLE "{role_name(kind)}"'))
                    for name, value in (settings or {}).items():
                        session.execute(text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})
                yield session
        finally:
            session.close()
    except (OperationalError, psycopg.OperationalError) as exc:
        raise ServiceUnavailable(database_unreachable_message(exc)) from exc
    finally:
        if connection is not None:
            connection.close()


@contextmanager
def open_connection(*, settings: dict[str, str] | None = None) -> Iterator[psycopg.Connection]:
    """`open_session("app")` without the ORM: the driver connection inside the same kind of transaction.

    For the few hot paths (a sale's stock decrement) where the ORM's per-statement bookkeeping
    costs more than the database work. Commits on success, rolls back on any error.
    """
    if _bound_connection.get() is not None:  # tests: the rolled-back test transaction, as open_session does
        with open_session("app", settings=settings) as session:
            yield session.connection().connection.driver_connection  # type: ignore[misc]
        return
    try:
        connection = _begun(app_engine(), _begin_statement(settings or {}))
    except psycopg.OperationalError as exc:
        raise ServiceUnavailable(database_unreachable_message(exc)) from exc
    driver: psycopg.Connection = connection.connection.driver_connection  # type: ignore[assignment]
    try:
        yield driver
        driver.commit()
    except BaseException:
        driver.rollback()
        raise
    finally:
        connection.close()


def _begun(engine: Engine, begin: str) -> Connection:
    """A pooled connection inside a transaction begun with `begin` (one round trip).

    A connection the server has dropped (restart, failover) fails on this first statement, before
    anything ran, so it is discarded and another is tried: no liveness ping on every checkout.
    """
    for attempt in range(3):
        connection = engine.connect()
        try:
            connection.connection.driver_connection.execute(begin)  # type: ignore[union-attr]
            return connection
        except psycopg.OperationalError:
            connection.invalidate()
            connection.close()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def lookup(sql: str, params: dict[str, object], *, kind: Literal["app", "auth"] = "app") -> list[Any]:
    """Run one statement as the app (or auth) role outside an explicit transaction.

    For the per-request lookups (session cookie, API token) that run on every click and call:
    skipping BEGIN/COMMIT saves two round trips. `sql` uses psycopg's %(name)s placeholders.
    """
    bound = _bound_connection.get()
    try:
        if bound is not None:
            with open_session(kind) as session:
                return list(session.connection().exec_driver_sql(sql, params).all())
        # Only these two: a platform lookup would skip platform_session's audit event.
        engine = auth_engine() if kind == "auth" else app_engine()
        with engine.connect() as connection:
            return list(connection.exec_driver_sql(sql, params).all())
    except OperationalError as exc:
        raise ServiceUnavailable(database_unreachable_message(exc)) from exc


def database_unreachable_message(exc: BaseException) -> str:
    """One line telling an operator what to fix, without echoing credentials."""
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else "unknown"
    return (
        f"Cannot reach PostgreSQL ({reason}). Set DATABASE_URL (and APP_DATABASE_URL if the app "
        "role has its own credentials) to a reachable server, then run `pharmacy-saas db upgrade`."
    )


def check_database(engine: Engine) -> None:
    """Raise ServiceUnavailable with one clear line if the engine cannot run a query."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        raise ServiceUnavailable(database_unreachable_message(exc)) from exc
