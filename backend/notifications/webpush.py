"""The Web Push protocol written out on `cryptography`: keys, message encryption (RFC 8291, aes128gcm of
RFC 8188) and VAPID (RFC 8292).

The app sends with pywebpush (`push.send_push`); this module gives `make run` its VAPID key pair and the
tests a second, independent implementation: the push-service stand-in (tests/push_service.py) decrypts what
pywebpush sent with `decrypt`, and tests/backend/notifications/test_push.py checks `encrypt` byte for byte
against RFC 8291's worked example (Appendix A) and forges VAPID tokens with `vapid_authorization` to prove
the stand-in refuses them.

Keys travel as base64url without padding, the form browsers and push services use: a P-256 public key is
its 65-byte uncompressed point, a private key its 32-byte scalar (what `VAPID_PRIVATE_KEY` holds; py-vapid's
`Vapid.from_string` reads it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import struct
import time
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

RECORD_SIZE = 4096
JWT_LIFETIME_SECONDS = 12 * 3600  # RFC 8292: at most 24 hours


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(value: str) -> bytes:
    value = value.strip()
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def public_bytes(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def private_key(raw_b64: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int.from_bytes(unb64url(raw_b64), "big"), ec.SECP256R1())


def public_key(raw_b64: str) -> ec.EllipticCurvePublicKey:
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(raw_b64))


def new_key_pair() -> tuple[str, str]:
    """A fresh P-256 pair as (private, public) base64url: a VAPID pair, or a browser's p256dh in tests."""
    key = ec.generate_private_key(ec.SECP256R1())
    raw = key.private_numbers().private_value.to_bytes(32, "big")
    return b64url(raw), b64url(public_bytes(key.public_key()))


def public_of(private_b64: str) -> str:
    return b64url(public_bytes(private_key(private_b64).public_key()))


# --- RFC 8291: the message, readable only by the browser that subscribed -----------------------------------


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def _content_keys(ecdh: bytes, auth: bytes, ua_public: bytes, as_public: bytes, salt: bytes) -> tuple[bytes, bytes]:
    """RFC 8291 §3.4 then RFC 8188 §2.2: the content-encryption key and nonce (HKDF-SHA-256 written out)."""
    prk_key = _hmac(auth, ecdh)
    ikm = _hmac(prk_key, b"WebPush: info\x00" + ua_public + as_public + b"\x01")
    prk = _hmac(salt, ikm)
    cek = _hmac(prk, b"Content-Encoding: aes128gcm\x00\x01")[:16]
    nonce = _hmac(prk, b"Content-Encoding: nonce\x00\x01")[:12]
    return cek, nonce


def encrypt(
    payload: bytes, p256dh: str, auth: str, *, sender: ec.EllipticCurvePrivateKey | None = None,
    salt: bytes | None = None,
) -> bytes:  # fmt: skip
    """The aes128gcm body for the subscription (p256dh, auth): one record, the sender's key as key id.
    `sender` and `salt` are fresh for every message; they are parameters only for the RFC's test vector."""
    if len(payload) > RECORD_SIZE - 17 - 86:
        raise ValueError("A push message carries at most about 3,900 bytes")
    sender = sender or ec.generate_private_key(ec.SECP256R1())
    salt = salt or os.urandom(16)
    ua_public = unb64url(p256dh)
    as_public = public_bytes(sender.public_key())
    ecdh = sender.exchange(ec.ECDH(), ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), ua_public))
    cek, nonce = _content_keys(ecdh, unb64url(auth), ua_public, as_public, salt)
    ciphertext = AESGCM(cek).encrypt(nonce, payload + b"\x02", None)  # 0x02: the last (only) record
    return salt + struct.pack("!IB", RECORD_SIZE, len(as_public)) + as_public + ciphertext


def decrypt(body: bytes, ua_private: str, auth: str) -> bytes:
    """What the browser does with `encrypt`'s output (used by the tests' push-service stand-in)."""
    salt, (_, id_len) = body[:16], struct.unpack("!IB", body[16:21])
    as_public = body[21 : 21 + id_len]
    receiver = private_key(ua_private)
    ua_public = public_bytes(receiver.public_key())
    ecdh = receiver.exchange(ec.ECDH(), ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), as_public))
    cek, nonce = _content_keys(ecdh, unb64url(auth), ua_public, as_public, salt)
    plain = AESGCM(cek).decrypt(nonce, body[21 + id_len :], None)
    return plain.rstrip(b"\x00")[:-1]  # drop the padding and the 0x02 delimiter


# --- RFC 8292: who sends (VAPID) ----------------------------------------------------------------------------


def audience(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


def vapid_authorization(endpoint: str, private_b64: str, subject: str, *, now: float | None = None) -> str:
    """The `Authorization: vapid t=<JWT>, k=<public key>` header for one push service (its origin is `aud`)."""
    key = private_key(private_b64)
    claims = {
        "aud": audience(endpoint),
        "exp": int((time.time() if now is None else now) + JWT_LIFETIME_SECONDS),
        "sub": subject,
    }
    header = b64url(json.dumps({"typ": "JWT", "alg": "ES256"}, separators=(",", ":")).encode())
    body = b64url(json.dumps(claims, separators=(",", ":")).encode())
    r, s = decode_dss_signature(key.sign(f"{header}.{body}".encode(), ec.ECDSA(hashes.SHA256())))
    signature = b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))  # JOSE wants r || s, not DER
    return f"vapid t={header}.{body}.{signature}, k={b64url(public_bytes(key.public_key()))}"
