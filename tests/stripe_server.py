"""A small Stripe API server on 127.0.0.1 for tests: the parts of Stripe the product uses.

The real `stripe` client talks to it (STRIPE_API_BASE), form-encoded as it talks to Stripe:
POST /v1/payment_intents (create), GET /v1/payment_intents/{id}, POST .../{id}/confirm (what the
Terminal reader or hosted element does; test payment methods below), .../capture, .../cancel, and
POST /v1/refunds. Like Stripe it honours Idempotency-Key (per connected account): the same key with
the same parameters answers the stored object, other parameters get a 400 idempotency_error. Every
call must carry the platform key and a Stripe-Account header (Connect). Requests are kept for
assertions, and `effects` counts what really happened (an idempotent replay adds nothing).
State changes raise events as Stripe does (`events`); `signed` signs one for our webhook with the
Stripe scheme (`Stripe-Signature: t=...,v1=HMAC-SHA256(secret, "t.payload")`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

SUCCESS_CARDS = {"pm_card_visa", "pm_card_present", "pm_card_mastercard"}
DECLINED_CARDS = {"pm_card_chargeDeclined", "pm_card_visa_chargeDeclined"}
_PATH = re.compile(r"^/v1/payment_intents/(?P<id>pi_\w+)(?:/(?P<action>confirm|capture|cancel))?$")


def _nested(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (`metadata[bill_id]=..`, `payment_method_types[0]=..`) as plain JSON."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return {k: _lists(v) for k, v in out.items()}


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        if value and all(k.isdigit() for k in value):
            return [_lists(value[k]) for k in sorted(value, key=int)]
        return {k: _lists(v) for k, v in value.items()}
    return value


class StripeFailure(Exception):
    def __init__(self, status: int, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", ""))
        self.status, self.error = status, error


def _invalid(message: str, code: str = "parameter_invalid") -> StripeFailure:
    return StripeFailure(400, {"type": "invalid_request_error", "code": code, "message": message})


@dataclass
class StripeServer:
    api_key: str = "sk_test_platform_key"
    webhook_secret: str = "whsec_test_secret"
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    effects: Counter[str] = field(default_factory=Counter)
    events: list[dict[str, Any]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    _stored: dict[tuple[str, str], tuple[str, int, dict[str, Any]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> StripeServer:
        stripe_server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                stripe_server._handle(self, "GET")

            def do_POST(self) -> None:  # noqa: N802
                stripe_server._handle(self, "POST")

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    # --- what tests look at ----------------------------------------------------------------------

    def calls(self, method: str, path_pattern: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == method and re.fullmatch(path_pattern, r["path"])]

    def signed(self, event: dict[str, Any], *, secret: str | None = None) -> tuple[bytes, dict[str, str]]:
        """The event as Stripe posts it: the JSON body and its Stripe-Signature header."""
        payload = json.dumps(event)
        stamp = int(time.time())
        mac = hmac.new((secret or self.webhook_secret).encode(), f"{stamp}.{payload}".encode(), hashlib.sha256)
        header = f"t={stamp},v1={mac.hexdigest()}"
        return payload.encode(), {"Stripe-Signature": header, "Content-Type": "application/json"}

    def deliver(self, url: str, event: dict[str, Any]) -> int:
        """POST a signed event to a webhook URL (a real server) and return the HTTP status."""
        body, headers = self.signed(event)
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - a local test URL
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    def event_for(self, event_type: str, intent_id: str) -> dict[str, Any]:
        return next(e for e in self.events if e["type"] == event_type and _intent_of(e) == intent_id)

    # --- the protocol ----------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(handler.path)
        raw = handler.rfile.read(int(handler.headers.get("Content-Length") or 0)).decode()
        params = _nested(parse_qsl(raw if method == "POST" else url.query, keep_blank_values=True))
        account = handler.headers.get("Stripe-Account", "")
        key = handler.headers.get("Idempotency-Key")
        record = {"method": method, "path": url.path, "params": params, "account": account, "idempotency_key": key}
        with self._lock:
            self.requests.append(record)
            status, body = self._answer(handler, method, url.path, params, account, key)
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Request-Id", f"req_{secrets.token_hex(6)}")
        handler.end_headers()
        handler.wfile.write(data)

    def _answer(
        self,
        handler: BaseHTTPRequestHandler,
        method: str,
        path: str,
        params: dict[str, Any],
        account: str,
        key: str | None,
    ) -> tuple[int, dict[str, Any]]:
        if handler.headers.get("Authorization") != f"Bearer {self.api_key}":
            return 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided."}}
        if not account.startswith("acct_"):
            return 400, {"error": {"type": "invalid_request_error", "message": "No Stripe-Account header (Connect)."}}
        digest = hashlib.sha256(json.dumps([method, path, params], sort_keys=True).encode()).hexdigest()
        if method == "POST" and key is not None and (account, key) in self._stored:
            stored_digest, status, body = self._stored[(account, key)]
            if stored_digest != digest:
                return 400, {
                    "error": {
                        "type": "idempotency_error",
                        "message": "Keys for idempotent requests can only be used with the same parameters "
                        "they were first used with.",
                    }
                }
            return status, body
        try:
            status, body = 200, self._route(method, path, params, account)
        except StripeFailure as failure:
            status, body = failure.status, {"error": failure.error}
        if method == "POST" and key is not None:
            self._stored[(account, key)] = (digest, status, body)
        return status, body

    def _route(self, method: str, path: str, params: dict[str, Any], account: str) -> dict[str, Any]:
        if method == "POST" and path == "/v1/payment_intents":
            return self._create(params, account)
        if method == "POST" and path == "/v1/refunds":
            return self._refund(params, account)
        match = _PATH.match(path)
        if match is None:
            raise StripeFailure(
                404, {"type": "invalid_request_error", "message": f"Unrecognized request URL ({path})."}
            )
        intent = self.intents.get(match["id"])
        if intent is None or intent["_account"] != account:
            raise StripeFailure(
                404, {"type": "invalid_request_error", "code": "resource_missing", "message": "No such payment_intent"}
            )
        action = match["action"]
        if method == "GET" and action is None:
            return _public(intent)
        if method == "POST" and action == "confirm":
            return self._confirm(intent, params)
        if method == "POST" and action == "capture":
            return self._capture(intent, params)
        if method == "POST" and action == "cancel":
            return self._cancel(intent, params)
        raise _invalid(f"Unrecognized request URL ({method} {path}).")

    def _create(self, params: dict[str, Any], account: str) -> dict[str, Any]:
        known = {"amount", "currency", "capture_method", "payment_method_types", "metadata", "description"}
        if unknown := set(params) - known:
            raise _invalid(f"Received unknown parameter: {sorted(unknown)[0]}", "parameter_unknown")
        amount = params.get("amount", "")
        if not amount.isdigit() or int(amount) < 1 or not re.fullmatch(r"[a-z]{3}", params.get("currency", "")):
            raise _invalid("amount must be a positive integer and currency a 3-letter code")
        intent_id = f"pi_{secrets.token_hex(12)}"
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(amount),
            "amount_capturable": 0,
            "amount_received": 0,
            "currency": params["currency"],
            "capture_method": params.get("capture_method", "automatic"),
            "payment_method_types": params.get("payment_method_types", ["card"]),
            "metadata": params.get("metadata", {}),
            "status": "requires_payment_method",
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}",
            "last_payment_error": None,
            "latest_charge": None,
            "created": int(time.time()),
            "livemode": False,
            "_account": account,
        }
        self.intents[intent_id] = intent
        self.effects["payment_intent.created"] += 1
        return _public(intent)

    def _confirm(self, intent: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        if intent["status"] not in ("requires_payment_method", "requires_confirmation"):
            raise _invalid(f"This PaymentIntent's status is {intent['status']}.", "payment_intent_unexpected_state")
        method = params.get("payment_method", "")
        if method in DECLINED_CARDS:
            intent["last_payment_error"] = {
                "type": "card_error",
                "code": "card_declined",
                "decline_code": "generic_decline",
                "message": "Your card was declined.",
            }
            self.effects["payment_intent.declined"] += 1
            raise StripeFailure(402, {**intent["last_payment_error"], "payment_intent": _public(intent)})
        if method not in SUCCESS_CARDS:
            raise _invalid(f"No such PaymentMethod: '{method}'", "resource_missing")
        intent["last_payment_error"] = None
        intent["payment_method"] = method
        if intent["capture_method"] == "manual":
            intent.update(status="requires_capture", amount_capturable=intent["amount"])
            self.effects["payment_intent.authorized"] += 1
        else:
            self._settle(intent, intent["amount"])
        return _public(intent)

    def _capture(self, intent: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        if intent["status"] != "requires_capture":
            raise _invalid(
                f"This PaymentIntent could not be captured because it has a status of {intent['status']}.",
                "payment_intent_unexpected_state",
            )
        amount = int(params.get("amount_to_capture", intent["amount_capturable"]))
        if not 0 < amount <= intent["amount_capturable"]:
            raise _invalid("amount_to_capture must be positive and at most the amount capturable")
        self._settle(intent, amount)
        self.effects["payment_intent.captured"] += 1
        return _public(intent)

    def _settle(self, intent: dict[str, Any], amount: int) -> None:
        charge = {
            "id": f"ch_{secrets.token_hex(12)}",
            "object": "charge",
            "payment_intent": intent["id"],
            "amount": intent["amount"],
            "amount_captured": amount,
            "amount_refunded": 0,
            "refunded": False,
            "currency": intent["currency"],
        }
        intent.update(
            status="succeeded", amount_received=amount, amount_capturable=0, latest_charge=charge["id"], _charge=charge
        )
        self._emit("payment_intent.succeeded", _public(intent), intent["_account"])

    def _cancel(self, intent: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        if intent["status"] not in ("requires_payment_method", "requires_capture", "requires_confirmation"):
            raise _invalid(
                f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}.",
                "payment_intent_unexpected_state",
            )
        intent.update(status="canceled", amount_capturable=0, cancellation_reason=params.get("cancellation_reason"))
        self.effects["payment_intent.canceled"] += 1
        self._emit("payment_intent.canceled", _public(intent), intent["_account"])
        return _public(intent)

    def _refund(self, params: dict[str, Any], account: str) -> dict[str, Any]:
        if unknown := set(params) - {"payment_intent", "amount", "metadata", "reason"}:
            raise _invalid(f"Received unknown parameter: {sorted(unknown)[0]}", "parameter_unknown")
        intent = self.intents.get(params.get("payment_intent", ""))
        if intent is None or intent["_account"] != account:
            raise StripeFailure(
                404, {"type": "invalid_request_error", "code": "resource_missing", "message": "No such payment_intent"}
            )
        charge = intent.get("_charge")
        if intent["status"] != "succeeded" or charge is None:
            raise _invalid("This PaymentIntent has no successful charge to refund.", "charge_not_refundable")
        left = charge["amount_captured"] - charge["amount_refunded"]
        amount = int(params.get("amount", left))
        if not 0 < amount <= left:
            raise _invalid(f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})")
        charge.update(amount_refunded=charge["amount_refunded"] + amount)
        charge["refunded"] = charge["amount_refunded"] == charge["amount_captured"]
        refund = {
            "id": f"re_{secrets.token_hex(12)}",
            "object": "refund",
            "amount": amount,
            "currency": intent["currency"],
            "charge": charge["id"],
            "payment_intent": intent["id"],
            "status": "succeeded",
            "metadata": params.get("metadata", {}),
        }
        self.refunds[refund["id"]] = refund
        self.effects["refund.created"] += 1
        self._emit("charge.refunded", dict(charge), account)
        return refund

    def _emit(self, event_type: str, obj: dict[str, Any], account: str) -> None:
        self.events.append(
            {
                "id": f"evt_{secrets.token_hex(12)}",
                "object": "event",
                "type": event_type,
                "account": account,
                "api_version": "2026-01-01",
                "created": int(time.time()),
                "livemode": False,
                "pending_webhooks": 1,
                "request": {"id": None, "idempotency_key": None},
                "data": {"object": obj},
            }
        )


def _public(intent: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in intent.items() if not k.startswith("_")}


def _intent_of(event: dict[str, Any]) -> str:
    obj = event["data"]["object"]
    return str(obj["id"] if obj["object"] == "payment_intent" else obj["payment_intent"])
