"""Branches an owner manages (phone, opening hours, active or not) and reorder levels with a mode.

Branches:
- `phone`, `opening_hours` (jsonb: every weekday with its opening intervals, `{}` until stated) and
  `is_active` / `deactivated_at`. A deactivated branch keeps every row that points at it (bills,
  batches, ledger); it only stops taking sales, deliveries and transfers, so branches are never
  deleted: DELETE and TRUNCATE are revoked from the app role.
- The standard tax rate gets the upper bound the reduced rate already has.

Reorder levels:
- `mode`: `manual` (the chain's own point and quantity) or `automatic` (the forecast's, once the
  forecasting work writes `forecast_point` / `forecast_quantity`). The manual numbers may stay on an
  automatic row as its fallback while no forecast exists, so both become nullable, but a manual row
  needs both and a row never has only one of them.
- `updated_at` / `updated_by`: who last set the level (a bulk save is one audit event, not one per row).
- CSV imports gain the kind `reorder_levels`.

Revision ID: 0024_branches_reorder
Revises: 0023_function_roles
Create Date: 2026-12-08
"""

from alembic import op

from backend.core.settings import get_settings

revision = "0024_branches_reorder"
down_revision = "0023_function_roles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    app = f'"{get_settings().APP_DB_ROLE}"'
    op.execute("""
        ALTER TABLE branches
            ADD COLUMN phone text NOT NULL DEFAULT '',
            ADD COLUMN opening_hours jsonb NOT NULL DEFAULT '{}'::jsonb
                CHECK (jsonb_typeof(opening_hours) = 'object'),
            ADD COLUMN is_active boolean NOT NULL DEFAULT true,
            ADD COLUMN deactivated_at timestamptz,
            ADD CONSTRAINT branches_default_tax_rate_below_100 CHECK (default_tax_rate < 100),
            ADD CONSTRAINT branches_deactivated_when_inactive CHECK (is_active = (deactivated_at IS NULL))
    """)
    op.execute(f"REVOKE DELETE, TRUNCATE ON branches FROM {app}")

    op.execute("""
        ALTER TABLE reorder_levels
            ALTER COLUMN reorder_point DROP NOT NULL,
            ALTER COLUMN reorder_quantity DROP NOT NULL,
            ADD COLUMN mode text NOT NULL DEFAULT 'manual' CHECK (mode IN ('manual', 'automatic')),
            ADD COLUMN forecast_point integer CHECK (forecast_point >= 0),
            ADD COLUMN forecast_quantity integer CHECK (forecast_quantity > 0),
            ADD COLUMN forecast_at timestamptz,
            ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
            ADD COLUMN updated_by uuid,
            ADD CONSTRAINT reorder_levels_manual_pair CHECK ((reorder_point IS NULL) = (reorder_quantity IS NULL)),
            ADD CONSTRAINT reorder_levels_manual_needs_numbers CHECK (mode = 'automatic' OR reorder_point IS NOT NULL),
            ADD CONSTRAINT reorder_levels_forecast_pair
                CHECK ((forecast_point IS NULL) = (forecast_quantity IS NULL))
    """)
    op.execute("ALTER TABLE catalog_imports DROP CONSTRAINT catalog_imports_kind_check")
    op.execute(
        "ALTER TABLE catalog_imports ADD CONSTRAINT catalog_imports_kind_check "
        "CHECK (kind IN ('catalog', 'opening_stock', 'reorder_levels'))"
    )


def downgrade() -> None:
    app = f'"{get_settings().APP_DB_ROLE}"'
    op.execute("DELETE FROM catalog_imports WHERE kind = 'reorder_levels'")
    op.execute("ALTER TABLE catalog_imports DROP CONSTRAINT catalog_imports_kind_check")
    op.execute(
        "ALTER TABLE catalog_imports ADD CONSTRAINT catalog_imports_kind_check "
        "CHECK (kind IN ('catalog', 'opening_stock'))"
    )
    # Automatic rows without manual numbers cannot go back to the old NOT NULL columns.
    op.execute("DELETE FROM reorder_levels WHERE reorder_point IS NULL")
    op.execute("""
        ALTER TABLE reorder_levels
            DROP CONSTRAINT reorder_levels_forecast_pair,
            DROP CONSTRAINT reorder_levels_manual_needs_numbers,
            DROP CONSTRAINT reorder_levels_manual_pair,
            DROP COLUMN updated_by,
            DROP COLUMN updated_at,
            DROP COLUMN forecast_at,
            DROP COLUMN forecast_quantity,
            DROP COLUMN forecast_point,
            DROP COLUMN mode,
            ALTER COLUMN reorder_quantity SET NOT NULL,
            ALTER COLUMN reorder_point SET NOT NULL
    """)
    op.execute(f"GRANT DELETE, TRUNCATE ON branches TO {app}")
    op.execute("""
        ALTER TABLE branches
            DROP CONSTRAINT branches_deactivated_when_inactive,
            DROP CONSTRAINT branches_default_tax_rate_below_100,
            DROP COLUMN deactivated_at,
            DROP COLUMN is_active,
            DROP COLUMN opening_hours,
            DROP COLUMN phone
    """)
