"""Helpers that make a migration's tenancy rules one line per table.

Used only by alembic migrations (run as the owner role).
"""

from __future__ import annotations

from collections.abc import Callable

# The policy expression. NULLIF(..., '') makes an unset or reset tenant mean "no rows" instead of
# an error: on a fresh or pooled connection current_setting returns NULL or ''.
CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
CURRENT_USER_ID = "NULLIF(current_setting('app.user_id', true), '')::uuid"


def tenant_rls_sql(table: str, column: str = "tenant_id") -> list[str]:
    """ENABLE + FORCE row-level security with the single tenant-isolation policy."""
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_isolation ON {table} "
        f"USING ({column} = {CURRENT_TENANT}) WITH CHECK ({column} = {CURRENT_TENANT})",
    ]


def enable_tenant_rls(execute: Callable[[str], object], table: str, column: str = "tenant_id") -> None:
    """Apply `tenant_rls_sql` through alembic's `op.execute`."""
    for statement in tenant_rls_sql(table, column):
        execute(statement)
