"""What a refused event does: the suspended chain is recognised by its error type, not its wording."""

from __future__ import annotations

from backend.accounts.sessions import SUSPENDED_MESSAGE
from backend.core.errors import ChainSuspended, PermissionDenied
from pharmacy_saas import routes
from pharmacy_saas.state.base import refusal


def redirects_to(event: object) -> str | None:
    """The path an `rx.redirect` event goes to (None for any other event)."""
    for name, value in getattr(event, "args", ()):
        if str(name) == "path":
            return getattr(value, "_var_value", None)
    return None


def test_a_suspended_chain_goes_to_the_suspended_page_whatever_the_wording():
    assert redirects_to(refusal(ChainSuspended("Any words at all."))) == routes.SUSPENDED
    # The same text on a plain refusal is just a refusal: nothing compares messages any more.
    assert redirects_to(refusal(PermissionDenied(SUSPENDED_MESSAGE))) is None
    assert redirects_to(refusal(PermissionDenied("No."), leave_page=False)) is None
