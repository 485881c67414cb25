"""The page's side of "Notify me" (staff: My account; customers: My prescriptions), shared by both states.

The browser subscribes with the Push API in assets/push.js (`window.pharmacyPush.subscribe`), which answers
the subscription as JSON (or "error:<why>"); the state's handler passes that answer to `store`, which keeps it
for the signed-in person only (`backend.notifications.push.add_device` takes the owner from the context).
"""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

from backend.core.errors import PharmacyError
from backend.notifications.push import add_device, my_devices, unsubscribe, vapid_public_key
from pharmacy_saas.state.base import run_service, transact
from tenants.context import TenantContext

BROWSER_ERRORS = {
    "denied": "Notifications are blocked for this site. Allow them in your browser's site settings, then try again.",
    "unsupported": "This browser cannot receive notifications here (on an iPhone, add this app to your Home Screen "
    "first).",
    "not-configured": "Notifications are not set up for this pharmacy yet.",
}
FAILED = "This device could not be signed up for notifications. Try again, or use another browser."


async def ask_browser(callback: Any) -> Any:
    """The script that makes the browser subscribe; its answer goes to `callback` (a state's event)."""
    key = await run_service(vapid_public_key)
    code = f"window.pharmacyPush ? window.pharmacyPush.subscribe({json.dumps(key)}) : 'error:unsupported'"
    return rx.call_script(code, callback=callback)


async def store(ctx: TenantContext, answer: object) -> str:
    """Keep the browser's answer for the signed-in person; returns '' or the error to show."""
    text = str(answer or "")
    if text.startswith("error:") or not text:
        return BROWSER_ERRORS.get(text.removeprefix("error:"), FAILED)
    try:
        given = json.loads(text)
    except ValueError:
        return FAILED
    if not isinstance(given, dict):
        return FAILED
    try:
        await transact(ctx, add_device, given.get("subscription"), str(given.get("device") or "")[:80])
    except PharmacyError as exc:
        return exc.message
    return ""


async def devices(ctx: TenantContext) -> list[dict[str, str]]:
    return [
        {"id": d.id, "device": d.device or "Browser", "since": d.created_at.strftime("%d %b %Y")}
        for d in await transact(ctx, my_devices)
    ]


async def forget(ctx: TenantContext, subscription_id: str) -> None:
    await transact(ctx, unsubscribe, str(subscription_id))
