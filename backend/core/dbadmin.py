"""`pharmacy-saas db upgrade`: roles, default privileges and migrations, safe to re-run.

Roles are cluster-wide, so creating them is idempotent and their passwords are re-set each time.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from psycopg import sql
from sqlalchemy import Connection, create_engine, pool, text
from sqlalchemy.exc import OperationalError

from backend.core.database import database_unreachable_message
from backend.core.errors import ConfigurationError, ServiceUnavailable
from backend.core.settings import Settings, get_settings

log = logging.getLogger(__name__)

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic" / "alembic.ini"


def _ensure_role(connection: Connection, name: str, password: str, *, bypass_rls: bool) -> None:
    exists = connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first()
    bypass = "BYPASSRLS" if bypass_rls else "NOBYPASSRLS"
    verb = "ALTER" if exists else "CREATE"
    statement = sql.SQL(
        verb
        + " ROLE {role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT "
        + bypass
        + " PASSWORD {password}"
    ).format(role=sql.Identifier(name), password=sql.Literal(password))
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(statement)  # psycopg composes the literal; nothing is logged


def _owner_facts(connection: Connection) -> tuple[str, bool, bool]:
    row = connection.execute(
        text("SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    ).one()
    return row[0], row[1], row[2]


def prepare_roles(connection: Connection, settings: Settings) -> None:
    """Create the app, platform, auth and relay roles and the grants every future table inherits.

    The auth and relay roles get no table privileges at all: they connect and execute the few
    SECURITY DEFINER functions their path needs (granted by the migrations, see 0023).
    """
    owner, is_super, bypass = _owner_facts(connection)
    if not (is_super or bypass):
        raise ConfigurationError(
            f"The migration role {owner!r} needs BYPASSRLS (or superuser) so data migrations see "
            "every tenant's rows: ALTER ROLE ... BYPASSRLS, or use another DATABASE_URL"
        )
    app, platform = settings.APP_DB_ROLE, settings.PLATFORM_DB_ROLE
    auth, relay = settings.AUTH_DB_ROLE, settings.RELAY_DB_ROLE
    _ensure_role(connection, app, settings.role_password(app), bypass_rls=False)
    _ensure_role(connection, platform, settings.role_password(platform), bypass_rls=True)
    _ensure_role(connection, auth, settings.role_password(auth), bypass_rls=False)
    _ensure_role(connection, relay, settings.role_password(relay), bypass_rls=False)
    database = connection.execute(text("SELECT current_database()")).scalar_one()
    ident = {
        "db": f'"{database}"',
        "app": f'"{app}"',
        "platform": f'"{platform}"',
        "auth": f'"{auth}"',
        "relay": f'"{relay}"',
        "owner": f'"{owner}"',
    }
    for statement in (
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        "GRANT CONNECT ON DATABASE {db} TO {app}, {platform}, {auth}, {relay}",
        "GRANT USAGE ON SCHEMA public TO {app}, {platform}, {auth}, {relay}",
        "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}, {platform}",
        "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        "GRANT USAGE, SELECT ON SEQUENCES TO {app}, {platform}",
        # A new function is executable by nobody until its migration grants it to the role that needs it.
        "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC",
    ):
        connection.execute(text(statement.format(**ident)))
    if not is_super:
        # Lets the owner's test harness SET ROLE to each role inside a rolled-back transaction.
        connection.execute(text("GRANT {app}, {platform}, {auth}, {relay} TO {owner}".format(**ident)))


def upgrade(database_url: str | None = None) -> None:
    """Create roles, then apply every migration with the owner role. Safe to re-run."""
    settings = get_settings()
    url = database_url or settings.owner_database_url()
    engine = create_engine(url, poolclass=pool.NullPool, hide_parameters=True, connect_args={"connect_timeout": 5})
    try:
        with engine.begin() as connection:
            # Serialise concurrent upgrades (several app hosts starting at once).
            connection.execute(text("SELECT pg_advisory_xact_lock(823746)"))
            prepare_roles(connection, settings)
            config = Config(str(ALEMBIC_INI))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            app, platform = settings.APP_DB_ROLE, settings.PLATFORM_DB_ROLE
            connection.execute(text(f'REVOKE ALL ON alembic_version FROM "{app}", "{platform}"'))
    except OperationalError as exc:
        raise ServiceUnavailable(database_unreachable_message(exc)) from exc
    finally:
        engine.dispose()
