"""A web push service stand-in (what FCM or Mozilla's autopush do for a browser), on a local port.

`subscribe()` plays the browser: a fresh P-256 key pair and auth secret, and an endpoint on this server; it
answers the `PushSubscription.toJSON()` a browser would give the page. A POST to an endpoint is checked as a
push service checks it (RFC 8292): `Authorization: vapid t=<JWT>, k=<key>`, the JWT's ES256 signature
verified with joserfc (not the app's code) against `k`, `k` the VAPID public key the test expects, `aud` this
server's origin, `exp` in the future and at most 24 hours ahead; then `Content-Encoding: aes128gcm` and the
body decrypted with the subscription's private key (RFC 8291), as the browser would. Accepted: 201 and the
decrypted message kept in `received`; refused: 401/403/400 with the reason kept in `refused`. An endpoint
marked `expire()` answers 410 Gone (the browser unsubscribed), an unknown one 404.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from backend.core.settings import reset_settings_cache
from backend.notifications import webpush
from devtools.services import free_port


@dataclass
class Browser:
    token: str
    private: str  # the p256dh private key: only the browser can read its messages
    public: str
    auth: str
    expired: bool = False
    redirect: str = ""  # answer 307 to this address instead (a push service must not be able to steer us)


@dataclass
class PushService:
    vapid_public: str  # the application server key the browsers subscribed with
    port: int = field(default_factory=free_port)
    browsers: dict[str, Browser] = field(default_factory=dict)
    received: list[dict[str, Any]] = field(default_factory=list)  # {"token", "message"} per accepted push
    refused: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)  # the app's settings for it (the browser tests')
    _server: ThreadingHTTPServer | None = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def subscribe(self) -> dict[str, Any]:
        """What `pushManager.subscribe(...)` then `.toJSON()` gives a page."""
        private, public = webpush.new_key_pair()
        browser = Browser(secrets.token_urlsafe(12), private, public, webpush.b64url(secrets.token_bytes(16)))
        self.browsers[browser.token] = browser
        return {"endpoint": f"{self.origin}/push/{browser.token}", "expirationTime": None,
                "keys": {"p256dh": public, "auth": browser.auth}}  # fmt: skip

    def expire(self, subscription: dict[str, Any]) -> None:
        self.browsers[subscription["endpoint"].rsplit("/", 1)[1]].expired = True

    def messages_to(self, subscription: dict[str, Any]) -> list[dict[str, Any]]:
        token = subscription["endpoint"].rsplit("/", 1)[1]
        return [r["message"] for r in self.received if r["token"] == token]

    def check(self, token: str, headers: Any, body: bytes) -> tuple[int, str]:
        browser = self.browsers.get(token)
        if browser is None:
            return 404, "no such subscription"
        if browser.expired:
            return 410, "subscription expired"
        if browser.redirect:
            return 307, browser.redirect
        scheme, _, params = str(headers.get("Authorization") or "").partition(" ")
        parts = dict(p.strip().split("=", 1) for p in params.split(",") if "=" in p)
        if scheme.lower() != "vapid" or "t" not in parts or "k" not in parts:
            return 401, "no VAPID authorization"
        if parts["k"] != self.vapid_public:
            return 403, "not the key this subscription was made with"
        point = webpush.unb64url(parts["k"])
        key = ECKey.import_key({"kty": "EC", "crv": "P-256", "x": webpush.b64url(point[1:33]),
                                "y": webpush.b64url(point[33:65])})  # fmt: skip
        try:
            claims = jwt.decode(parts["t"], key, algorithms=["ES256"]).claims
        except (JoseError, ValueError) as exc:
            return 401, f"bad VAPID signature ({type(exc).__name__})"
        now = time.time()
        if claims.get("aud") != self.origin:
            return 401, f"aud is {claims.get('aud')!r}, not {self.origin!r}"
        if not isinstance(claims.get("exp"), int) or not now < claims["exp"] <= now + 24 * 3600:
            return 401, "exp missing, past, or more than 24 hours ahead"
        if headers.get("Content-Encoding") != "aes128gcm" or not headers.get("TTL"):
            return 400, "not an aes128gcm message with a TTL"
        try:
            message = json.loads(webpush.decrypt(body, browser.private, browser.auth))
        except Exception as exc:  # noqa: BLE001 - any decryption failure is the sender's fault
            return 400, f"cannot decrypt ({type(exc).__name__})"
        self.received.append({"token": token, "message": message})
        return 201, ""

    def start(self) -> PushService:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                token = self.path.rsplit("/", 1)[-1] if self.path.startswith("/push/") else ""
                status, reason = service.check(token, self.headers, body)
                if status >= 400:
                    service.refused.append(reason)
                self.send_response(status)
                if status == 307:
                    self.send_header("Location", reason)
                self.send_header("Content-Length", str(len(reason.encode())))
                self.end_headers()
                self.wfile.write(reason.encode())

            def log_message(self, *args: object) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def configured_push_service(monkeypatch: pytest.MonkeyPatch, private: str, public: str) -> Iterator[PushService]:
    """A fixture's body: the stand-in running, and the app (and the workers it starts) configured with the VAPID
    pair and allowed to send to 127.0.0.1."""
    service = PushService(public).start()
    monkeypatch.setenv("VAPID_PRIVATE_KEY", private)
    monkeypatch.setenv("VAPID_PUBLIC_KEY", public)
    monkeypatch.setenv("PUSH_SERVICE_HOSTS", "127.0.0.1")
    monkeypatch.setenv("NOTIFY_TIMEOUT_SECONDS", "3")
    reset_settings_cache()
    yield service
    service.stop()
    monkeypatch.undo()
    reset_settings_cache()
