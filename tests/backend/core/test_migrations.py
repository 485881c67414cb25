"""`db upgrade` on a database made before a migration ends where a fresh database starts."""

from __future__ import annotations

import uuid

import psycopg
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, create_engine, pool, text

from backend.core.dbadmin import ALEMBIC_INI, prepare_roles
from backend.core.settings import get_settings, to_psycopg_url
from tests.conftest import _db_url, _server_url

ROLES = ("APP_DB_ROLE", "PLATFORM_DB_ROLE", "AUTH_DB_ROLE", "RELAY_DB_ROLE")


def function_grants(connection: Connection) -> dict[str, tuple[bool, ...]]:
    """For each of our functions: may the app, platform, auth and relay roles execute it?"""
    settings = get_settings()
    roles = [getattr(settings, name) for name in ROLES]
    rows = connection.execute(
        text("""
        SELECT p.oid::regprocedure::text AS fn,
               array(SELECT has_function_privilege(r, p.oid, 'EXECUTE') FROM unnest(CAST(:roles AS text[])) r)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public'"""),
        {"roles": roles},
    ).all()
    return {row[0]: tuple(row[1]) for row in rows}


def migrate(connection: Connection, revision: str) -> None:
    config = Config(str(ALEMBIC_INI))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def test_an_upgraded_database_grants_its_functions_like_a_fresh_one(db):
    fresh = function_grants(db)
    server, name = _server_url(), f"pharmacy_upgrade_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = create_engine(to_psycopg_url(_db_url(server, name)), poolclass=pool.NullPool)
    try:
        with engine.begin() as connection:
            prepare_roles(connection, get_settings())
            owner = connection.execute(text("SELECT current_user")).scalar_one()
            # Databases made before 0023 let PUBLIC execute every new function.
            grant_all = f'ALTER DEFAULT PRIVILEGES FOR ROLE "{owner}" GRANT EXECUTE ON FUNCTIONS TO PUBLIC'
            connection.execute(text(grant_all))
            migrate(connection, "0022_insurance_claims")
            before = function_grants(connection)
            assert before["auth_login_lookup(text)"][0] and before["outbox_claim(integer)"][0]  # the app role could
            prepare_roles(connection, get_settings())  # what `db upgrade` does first
            migrate(connection, "head")
            assert function_grants(connection) == fresh
    finally:
        engine.dispose()
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
