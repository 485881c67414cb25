"""The REST API's reference page (Swagger UI) with its script and styles served by the app itself.

FastAPI's built-in docs page loads Swagger UI from a CDN, which the Content-Security-Policy blocks
(`script-src 'self'`) and which an offline installation cannot reach, so /api/v1/docs was blank.
The files in `swagger-ui/` are swagger-ui-dist from the npm registry, unchanged (Apache-2.0, its
LICENSE and NOTICE beside them); to upgrade, replace them with a newer release's
`swagger-ui-bundle.js` and `swagger-ui.css` and bump SWAGGER_UI_VERSION, which also busts caches.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

SWAGGER_UI_VERSION = "5.35.0"
ASSETS = Path(__file__).with_name("swagger-ui")


def mount_docs(api: FastAPI, prefix: str) -> None:
    """Serve the docs page at `{prefix}/docs` and its assets under `{prefix}/docs/assets/`.

    Public, like the OpenAPI document it renders: both describe the API, and every operation they
    list still needs a token. Added as plain routes (as FastAPI adds its own docs), not API routes.
    """
    assets = f"{prefix}/docs/assets"

    async def docs(_: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=api.openapi_url or f"{prefix}/openapi.json",
            title=f"{api.title} · reference",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js?v={SWAGGER_UI_VERSION}",
            swagger_css_url=f"{assets}/swagger-ui.css?v={SWAGGER_UI_VERSION}",
            swagger_favicon_url="/favicon.ico",
            # Swagger UI would otherwise send the spec's address to validator.swagger.io for a badge.
            swagger_ui_parameters={"validatorUrl": None},
        )

    api.mount(assets, StaticFiles(directory=ASSETS), name="docs-assets")
    api.add_route(f"{prefix}/docs", docs, include_in_schema=False)
