"""Typed domain errors, mapped once to HTTP status codes and user-visible messages."""

from __future__ import annotations


class PharmacyError(Exception):
    """Base of every error the product expects and explains to a person."""

    http_status = 400
    code = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ConfigurationError(PharmacyError):
    """The process is misconfigured; the message says which variable to set."""

    http_status = 500
    code = "configuration"


class ServiceUnavailable(PharmacyError):
    """A required service (database, Redis) cannot be reached."""

    http_status = 503
    code = "unavailable"


class ValidationFailed(PharmacyError):
    http_status = 422
    code = "invalid"


class NotFound(PharmacyError):
    http_status = 404
    code = "not_found"


class Conflict(PharmacyError):
    http_status = 409
    code = "conflict"


class ConcurrentChange(Conflict):
    """A unit of work kept losing races with concurrent ones (see tenants.session.run_in_tenant)."""

    code = "concurrent_change"


class AuthenticationRequired(PharmacyError):
    http_status = 401
    code = "unauthenticated"


class PermissionDenied(PharmacyError):
    http_status = 403
    code = "forbidden"


class ChainSuspended(PermissionDenied):
    """The member's pharmacy chain is suspended: every request is refused until it is reactivated.

    Its own type so the adapters can send the person to the page that explains why (the Reflex app
    redirects to /suspended) without comparing message texts; REST still answers it as any 403.
    """


class TenantRequired(PharmacyError):
    """Tenant-owned data was requested without a tenant context (fail closed)."""

    http_status = 400
    code = "tenant_required"
