"""Roles and the permission matrix: the one place that says who may do what.

Every Reflex event handler, REST endpoint, CLI command and job declares a permission from
PERMISSIONS and checks it on the server with `require()`; a browser never says what it may do.
"""

from __future__ import annotations

from backend.core.errors import AuthenticationRequired, PermissionDenied
from tenants.context import TenantContext

OWNER, MANAGER, PHARMACIST, TECHNICIAN, CASHIER = (
    "owner",
    "manager",
    "pharmacist",
    "technician",
    "cashier",
)
STAFF_ROLES = (OWNER, MANAGER, PHARMACIST, TECHNICIAN, CASHIER)
SYSTEM = "system"  # background work done on a tenant's behalf

ALL_STAFF = frozenset(STAFF_ROLES)

# permission -> roles that hold it. Grow this table as features land; never check roles elsewhere.
PERMISSIONS: dict[str, frozenset[str]] = {
    "dashboard.view": ALL_STAFF,
    "health.view": ALL_STAFF,
    "audit.view": frozenset({OWNER, MANAGER}),
    "jobs.enqueue": frozenset({OWNER, MANAGER, PHARMACIST, SYSTEM}),
    "tenant.settings": frozenset({OWNER}),
}


def role_has(role: str | None, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"undeclared permission {permission!r}")
    return role is not None and role in PERMISSIONS[permission]


def require(ctx: TenantContext | None, permission: str) -> TenantContext:
    """Refuse unless the context's role holds `permission`; returns the context for chaining."""
    if ctx is None or ctx.role is None:
        raise AuthenticationRequired("Please sign in.")
    if not role_has(ctx.role, permission):
        raise PermissionDenied(f"Your role ({ctx.role}) may not do this ({permission}).")
    return ctx
