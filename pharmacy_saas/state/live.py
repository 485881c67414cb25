"""Live staff screens (issue 18 §5): a page that is open reloads when its chain's events say it changed.

A page's on_load chains its `watch_live` background event, which calls `live_events` here: one Redis
subscription to the chain of the signed-in member (the tenant comes from the server's session, never from the
browser), keeping the events of the kinds the page shows, at branches the member may see. For each, the page
asks for its normal refresh event, which reloads through the domain with a freshly authorized context (so a
member whose role or branches changed meanwhile sees what they may see now). The watcher never writes the
state itself: a copy written back from a background task could undo what the person did meanwhile.

A watcher ends when its tab leaves the page or closes: Reflex cancels an unfinished page-load chain on the
next navigation and on disconnect, and the watcher checks for itself at least every HEARTBEAT_SECONDS (the
socket is gone, the page's path changed, or a newer watcher of the same tab and page started), so a tab holds
at most one subscription per page however often the page is loaded.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from backend.core.live import Event, EventKind, subscribe
from tenants.context import TenantContext

# (client token, page path) -> the id of the newest watcher: an older one of the same tab and page stops.
_newest: dict[tuple[str, str], str] = {}


def _connected(token: str) -> bool:
    """Whether the tab's websocket is still connected to this server (True when it cannot be told)."""
    try:
        from reflex.utils.prerequisites import get_and_validate_app

        namespace = get_and_validate_app().app.event_namespace
    except Exception:  # noqa: BLE001 - not inside a running app (unit tests): the other checks still apply
        return True
    return namespace is None or token in namespace.token_to_sid


async def live_events(state: Any, ctx: TenantContext, kinds: set[EventKind], path: str) -> AsyncIterator[Event]:
    """The events of `ctx`'s chain that this page (`path`, in the background handler of `state`) shows.

    Yields each event (bursts coalesced) until the tab leaves `path`, disconnects or a newer watcher of
    the same tab and page takes over.
    """
    async with state:
        token = state.router.session.client_token
    key = (token, path)
    me = uuid.uuid4().hex
    _newest[key] = me

    def wanted(event: Event) -> bool:
        if event.kind not in kinds:
            return False
        try:
            return ctx.can_see_branch(uuid.UUID(event.branch_id))
        except ValueError:
            return False

    async def keep_going() -> bool:
        if _newest.get(key) != me or not _connected(token):
            return False
        async with state:
            return bool((state.router.url.path.rstrip("/") or "/") == path)

    try:
        async for event in subscribe(ctx.tenant_id, wanted, keep_going):
            yield event
    finally:
        if _newest.get(key) == me:
            del _newest[key]
