"""The REST reference page loads Swagger UI from the app itself: nothing from another host."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from backend.api import create_api


def test_docs_page_names_only_this_apps_assets():
    client = TestClient(create_api())
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "SwaggerUIBundle" in page.text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert urls and all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    assert "://" not in page.text  # no absolute address at all: no CDN, no other host
    assert '"validatorUrl": null' in page.text  # no spec sent to validator.swagger.io for a badge
    for url in urls:
        if url.startswith("/api/v1/docs/assets/"):
            asset = client.get(url)
            assert asset.status_code == 200 and len(asset.content) > 10_000, url
    assert client.get("/api/v1/docs/assets/../../api.py").status_code == 404
