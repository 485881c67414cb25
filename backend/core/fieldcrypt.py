"""Field encryption of patient data: AES-GCM envelope encryption and blind indexes (issue 16).

- A chain's values are encrypted with its own random 256-bit data key; data keys are stored only wrapped
  (encrypted) by a master key (backend/protection/keys.py keeps them in `chain_data_keys`).
- The master key sits behind `MasterKey` (wrap, unwrap, version): `LocalMasterKey` reads it from the
  `DATA_ENCRYPTION_KEY` setting; a key-management service can implement the same three members later.
- Every value carries its format and data-key version, so keys rotate while old values still decrypt:
  `FORMAT (1 byte) | key version (4 bytes, big-endian) | nonce (12 bytes) | ciphertext + tag`.
- The associated data binds a value to its chain, table, column and row: a ciphertext copied into
  another row, column or chain does not decrypt.
- Blind indexes are truncated HMAC-SHA256 of a normalised value under the chain's index key (a random key
  of its own, wrapped like the data keys and never rotated with them, so re-encrypting values does not
  touch the indexes): equal values give equal tokens (exact match only), nothing can be read back.

No key, plaintext or token is ever logged here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from backend.core.errors import ConfigurationError, PharmacyError

FORMAT_AES_GCM = 1
KEY_BYTES = 32
NONCE_BYTES = 12
_HEADER = struct.Struct(">BI")  # format, data-key version
INDEX_BYTES = 16


class DecryptionFailed(PharmacyError):
    """A stored value does not decrypt: wrong key, a value moved from elsewhere, or tampering."""

    http_status = 500
    code = "decryption"


class MasterKey(Protocol):
    """What wraps the chains' data keys. `version` names the key (stored beside each wrapped key).
    Implementations are hashable (by version): unwrapped keys are remembered per master key."""

    def __hash__(self) -> int: ...

    @property
    def version(self) -> str: ...

    def wrap(self, data_key: bytes, context: bytes) -> bytes: ...

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes: ...


class LocalMasterKey:
    """A master key held in the process's configuration (AES-256-GCM key wrapping)."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ConfigurationError("A data encryption key must be 32 bytes (base64 of 32 random bytes).")
        self._aead = AESGCM(key)
        # A fingerprint, not the key: it names which master key wrapped a data key.
        self._version = "local:" + hashlib.sha256(b"master-key-version:" + key).hexdigest()[:16]

    @property
    def version(self) -> str:
        return self._version

    # Two instances of the same key are the same key (the unwrap cache is keyed by it).
    def __eq__(self, other: object) -> bool:
        return isinstance(other, LocalMasterKey) and other.version == self.version

    def __hash__(self) -> int:
        return hash(self._version)

    def __repr__(self) -> str:
        return f"LocalMasterKey({self._version})"

    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, data_key, context)

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        try:
            return self._aead.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], context)
        except InvalidTag:
            raise DecryptionFailed(
                "A chain's data key does not unwrap with the configured DATA_ENCRYPTION_KEY."
            ) from None


@dataclass(frozen=True)
class MasterKeyRing:
    """The current master key (wraps new and re-wrapped keys) and earlier ones (unwrap only)."""

    current: MasterKey
    previous: tuple[MasterKey, ...] = ()

    def by_version(self, version: str) -> MasterKey:
        for key in (self.current, *self.previous):
            if key.version == version:
                return key
        raise ConfigurationError(
            f"A chain's data key is wrapped by master key {version}, which is neither DATA_ENCRYPTION_KEY nor "
            "in DATA_ENCRYPTION_KEYS_PREVIOUS: add the earlier key to DATA_ENCRYPTION_KEYS_PREVIOUS."
        )

    def unwrap(self, wrapped: bytes, master_version: str, context: bytes) -> bytes:
        return _unwrap_cached(self.by_version(master_version), bytes(wrapped), context)


@lru_cache(maxsize=4096)
def _unwrap_cached(master: MasterKey, wrapped: bytes, context: bytes) -> bytes:
    """A wrapped key always unwraps to the same key: safe to remember (a KMS call is not free)."""
    return master.unwrap(wrapped, context)


def decode_master_key(value: str, name: str) -> bytes:
    """The 32 bytes of a base64 (standard or URL-safe) setting, or a ConfigurationError naming it."""
    text = value.strip()
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_" if ("-" in text or "_" in text) else None)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise ConfigurationError(
            f"{name} must be base64 of 32 random bytes, e.g. "
            "`python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'`"
        )
    return raw


def new_master_key_text() -> str:
    """A fresh master key in the setting's format (the local run writes one to .data/data_key)."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=8 * KEY_BYTES)


# --- values -----------------------------------------------------------------------------------------


def associated_data(tenant_id: object, table: str, column: str, row_id: object) -> bytes:
    """What a ciphertext is bound to: its chain, table, column and row."""
    return f"{tenant_id}|{table}|{column}|{row_id}".encode()


def seal(aead: AESGCM, version: int, plaintext: bytes, aad: bytes) -> bytes:
    """`aead` is the data key of `version` (an AESGCM built once per key: building one costs more than a value)."""
    nonce = os.urandom(NONCE_BYTES)
    return _HEADER.pack(FORMAT_AES_GCM, version) + nonce + aead.encrypt(nonce, plaintext, aad)


def key_version(sealed: bytes) -> int:
    """The data-key version a stored value was sealed with (rotation reads it without decrypting)."""
    form, version = _HEADER.unpack_from(sealed)
    if form != FORMAT_AES_GCM:
        raise DecryptionFailed("A stored value has an unknown encryption format.")
    return int(version)


def open_sealed(aead: AESGCM, sealed: bytes, aad: bytes) -> bytes:
    start = _HEADER.size
    try:
        return aead.decrypt(sealed[start : start + NONCE_BYTES], sealed[start + NONCE_BYTES :], aad)
    except InvalidTag:
        raise DecryptionFailed("A stored value does not decrypt with its chain's key.") from None


# --- blind indexes -----------------------------------------------------------------------------------


def blind_index(index_key: bytes, field: str, normalised: str) -> bytes:
    """Equal normalised values of the same field give the same token; fields never collide."""
    return hmac.new(index_key, f"{field}\x00{normalised}".encode(), hashlib.sha256).digest()[:INDEX_BYTES]
