"""Key rotation (`pharmacy-saas keys rotate`), while the app keeps serving.

- Re-wrap: every chain key wrapped by an earlier master key is wrapped again by the current one
  (DATA_ENCRYPTION_KEY; the earlier one in DATA_ENCRYPTION_KEYS_PREVIOUS until this has run).
- Re-encrypt (`--reencrypt`): a new data-key version becomes the chain's current one (new writes use it at
  once), then each owning domain seals its values again in batches, one transaction each. It is
  resumable: a rerun finds the version still in progress (older versions not yet retired) and carries
  on; rows already moved are skipped. A full pass that changes nothing (a write that began before the
  new version may still have used the old one) retires the older versions. Retired keys stay stored
  (a value nobody saw still opens), they only stop being used for new values.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.core.fieldcrypt import new_data_key
from backend.core.settings import get_settings
from backend.protection.keys import DATA, chain_keys, forget_chain_keys, wrap_context
from tenants.context import TenantContext
from tenants.roles import require
from tenants.session import run_in_tenant

MAX_PASSES = 3
Resealer = Callable[[Session, TenantContext, Any, int], tuple[Any, int]]


def _resealers() -> list[tuple[str, Resealer]]:
    """Each domain's batch function for the tables it owns (imported here: they import this package)."""
    from backend.billing.claims.service import reseal_coverages
    from backend.feedback.service import reseal_feedback
    from backend.notifications.channels import reseal_channels
    from backend.notifications.delivery import reseal_notifications
    from backend.patients.allergies import reseal_allergies
    from backend.patients.service import reseal_patients
    from backend.portal.refill_requests import reseal_refill_requests
    from backend.prescriptions.originals import reseal_originals
    from backend.prescriptions.pickup import reseal_pickups
    from backend.prescriptions.reading import reseal_reading_fields

    return [
        ("patients", reseal_patients),
        ("patient_coverages", reseal_coverages),
        ("prescription_images", reseal_originals),
        ("prescription_pickups", reseal_pickups),
        ("patient_allergies", reseal_allergies),
        ("prescription_reading_fields", reseal_reading_fields),
        ("portal_refill_requests", reseal_refill_requests),
        ("customer_feedback", reseal_feedback),
        ("notification_messages", reseal_notifications),
        ("notification_channels", reseal_channels),
    ]


@dataclass(frozen=True)
class Rotation:
    rewrapped: int
    version: int | None = None  # the data-key version values now use (--reencrypt)
    values_resealed: int = 0
    retired: list[int] | None = None


def rewrap_keys(session: Session, ctx: TenantContext) -> int:
    """Wrap every key of the chain under the current master key; returns how many changed."""
    require(ctx, "keys.rotate")
    ring = get_settings().master_keys()
    rows = session.execute(
        text(
            "SELECT kind, version, wrapped, master_version FROM chain_data_keys "
            "WHERE master_version <> :m ORDER BY kind, version FOR UPDATE"
        ),
        {"m": ring.current.version},
    ).all()
    for row in rows:
        context = wrap_context(ctx.tenant_id, row.kind, row.version)
        key = ring.unwrap(row.wrapped, row.master_version, context)
        session.execute(
            text("UPDATE chain_data_keys SET wrapped = :w, master_version = :m WHERE kind = :k AND version = :v"),
            {"w": ring.current.wrap(key, context), "m": ring.current.version, "k": row.kind, "v": row.version},
        )
    forget_chain_keys(session, ctx.tenant_id)
    return len(rows)


def begin_reencryption(session: Session, ctx: TenantContext) -> int:
    """The data-key version values are moving to: a new one, or the one a stopped run was moving to."""
    require(ctx, "keys.rotate")
    chain_keys(session, ctx.tenant_id)  # a chain that never stored anything gets its first keys
    live = (
        session.execute(
            text(
                "SELECT version FROM chain_data_keys WHERE kind = :d AND retired_at IS NULL ORDER BY version FOR UPDATE"
            ),
            {"d": DATA},
        )
        .scalars()
        .all()
    )
    if len(live) > 1:
        return int(live[-1])  # resuming
    newest = session.execute(text("SELECT max(version) FROM chain_data_keys WHERE kind = :d"), {"d": DATA}).scalar()
    version = int(newest or 0) + 1
    ring = get_settings().master_keys()
    session.execute(
        text(
            "INSERT INTO chain_data_keys (tenant_id, kind, version, wrapped, master_version) "
            "VALUES (:t, :d, :v, :w, :m)"
        ),
        {
            "t": ctx.tenant_id,
            "d": DATA,
            "v": version,
            "w": ring.current.wrap(new_data_key(), wrap_context(ctx.tenant_id, DATA, version)),
            "m": ring.current.version,
        },
    )
    forget_chain_keys(session, ctx.tenant_id)
    return version


def retire_older_versions(session: Session, ctx: TenantContext, version: int) -> list[int]:
    require(ctx, "keys.rotate")
    retired = (
        session.execute(
            text(
                "UPDATE chain_data_keys SET retired_at = now() WHERE kind = :d AND version < :v "
                "AND retired_at IS NULL RETURNING version"
            ),
            {"d": DATA, "v": version},
        )
        .scalars()
        .all()
    )
    return sorted(int(v) for v in retired)


def reseal_pass(ctx: TenantContext, batch: int, on_batch: Callable[[str, int], None] | None = None) -> int:
    """Every owning domain's values sealed again, one committed transaction per batch; returns how many."""
    total = 0
    for table, reseal in _resealers():
        after: Any = None
        while True:
            after, changed = run_in_tenant(ctx, reseal, after, batch)
            total += changed
            if on_batch is not None:
                on_batch(table, changed)
            if after is None:
                break
    return total


def rotate_chain(
    tenant_id: uuid.UUID, *, reencrypt: bool, batch: int = 500, on_batch: Callable[[str, int], None] | None = None
) -> Rotation:
    """The whole rotation of one chain (the CLI's body): re-wrap, then optionally re-encrypt."""
    ctx = TenantContext.system(tenant_id)
    rewrapped = run_in_tenant(ctx, rewrap_keys)
    if not reencrypt:
        return Rotation(rewrapped)
    version = run_in_tenant(ctx, begin_reencryption)
    resealed = 0
    for _ in range(MAX_PASSES):
        changed = reseal_pass(ctx, batch, on_batch)
        resealed += changed
        if changed == 0:
            return Rotation(rewrapped, version, resealed, run_in_tenant(ctx, retire_older_versions, version))
    return Rotation(rewrapped, version, resealed, [])  # still moving under heavy writes: run it again
