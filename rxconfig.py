"""Reflex configuration, from the same environment variables as backend.core.settings.

The backend URL is baked into the frontend build, so APP_URL is the one canonical address:
the socket accepts only that origin, and links in e-mails are built from it.
"""

import functools
import inspect
import os
from urllib.parse import urlsplit

import reflex as rx

APP_URL = os.environ.get("APP_URL", "http://localhost:3000").rstrip("/")
_parts = urlsplit(APP_URL)
APP_PORT = int(os.environ.get("APP_PORT") or _parts.port or (443 if _parts.scheme == "https" else 80))

config = rx.Config(
    app_name="pharmacy_saas",
    api_url=APP_URL,
    deploy_url=APP_URL,
    frontend_port=APP_PORT,
    backend_port=APP_PORT,
    backend_host=os.environ.get("APP_HOST", "127.0.0.1"),
    # With a Redis URL Reflex keeps per-tab state in Redis, so several app processes can serve it.
    redis_url=os.environ.get("REDIS_URL") or None,
    cors_allowed_origins=[APP_URL],
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[
        rx.plugins.RadixThemesPlugin(theme=rx.theme(appearance="light", accent_color="teal", radius="medium")),
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
    trusted_proxy_hops=int(os.environ.get("TRUSTED_PROXY_HOPS", "0")),
)


def _respawn_failed_app_workers() -> None:
    """Make the app server start a new worker when one dies, instead of stopping the whole app.

    `reflex run --env prod` builds granian's server itself and passes only the worker count and log
    level, so granian's own `GRANIAN_RESPAWN_FAILED_WORKERS` (read by granian's CLI only) never reaches
    it, and by default one worker killed by the kernel's out-of-memory killer stops the app for every
    till. This module is imported by the Reflex process before it builds the server, so the default is
    changed here: on unless `GRANIAN_RESPAWN_FAILED_WORKERS=false`. Granian still stops (and the
    process manager restarts it) when a respawned worker dies again within 5.5 s, a crash loop.
    """
    try:
        from granian.server.common import AbstractServer
    except ImportError:  # another server (uvicorn) runs the app; nothing to change
        return
    original = AbstractServer.__init__
    if getattr(original, "respawns_failed_workers", False):
        return  # rxconfig imported twice in one process
    signature = inspect.signature(original)

    @functools.wraps(original)
    def init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        given = signature.bind_partial(self, *args, **kwargs).arguments
        if "respawn_failed_workers" not in given:
            wanted = os.environ.get("GRANIAN_RESPAWN_FAILED_WORKERS", "true").strip().lower()
            kwargs["respawn_failed_workers"] = wanted not in ("0", "false", "no", "off")
        original(self, *args, **kwargs)

    init.respawns_failed_workers = True  # type: ignore[attr-defined]
    AbstractServer.__init__ = init  # type: ignore[method-assign]


_respawn_failed_app_workers()
