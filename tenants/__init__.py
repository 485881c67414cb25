"""The tenancy core: who a request acts for, and the one choke point that scopes the database to them."""

from tenants.context import TenantContext
from tenants.session import platform_session, tenant_session

__all__ = ["TenantContext", "platform_session", "tenant_session"]
