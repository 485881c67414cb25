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

import logging
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any

from backend.core.live import Event, EventKind, subscribe
from backend.core.logging import log_event
from tenants.context import TenantContext

log = logging.getLogger(__name__)

# (client token, page path) -> the id of the newest watcher: an older one of the same tab and page stops.
_newest: dict[tuple[str, str], str] = {}


def _connected(sid: str) -> bool:
    """Whether the websocket the page was loaded on is still connected to this server (True when it cannot
    be told). A full navigation or a closed tab ends that socket; the running app is looked up where Reflex
    imported it (no re-import on each heartbeat)."""
    from reflex.config import get_config

    app = getattr(sys.modules.get(get_config().module), "app", None)
    namespace = getattr(app, "event_namespace", None)
    return namespace is None or not sid or sid in namespace.sid_to_token


async def live_events(state: Any, ctx: TenantContext, kinds: set[EventKind], path: str) -> AsyncIterator[Event]:
    """The events of `ctx`'s chain that this page (`path`, in the background handler of `state`) shows.

    Yields each event (bursts coalesced) until the tab leaves `path`, disconnects or a newer watcher of
    the same tab and page takes over.
    """
    async with state:
        token = state.router.session.client_token
        sid = state.router.session.session_id
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
        if _newest.get(key) != me or not _connected(sid):
            return False
        async with state:
            return bool((state.router.url.path.rstrip("/") or "/") == path)

    log_event(log, "live.watching", page=path)
    try:
        async for event in subscribe(ctx.tenant_id, wanted, keep_going, name=f"live:{path}"):
            log_event(log, "live.event", page=path, kind=str(event.kind))
            yield event
    finally:
        if _newest.get(key) == me:
            del _newest[key]
        log_event(log, "live.stopped", page=path)
