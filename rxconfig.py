"""Reflex configuration, from the same environment variables as backend.core.settings.

The backend URL is baked into the frontend build, so APP_URL is the one canonical address:
the socket accepts only that origin, and links in e-mails are built from it.
"""

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
