"""Encryption at rest for secrets we must be able to read back (TOTP seeds, SSO client secrets).

The key is derived from SECRET_KEY; rotating SECRET_KEY makes stored secrets unreadable, which the
callers treat as "not enrolled".
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from backend.core.settings import get_settings


def _fernet(purpose: str) -> Fernet:
    key = hashlib.sha256(f"{purpose}:{get_settings().secret_key()}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(purpose: str, plaintext: str) -> str:
    return _fernet(purpose).encrypt(plaintext.encode()).decode()


def decrypt(purpose: str, token: str) -> str | None:
    try:
        return _fernet(purpose).decrypt(token.encode()).decode()
    except InvalidToken:
        return None
