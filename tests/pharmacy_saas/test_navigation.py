"""The staff menu offers exactly the pages the server opens for the role."""

from __future__ import annotations

import pytest

from components.layout import NAV_ITEMS
from pharmacy_saas.state.dashboard import PAGE_PERMISSIONS
from tenants.roles import STAFF_ROLES, role_has


def on_load_permissions() -> dict[str, str]:
    """Each page's route -> the permission its on_load handler checks on the server."""
    from pharmacy_saas.pharmacy_saas import app

    found = {}
    for route, page in app._unevaluated_pages.items():
        handler = page.on_load
        fn = getattr(handler, "fn", None)
        permission = getattr(fn, "required_permission", None)
        if permission:
            found["/" + route.strip("/")] = permission
    return found


def test_every_menu_item_has_the_permission_its_page_checks():
    pages = on_load_permissions()
    assert len(pages) > 10
    for _, _, route in NAV_ITEMS:
        assert route in PAGE_PERMISSIONS, f"{route} is in the menu but PAGE_PERMISSIONS does not say who may open it"
        assert PAGE_PERMISSIONS[route] == pages[route], route


@pytest.mark.parametrize(
    ("role", "sees", "does_not_see"),
    [
        ("cashier", {"/dashboard", "/pos", "/inventory", "/account"}, {"/reports", "/staff", "/settings", "/patients"}),
        ("manager", {"/reports", "/staff", "/audit", "/patients"}, {"/settings"}),
        ("owner", set(PAGE_PERMISSIONS), set()),
    ],
)
def test_menus_per_role(role, sees, does_not_see):
    menu = {route for route, permission in PAGE_PERMISSIONS.items() if role_has(role, permission)}
    assert sees <= menu and not (does_not_see & menu)


def test_every_staff_role_has_a_menu():
    for role in STAFF_ROLES:
        assert "/dashboard" in {r for r, p in PAGE_PERMISSIONS.items() if role_has(role, p)}
