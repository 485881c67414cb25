"""Every Reflex event handler declares a permission (or is explicitly public), and guarded
handlers refuse, on the server, every role the permission matrix does not list."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import pkgutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import pharmacy_saas.state
from pharmacy_saas.state.base import PUBLIC, SessionState
from tenants.context import TenantContext
from tenants.roles import PERMISSIONS, STAFF_ROLES, require

MISSING = object()

# Import every state module, so a new one cannot escape the walk.
for module in pkgutil.iter_modules(pharmacy_saas.state.__path__):
    importlib.import_module(f"pharmacy_saas.state.{module.name}")


def our_states() -> list[type]:
    found, stack = [], [SessionState]
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


def handlers() -> list[tuple[str, object]]:
    result = []
    for cls in our_states():
        for name, handler in cls.event_handlers.items():
            fn = getattr(handler, "fn", handler)
            if fn.__qualname__.split(".")[0] != cls.__name__ and name in cls.__dict__:
                continue
            result.append((f"{cls.__name__}.{name}", fn))
    return result


def test_every_handler_declares_a_permission_or_is_public():
    found = handlers()
    assert len(found) > 10
    undeclared = [name for name, fn in found if getattr(fn, "required_permission", MISSING) is MISSING]
    assert undeclared == []
    unknown = [name for name, fn in found if getattr(fn, "required_permission", None) not in (PUBLIC, *PERMISSIONS)]
    assert unknown == []


class ActingAs:
    """Stands in for a state instance: authorize() applies the real permission matrix to a role."""

    def __init__(self, role: str) -> None:
        self.role = role

    def _sign_in_route(self) -> str:
        return "/signin"

    async def _authorize(self, permission: str, *, remember: bool = True) -> TenantContext:
        return require(TenantContext(tenant_id=uuid.uuid4(), user_id=uuid.uuid4(), role=self.role), permission)


def run(coroutine):  # type: ignore[no-untyped-def]
    """Run a handler on its own loop in a thread (the browser tests keep a loop running here)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


GUARDED = [(name, fn) for name, fn in handlers() if getattr(fn, "required_permission", PUBLIC) is not PUBLIC]


async def _first(events: Any) -> Any:
    return await events.__anext__()


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_guarded_handlers_refuse_roles_without_the_permission(role):
    refused = []
    for name, fn in GUARDED:
        if role in PERMISSIONS[fn.required_permission]:  # type: ignore[attr-defined]
            continue
        # ActingAs has none of the state's methods: had the body run, this would raise.
        called = fn(ActingAs(role))  # type: ignore[operator]
        outcome = run(_first(called) if inspect.isasyncgen(called) else called)  # a polling handler yields
        assert outcome is not None, name
        refused.append(name)
    if role == "cashier":
        assert {"SettingsState.load", "SettingsState.create", "StaffState.send_invitation"} <= set(refused)
    if role == "cashier":
        assert {"QueueState.load", "IntakeState.receive", "RxState.verify"} <= set(refused)
        assert {"EmergencySupplyState.load", "EmergencySupplyState.record"} <= set(refused)
    if role == "technician":  # enters, fills and refills prescriptions; only a pharmacist verifies and checks
        # them, transfers them and returns a fill to stock
        assert {"RxState.verify", "RxState.return_to_entry", "FillState.check"} <= set(refused)
        transfers_and_returns = {
            "RefillState.transfer_out",
            "RefillState.transfer_to_branch",
            "IntakeState.receive_transfer",
            "UnclaimedState.return_to_stock",
            "RefillState.answer_renewal",  # the prescriber's answer to a renewal request
        }
        assert transfers_and_returns <= set(refused)
        assert "RxState.save" not in refused and "FillState.fill" not in refused
        assert "RefillState.request_refill" not in refused
    if role == "owner":  # an owner may do everything in a chain, and nothing in the platform console,
        # except a licensed pharmacist's own acts (an owner who is a pharmacist works with that role)
        pharmacist_only = {
            "RxState.verify",
            "RxState.return_to_entry",
            "FillState.check",
            "ControlledState.sign_inventory",  # the biennial inventory is certified by a pharmacist
            "RefillState.transfer_out",
            "RefillState.transfer_to_branch",
            "IntakeState.receive_transfer",
            "UnclaimedState.return_to_stock",
            "RefillState.answer_renewal",  # the prescriber's answer is taken by a pharmacist
        }
        assert pharmacist_only <= set(refused)
        # the emergency supply is the pharmacist's own signed record, from the form's first load
        assert {"EmergencySupplyState.load", "EmergencySupplyState.record"} <= set(refused)
        assert all(
            name.startswith(("PlatformState.", "EmergencySupplyState.")) for name in set(refused) - pharmacist_only
        )
