"""apprise's SMTP sender without a certificate store parsed on every e-mail.

apprise 2.3's SMTP controller calls `ssl.create_default_context()` at the start of every send, even for a plain
(insecure, e.g. the local sink) connection that never uses TLS. Parsing the system's CA bundle costs about
70-100 ms of CPU per e-mail on this machine, which made it most of the cost of a message (measured with
bench/notify_throughput.py and a profile of `deliver_message`: 73 of 100 ms per e-mail in
`set_default_verify_paths`).

`install()` gives apprise's SMTP module a context that is built only when a TLS handshake needs it:
- untouched (certificates and host names verified, apprise's default), it is one secure context per process,
  loaded once and never changed afterwards (an `SSLContext` may wrap sockets from several threads);
- changed by apprise (a chain's server with verification switched off), it is a fresh context with those
  changes, so a relaxed setting never reaches another chain's connection;
- on a plain connection, nothing is built.
"""

from __future__ import annotations

import ssl
import threading
from typing import Any

_shared: ssl.SSLContext | None = None
_lock = threading.Lock()


def _secure_context() -> ssl.SSLContext:
    global _shared
    with _lock:
        if _shared is None:
            _shared = ssl.create_default_context()
        return _shared


class LazyContext:
    """Records what apprise sets on its context; becomes a real context at the first TLS handshake."""

    def __init__(self) -> None:
        object.__setattr__(self, "_changes", {})
        object.__setattr__(self, "_context", None)

    def __setattr__(self, name: str, value: Any) -> None:
        if self._context is not None:
            raise RuntimeError("the TLS context is already in use")
        self._changes[name] = value

    def _real(self) -> ssl.SSLContext:
        if self._context is None:
            if not self._changes:
                context = _secure_context()
            else:
                context = ssl.create_default_context()
                for name, value in self._changes.items():  # in apprise's order: check_hostname, then verify_mode
                    setattr(context, name, value)
            object.__setattr__(self, "_context", context)
        return self._context  # type: ignore[return-value]

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        return self._real().wrap_socket(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name in self._changes:
            return self._changes[name]
        return getattr(self._real(), name)


class _SslForApprise:
    """The `ssl` module as apprise's SMTP module sees it: the same, but for `create_default_context`."""

    @staticmethod
    def create_default_context(*args: Any, **kwargs: Any) -> Any:
        if args or kwargs:  # not apprise 2.3's call: leave it alone
            return ssl.create_default_context(*args, **kwargs)
        return LazyContext()

    def __getattr__(self, name: str) -> Any:
        return getattr(ssl, name)


def install() -> None:
    """Idempotent; a no-op if apprise's SMTP module no longer looks the way this was written for."""
    try:
        from apprise.plugins.email import smtp
    except ImportError:
        return
    if getattr(smtp, "ssl", None) is ssl:
        smtp.ssl = _SslForApprise()  # type: ignore[assignment]
