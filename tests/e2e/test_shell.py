"""Browser journey: landing page -> demo sign-in -> staff shell with service health."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import Page, expect

from backend.core.settings import get_settings

pytestmark = pytest.mark.e2e


def test_landing_sign_in_and_see_health_of_each_service(page: Page, app_url: str):
    page.goto(app_url)
    expect(page.locator("#landing-title")).to_contain_text("Run every branch")
    page.locator("#landing-sign-in").click()
    expect(page).to_have_url(re.compile(r"/signin/?$"), timeout=15000)

    settings = get_settings()
    page.locator("#email").fill(settings.DEMO_OWNER_EMAIL)
    page.locator("#password").fill("not the password")
    page.locator("#sign-in-submit").click()
    expect(page.locator("#sign-in-error")).to_contain_text("E-mail or password is not right")

    page.locator("#password").fill(settings.DEMO_OWNER_PASSWORD)
    page.locator("#sign-in-submit").click()
    expect(page).to_have_url(re.compile(r"/dashboard/?$"), timeout=15000)
    expect(page.locator("#header-tenant")).to_have_text("Demo Pharmacy")

    cards = page.locator(".service-health")
    expect(cards).to_have_count(3, timeout=15000)
    for name in ("database", "redis", "worker"):
        card = page.locator(f".service-health[data-service='{name}']")
        expect(card).to_contain_text("ok", timeout=20000)
    expect(page.locator("#health-summary")).to_have_text("All services up")


def test_dashboard_without_sign_in_goes_to_sign_in(page: Page, app_url: str):
    page.goto(f"{app_url}/dashboard")
    expect(page).to_have_url(re.compile(r"/signin/?$"), timeout=15000)


def test_rest_health_and_openapi(app_url: str):
    with urllib.request.urlopen(f"{app_url}/api/v1/health", timeout=10) as response:
        body = json.load(response)
    assert body["status"] == "ok"
    assert set(body["services"]) == {"database", "redis", "worker"}
    with urllib.request.urlopen(f"{app_url}/api/v1/openapi.json", timeout=10) as response:
        spec = json.load(response)
    assert "/api/v1/health" in spec["paths"]
    with urllib.request.urlopen(f"{app_url}/api/v1/docs", timeout=10) as response:
        assert b"swagger" in response.read().lower()


def test_pages_and_api_carry_a_content_security_policy(app_url: str):
    for path in ("/", "/signin", "/api/v1/health"):
        try:
            response = urllib.request.urlopen(f"{app_url}{path}", timeout=10)
        except urllib.error.HTTPError as refused:  # the health answer may be 503 while a service warms up
            response = refused
        policy = response.headers["content-security-policy"]
        assert "img-src 'self' data: blob:" in policy and "connect-src 'self'" in policy, path
        assert response.headers["x-frame-options"] == "DENY"


def test_event_socket_refuses_other_origins(app_url: str):
    """Reflex's socket accepts any origin by default; ours only APP_URL's."""
    import httpx

    def handshake(origin: str) -> int:
        headers = {
            "Origin": origin,
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        }
        with httpx.Client(timeout=10) as client:
            response = client.get(f"{app_url}/_event/?EIO=4&transport=websocket", headers=headers)
            return response.status_code

    assert handshake("http://evil.example") in (400, 403)
    assert handshake(app_url) == 101
    with urllib.request.urlopen(f"{app_url}/api/v1/health", timeout=10) as response:
        assert len(response.headers["x-request-id"]) >= 16
