"""The session choke point on real connections: one round trip to begin, and a connection the
server dropped is replaced without the user noticing."""

from __future__ import annotations

from sqlalchemy import text

from backend.core import database


def backend_pid() -> int:
    with database.open_session("app") as session:
        return session.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_pooled_connection_the_server_dropped_is_replaced_transparently():
    database.dispose_engines()  # a pool holding one connection: a checkout always gets that one back
    first = backend_pid()
    assert backend_pid() == first  # the pool hands the same connection back
    with database.owner_engine().connect() as owner:
        assert owner.execute(text("SELECT pg_terminate_backend(:p)"), {"p": first}).scalar_one()
    # The pooled connection is dead now; no ping is spent on checkout, the BEGIN finds out and retries.
    replaced = backend_pid()
    assert replaced != first


def test_the_transaction_is_scoped_to_the_tenant_and_committed():
    with database.open_session("app", settings={"app.tenant_id": ""}) as session:
        assert session.execute(text("SELECT current_setting('app.tenant_id', true)")).scalar_one() == ""
        assert session.execute(text("SELECT now() = statement_timestamp()")).scalar_one() is False  # in a txn
    with database.open_session("app") as session:
        assert session.execute(text("SELECT current_user")).scalar_one() == database.role_name("app")
