"""The scale seed at a small size: counts, tenant isolation and a ledger that reconciles."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from backend.core.errors import Conflict, ValidationFailed
from backend.demo.scale import ScaleSpec, seed_scale
from backend.inventory.service import reconcile, search_medicines
from tenants.context import TenantContext
from tenants.session import run_in_tenant, tenant_session


def small_spec(**overrides: object) -> ScaleSpec:
    values: dict = {
        "tenants": 3,
        "medicines": 20,
        "branches": 2,
        "movements_per_batch": 5,
        "slug_prefix": f"scaletest-{uuid.uuid4().hex[:8]}",
        "tenants_per_transaction": 2,  # two platform transactions: chunking is exercised too
    }
    values.update(overrides)
    return ScaleSpec(**values)


def test_small_seed_has_the_counts_each_chain_sees_only_its_own_rows_and_the_ledger_reconciles(db):
    spec = small_spec()
    result = seed_scale(spec, actor="test")

    assert len(result.tenant_ids) == 3 and len(set(result.slugs)) == 3
    assert (result.branches, result.medicines, result.batches, result.movements) == (6, 60, 120, 600)
    ids = [str(t) for t in result.tenant_ids]
    counts = db.execute(
        text(
            "SELECT (SELECT count(*) FROM tenants WHERE id = ANY(CAST(:ids AS uuid[]))), "
            "(SELECT count(*) FROM branches WHERE tenant_id = ANY(CAST(:ids AS uuid[]))), "
            "(SELECT count(*) FROM memberships WHERE tenant_id = ANY(CAST(:ids AS uuid[])) AND role = 'owner'), "
            "(SELECT count(*) FROM medicines WHERE tenant_id = ANY(CAST(:ids AS uuid[]))), "
            "(SELECT count(*) FROM batches WHERE tenant_id = ANY(CAST(:ids AS uuid[]))), "
            "(SELECT count(*) FROM stock_movements WHERE tenant_id = ANY(CAST(:ids AS uuid[])))"
        ),
        {"ids": ids},
    ).one()
    assert tuple(counts) == (3, 6, 3, 60, 120, 600)

    for tenant_id in result.tenant_ids:
        with tenant_session(TenantContext.system(tenant_id)) as session:
            seen = session.execute(
                text(
                    "SELECT (SELECT array_agg(DISTINCT tenant_id) FROM medicines), "
                    "(SELECT array_agg(DISTINCT tenant_id) FROM batches), "
                    "(SELECT array_agg(DISTINCT tenant_id) FROM stock_movements), "
                    "(SELECT count(*) FROM medicines), (SELECT count(*) FROM stock_movements), "
                    "(SELECT count(DISTINCT barcode) FROM medicines), "
                    # Movements point at batches of the same medicine and branch.
                    "(SELECT count(*) FROM stock_movements s JOIN batches b ON b.id = s.batch_id "
                    " WHERE b.medicine_id <> s.medicine_id OR b.branch_id <> s.branch_id)"
                )
            ).one()
        assert seen[0] == seen[1] == seen[2] == [tenant_id]
        assert tuple(seen[3:]) == (20, 200, 20, 0)
        # The product's own search sees the chain's catalog with on-hand from its batches.
        found, more = run_in_tenant(TenantContext(tenant_id=tenant_id, role="owner"), search_medicines, "")
        assert len(found) == 20 and not more and all(m.on_hand >= 0 for m in found)

    for slug in result.slugs:
        assert reconcile(tenant_slug=slug, actor="test") == []
    on_hand, ledger, below_zero = db.execute(
        text(
            "SELECT (SELECT sum(quantity) FROM batches WHERE tenant_id = ANY(CAST(:ids AS uuid[]))), "
            "(SELECT sum(quantity) FROM stock_movements WHERE tenant_id = ANY(CAST(:ids AS uuid[]))), "
            "(SELECT count(*) FROM batches WHERE tenant_id = ANY(CAST(:ids AS uuid[])) AND quantity < 0)"
        ),
        {"ids": ids},
    ).one()
    assert on_hand == ledger and on_hand > 0 and below_zero == 0


def test_a_taken_prefix_and_bad_sizes_are_refused_before_anything_is_written(db):
    spec = small_spec(tenants=1, medicines=3, branches=1, movements_per_batch=2)
    seed_scale(spec, actor="test")
    with pytest.raises(Conflict):
        seed_scale(spec, actor="test")
    with pytest.raises(ValidationFailed):
        seed_scale(small_spec(slug_prefix="Not A Slug"), actor="test")
    with pytest.raises(ValidationFailed):
        seed_scale(small_spec(medicines=10**6), actor="test")
