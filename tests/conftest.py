"""Test harness: real PostgreSQL (as the restricted app role), real Redis, real RQ workers.

The schema is migrated once into a template database and cloned for this test process.
Unit and integration tests run inside one transaction that is rolled back; worker and browser
tests cannot see uncommitted rows, so they use freshly committed tenants with unique slugs.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy

import psycopg
import pytest
from sqlalchemy import Connection

# Settings are read from the environment: fix the test values before any backend import.
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789")
# The master key of field encryption (base64 of 32 bytes); never a production key.
os.environ.setdefault("DATA_ENCRYPTION_KEY", "dGVzdC1kYXRhLWtleS1ub3QtZm9yLXByb2R1Y3Rpb24=")
os.environ["ENVIRONMENT"] = "test"
os.environ.setdefault("LOG_JSON", "false")
# The in-process OIDC provider listens on 127.0.0.1: the only private host SSO may fetch from in tests.
os.environ["SSO_ALLOWED_HOSTS"] = "127.0.0.1"
# The chains' own SMTP servers and webhooks of the tests are local stand-ins: the one private address allowed
# (tests/backend/notifications/test_channels.py proves the refusal without it).
os.environ["NOTIFY_ALLOW_PRIVATE_HOSTS"] = "127.0.0.1"

from backend.core import database, dbadmin  # noqa: E402
from backend.core.passwords import hash_password  # noqa: E402
from backend.core.settings import reset_settings_cache  # noqa: E402
from backend.job_handlers import register_job_handlers  # noqa: E402
from tenants.provisioning import NewBranch, NewChain, ProvisionedTenant, provision_tenant  # noqa: E402

# The services under test enqueue jobs, as the app and the worker do after registering the handlers.
register_job_handlers()

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
RUN_ID = f"{os.getpid()}"
# One argon2 hash for every test user: hashing is deliberately slow.
TEST_PASSWORD = "correct horse battery staple 42"
_PASSWORD_HASH = hash_password(TEST_PASSWORD)


def _server_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.exit("TEST_DATABASE_URL is not set: run the suite with `make test`", returncode=2)
    return url.replace("postgresql+psycopg://", "postgresql://")


def _db_url(server_url: str, name: str) -> str:
    return server_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session", autouse=True)
def test_database() -> Iterator[str]:
    """Migrate a template database once, clone it for this process, point every engine at it."""
    server = _server_url()
    template, clone = f"pharmacy_tmpl_{RUN_ID}", f"pharmacy_test_{WORKER}_{RUN_ID}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{clone}"')
        conn.execute(f'DROP DATABASE IF EXISTS "{template}"')
        conn.execute(f'CREATE DATABASE "{template}"')
    os.environ["DATABASE_URL"] = _db_url(server, template)
    os.environ.pop("APP_DATABASE_URL", None)
    os.environ.pop("PLATFORM_DATABASE_URL", None)
    reset_settings_cache()
    dbadmin.upgrade()
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{clone}" TEMPLATE "{template}"')
    os.environ["DATABASE_URL"] = _db_url(server, clone)
    reset_settings_cache()
    database.dispose_engines()
    _select_redis_database()
    yield os.environ["DATABASE_URL"]
    database.dispose_engines()
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{clone}" WITH (FORCE)')
        conn.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')


def _select_redis_database() -> None:
    """Each test process gets its own Redis database number (1-15, by process id, so two runs on one
    machine rarely share one), emptied first: the run's queue and worker registry are its own."""
    import redis

    base = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0]
    number = 1 + os.getpid() % 15
    os.environ["REDIS_URL"] = f"{base}/{number}"
    reset_settings_cache()
    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()


class MailSink:
    """A real SMTP server in the test process; apprise in the app and workers sends to it."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=default_policy))  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    @staticmethod
    def text(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        return part.get_content() if part else ""


@pytest.fixture(scope="session", autouse=True)
def mail_sink() -> Iterator[MailSink]:
    """Started before any app or worker process, which inherit MAIL_URL from the environment."""
    from aiosmtpd.controller import Controller

    from devtools.services import free_port

    sink = MailSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    os.environ["MAIL_URL"] = f"mailto://127.0.0.1:{port}?from=no-reply@pharmacy.test&mode=insecure"
    reset_settings_cache()
    yield sink
    controller.stop()


@pytest.fixture
def db() -> Iterator[Connection]:
    """One owner connection whose transaction is rolled back after the test.

    Every session the code under test opens joins it as a savepoint and switches to the app
    (or platform) role with SET LOCAL ROLE, so RLS applies exactly as in production.
    """
    connection = database.owner_engine().connect()
    transaction = connection.begin()
    try:
        with database.bind_to_connection(connection):
            yield connection
    finally:
        transaction.rollback()
        connection.close()


def new_chain(slug_prefix: str = "chain", *, branches: int = 1, time_zone: str = "UTC") -> NewChain:
    suffix = uuid.uuid4().hex[:8]
    return NewChain(
        name=f"{slug_prefix.title()} Pharmacy {suffix}",
        slug=f"{slug_prefix}-{suffix}",
        owner_email=f"owner-{suffix}@{slug_prefix}.example",
        owner_name=f"Owner {suffix}",
        owner_password_hash=_PASSWORD_HASH,
        branches=tuple(
            NewBranch(name=f"Branch {i + 1}", code=f"B{i + 1}", time_zone=time_zone) for i in range(branches)
        ),
    )


@pytest.fixture
def make_tenant(db: Connection) -> Callable[..., ProvisionedTenant]:
    """Provision a chain inside the test's rolled-back transaction."""

    def make(slug_prefix: str = "chain", **kwargs: object) -> ProvisionedTenant:
        return provision_tenant(
            new_chain(slug_prefix, **kwargs),
            actor="test",  # type: ignore[arg-type]
            reason="test factory",
        )

    return make


@pytest.fixture
def committed_tenant() -> Callable[..., tuple[ProvisionedTenant, NewChain]]:
    """Provision a chain and commit it (for worker and browser tests)."""

    def make(slug_prefix: str = "live", **kwargs: object) -> tuple[ProvisionedTenant, NewChain]:
        chain = new_chain(slug_prefix, **kwargs)  # type: ignore[arg-type]
        return provision_tenant(chain, actor="test", reason="test factory (committed)"), chain

    return make


@pytest.fixture
def oidc_provider():
    from tests.oidc_provider import Provider

    provider = Provider().start()
    yield provider
    provider.stop()
