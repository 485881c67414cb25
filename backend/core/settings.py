"""Configuration, read once from the environment.

Every variable has a safe local default or fails with one clear line saying what to set.
The README's configuration table mirrors this module.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from backend.core.errors import ConfigurationError
from backend.core.fieldcrypt import LocalMasterKey, MasterKeyRing, decode_master_key


def to_psycopg_url(url: str) -> str:
    """Map `postgres://` and `postgresql://` URLs to SQLAlchemy's psycopg 3 driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith("postgresql+"):
        raise ConfigurationError(
            f"DATABASE_URL uses an unsupported driver ({url.split('://')[0]}); "
            "use postgresql:// or postgresql+psycopg://"
        )
    raise ConfigurationError("DATABASE_URL must be a postgresql:// URL")


def with_credentials(url: str, user: str, password: str | None) -> str:
    """The same server and database as `url`, signed in as another role."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = quote(user, safe="")
    if password:
        netloc += ":" + quote(password, safe="")
    netloc += "@" + host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class Settings(BaseSettings):
    """Process configuration. Field names are the environment variable names."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=True)

    ENVIRONMENT: str = "development"  # development | test | production
    APP_URL: str = "http://localhost:3000"
    SECRET_KEY: str | None = None
    # Master key of field encryption (issue 16): base64 of 32 random bytes, separate from SECRET_KEY.
    # It wraps each chain's data keys; earlier master keys (comma-separated) still unwrap during a
    # rotation. Secrets: never logged. `make run` generates one into .data/data_key.
    DATA_ENCRYPTION_KEY: SecretStr | None = None
    DATA_ENCRYPTION_KEYS_PREVIOUS: SecretStr | None = None

    DATABASE_URL: str | None = None
    APP_DATABASE_URL: str | None = None
    PLATFORM_DATABASE_URL: str | None = None
    APP_DB_ROLE: str = "pharmacy_app"
    PLATFORM_DB_ROLE: str = "pharmacy_platform"
    # Roles of their own for the two paths that run before a tenant is known or across tenants:
    # sign-in lookups, password reset, SSO by slug and invitation links (auth); the outbox relay (relay).
    AUTH_DATABASE_URL: str | None = None
    RELAY_DATABASE_URL: str | None = None
    AUTH_DB_ROLE: str = "pharmacy_auth"
    RELAY_DB_ROLE: str = "pharmacy_relay"
    DB_POOL_SIZE: int = 5

    REDIS_URL: str = "redis://127.0.0.1:6379/0"
    # notifications first: a patient waiting for a sign-in code must not wait behind a tick's batch of digests
    RQ_QUEUES: str = "notifications,default"  # notifications: patient and staff e-mails, texts and pushes (issue 18)

    # apprise URL of the mail server, without recipients, e.g.
    # mailto://user:pass@smtp.example.com:587?from=Pharmacy%20Cloud%20<no-reply@example.com>
    # `make run` starts a local SMTP sink (mails land in .data/mail/) and points this at it.
    MAIL_URL: str | None = None
    # apprise URL of the installation's SMS gateway, without recipients, e.g. smseagle://TOKEN@sms.example.com
    # or smpp://user:pass@smsc.example.com:2775/+15550000000 (docs/notifications.md). Unset: texts are
    # suppressed with the reason "SMS is not configured" (offline default, not an error).
    SMS_URL: str | None = None
    # Notifications (issue 18 §3, backend/notifications/delivery.py): seconds to wait before each retry
    # of a message the provider refused or could not be reached for (then it is marked failed), the
    # provider's timeout, and the circuit breaker per chain and channel: after NOTIFY_BREAKER_FAILURES
    # failures in a row, sends on that channel are skipped (they stay queued) for NOTIFY_BREAKER_SECONDS.
    NOTIFY_RETRY_INTERVALS: str = "30,120,600,1800,3600"
    NOTIFY_TIMEOUT_SECONDS: float = 10.0
    NOTIFY_BREAKER_FAILURES: int = 5
    NOTIFY_BREAKER_SECONDS: int = 300
    # A chain's own SMTP server and webhook URL (Settings > Notifications) are hosts the chain chooses: they
    # are resolved when connecting and refused when they point at a private, loopback, link-local or reserved
    # address (SSRF), unless listed here: host names or addresses/networks, comma-separated (e.g.
    # "smtp.internal,10.0.0.0/8"). Tests list 127.0.0.1 to reach their local stand-ins.
    NOTIFY_ALLOW_PRIVATE_HOSTS: str = ""
    # Web push (issue 18 §5, backend/notifications/push.py): the installation's VAPID key pair (RFC 8292),
    # base64url of the raw P-256 private scalar and of the uncompressed public point; `make run` generates
    # them into .data/vapid_*. Unset: push messages are suppressed ("Web push is not configured").
    # VAPID_SUBJECT is the contact the push services see (mailto: or https:).
    VAPID_PRIVATE_KEY: SecretStr | None = None
    VAPID_PUBLIC_KEY: str | None = None
    VAPID_SUBJECT: str = "mailto:support@pharmacy-cloud.example"
    # Push services a subscription's endpoint may point at (the server POSTs to it: anything else is refused
    # when subscribing, against SSRF). "*.x" matches subdomains. http:// only for a listed 127.0.0.1/localhost
    # (the tests' stand-in).
    PUSH_SERVICE_HOSTS: str = (
        "fcm.googleapis.com,updates.push.services.mozilla.com,*.push.services.mozilla.com,web.push.apple.com,"
        "*.push.apple.com,*.notify.windows.com"
    )
    SUPPORT_EMAIL: str = "support@pharmacy-cloud.example"  # shown to the owners of a suspended chain
    PASSWORD_RESET_TTL_MINUTES: int = 60

    # Hosts an SSO issuer may live on even though they resolve to private or loopback addresses
    # (the server fetches the issuer's documents: everything else private is refused, against SSRF).
    SSO_ALLOWED_HOSTS: str = ""

    SESSION_TTL_HOURS: int = 12
    INVITATION_TTL_DAYS: int = 7
    API_RATE_LIMIT_PER_HOUR: int = 1000  # default for a new chain; per plan in tenants.api_rate_limit_per_hour

    # The assistant's model provider: any OpenAI-compatible chat completions server (OpenAI, vLLM, Ollama,
    # a company gateway). Unset model means no provider: the local engine answers. Each chain's owner
    # must also switch it on (their data goes to this server). The key is a secret: never logged.
    ASSISTANT_OPENAI_BASE_URL: str | None = None  # e.g. http://localhost:11434/v1; unset: api.openai.com
    ASSISTANT_OPENAI_API_KEY: SecretStr | None = None
    ASSISTANT_OPENAI_MODEL: str | None = None
    ASSISTANT_OPENAI_TIMEOUT: float = 20.0  # seconds per request (connect, and each read of the stream)
    ASSISTANT_OPENAI_MAX_RETRIES: int = 2  # the client's own retries with exponential backoff

    # Retrieval index for the assistant (drug information, chains' documents): embedded chromadb in
    # this folder, or a chroma server at CHROMA_URL (e.g. http://chroma:8000) when scaling out.
    CHROMA_PATH: str = ".data/chroma"
    CHROMA_URL: str | None = None

    # Prescription OCR engine: rapidocr (ONNX, the default: more fields right and faster in
    # bench/ocr.py, docs/benchmarks.md) or easyocr. Weights come from installed packages only.
    OCR_ENGINE: str = "rapidocr"
    # Inference threads per OCR process: as many as cores; more only contend. Scale out with
    # worker processes on the `ocr` queue.
    OCR_THREADS: int = 2

    # Card payments through Stripe Connect, charged on each chain's own connected account. The platform's
    # secret key and the webhook signing secret are secrets: never logged. No key: card payments are off
    # (the endpoints say so) and everything else works offline. The base is a local server in tests.
    STRIPE_API_BASE: str = "https://api.stripe.com"
    STRIPE_SECRET_KEY: SecretStr | None = None
    STRIPE_WEBHOOK_SECRET: SecretStr | None = None
    STRIPE_TIMEOUT: float = 20.0  # seconds per request to Stripe
    STRIPE_MAX_RETRIES: int = 2  # the client's own retries (each with the request's idempotency key)

    LOG_LEVEL: str = "INFO"
    LOG_JSON: bool = True
    SERVICE_NAME: str = "pharmacy-saas"
    # Reverse proxies in front of the app whose X-Forwarded-For is believed (0: use the peer address).
    TRUSTED_PROXY_HOPS: int = 0

    # The public portal's abuse limits (issue 17, backend/portal/abuse.py; docs/portal.md). Every well-formed
    # try counts per client IP and per subject (an Rx number); past the free tries each one waits longer
    # (1 s, 2 s, 4 s... up to the maximum). The floor is the time every well-formed answer takes, measured
    # from the request's start, so the time does not tell whether anything matched. Past the hourly volume a
    # chain's owner gets a soft alert (never a hard per-chain limit: one attacker would lock out everyone).
    PORTAL_LIMIT_WINDOW_SECONDS: int = 60 * 60
    PORTAL_FREE_TRIES_PER_IP: int = 20
    PORTAL_FREE_TRIES_PER_SUBJECT: int = 5
    PORTAL_MAX_DELAY_SECONDS: int = 15 * 60
    PORTAL_RESPONSE_FLOOR_MS: int = 400
    PORTAL_CHAIN_ALERT_PER_HOUR: int = 200

    DEMO_OWNER_EMAIL: str = "owner@demo-pharmacy.example"
    DEMO_OWNER_PASSWORD: str = "demo-pharmacy-2026"

    @field_validator("APP_URL", "STRIPE_API_BASE")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    # --- derived values -------------------------------------------------

    @property
    def cookie_secure(self) -> bool:
        return self.APP_URL.startswith("https://")

    @property
    def is_production(self) -> bool:
        return self.ENVIRONMENT == "production"

    def secret_key(self) -> str:
        """The signing secret; there is no built-in default (the local run generates one)."""
        if not self.SECRET_KEY:
            raise ConfigurationError(
                "SECRET_KEY is not set: set it to a long random string (`make run` generates one into .data/secret_key)"
            )
        if self.is_production and len(self.SECRET_KEY) < 32:
            raise ConfigurationError("SECRET_KEY must be at least 32 characters in production")
        return self.SECRET_KEY

    def master_keys(self) -> MasterKeyRing:
        """The master key ring of field encryption; no key (or a malformed one) is a startup error."""
        if self.DATA_ENCRYPTION_KEY is None or not self.DATA_ENCRYPTION_KEY.get_secret_value().strip():
            raise ConfigurationError(
                "DATA_ENCRYPTION_KEY is not set: set it to base64 of 32 random bytes "
                "(`make run` generates one into .data/data_key); patient data is never stored in clear"
            )
        current = decode_master_key(self.DATA_ENCRYPTION_KEY.get_secret_value(), "DATA_ENCRYPTION_KEY")
        previous_text = (
            self.DATA_ENCRYPTION_KEYS_PREVIOUS.get_secret_value() if self.DATA_ENCRYPTION_KEYS_PREVIOUS else ""
        )
        previous = [
            decode_master_key(part, "each key of DATA_ENCRYPTION_KEYS_PREVIOUS")
            for part in previous_text.split(",")
            if part.strip()
        ]
        return MasterKeyRing(LocalMasterKey(current), tuple(LocalMasterKey(k) for k in previous if k != current))

    def owner_database_url(self) -> str:
        """URL of the owner/migration role (tables' owner; may be a superuser on a dev machine)."""
        if not self.DATABASE_URL:
            raise ConfigurationError(
                "DATABASE_URL is not set: set it to postgresql://USER@HOST:PORT/DB "
                "(or use `make run`, which starts an embedded Postgres)"
            )
        return to_psycopg_url(self.DATABASE_URL)

    def role_password(self, role: str) -> str:
        """A password for a role we create, derived from SECRET_KEY so nothing else needs storing."""
        digest = hmac.new(self.secret_key().encode(), f"db-role:{role}".encode(), hashlib.sha256)
        return digest.hexdigest()[:40]

    def app_database_url(self) -> str:
        """URL of the restricted app role (no BYPASSRLS, owns nothing)."""
        if self.APP_DATABASE_URL:
            return to_psycopg_url(self.APP_DATABASE_URL)
        return with_credentials(self.owner_database_url(), self.APP_DB_ROLE, self.role_password(self.APP_DB_ROLE))

    def platform_database_url(self) -> str:
        """URL of the BYPASSRLS platform role, used only by `tenants.platform_session`."""
        return self._role_url(self.PLATFORM_DATABASE_URL, self.PLATFORM_DB_ROLE)

    def auth_database_url(self) -> str:
        """URL of the auth role: executes only the pre-tenant sign-in, reset, SSO and invitation functions."""
        return self._role_url(self.AUTH_DATABASE_URL, self.AUTH_DB_ROLE)

    def relay_database_url(self) -> str:
        """URL of the relay role: executes only the outbox claim and mark functions."""
        return self._role_url(self.RELAY_DATABASE_URL, self.RELAY_DB_ROLE)

    def _role_url(self, configured: str | None, role: str) -> str:
        if configured:
            return to_psycopg_url(configured)
        return with_credentials(self.owner_database_url(), role, self.role_password(role))

    def check_boot(self) -> None:
        """Refuse to start a server that would run with a missing secret or database."""
        self.secret_key()
        self.master_keys()
        if not (self.DATABASE_URL or self.APP_DATABASE_URL):
            raise ConfigurationError("DATABASE_URL (or APP_DATABASE_URL) is not set")

    def notify_allowed_private_hosts(self) -> set[str]:
        return {h.strip().lower() for h in self.NOTIFY_ALLOW_PRIVATE_HOSTS.split(",") if h.strip()}

    def sso_allowed_hosts(self) -> set[str]:
        return {h.strip().lower() for h in self.SSO_ALLOWED_HOSTS.split(",") if h.strip()}

    @property
    def assistant_provider_configured(self) -> bool:
        """A model is named, and either a key (hosted provider) or a base URL (own server) is given."""
        return bool(self.ASSISTANT_OPENAI_MODEL and (self.ASSISTANT_OPENAI_API_KEY or self.ASSISTANT_OPENAI_BASE_URL))

    def notify_retry_intervals(self) -> list[int]:
        return [max(1, int(float(v))) for v in self.NOTIFY_RETRY_INTERVALS.split(",") if v.strip()] or [60]

    def queue_names(self) -> list[str]:
        return [q.strip() for q in self.RQ_QUEUES.split(",") if q.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process (read once)."""
    return Settings()


def reset_settings_cache() -> None:
    """Forget cached settings (tests that change the environment call this)."""
    get_settings.cache_clear()
