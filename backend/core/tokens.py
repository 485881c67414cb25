"""Random secrets handed to people (session cookies, invitation links, API tokens).

Only a SHA-256 hash is stored: the tokens are high-entropy, so a fast hash is enough and keeps
validation cheap; a database leak reveals no usable token.
"""

from __future__ import annotations

import hashlib
import secrets


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
