"""Prescription-only medicine at the counter (issue 14, part 2, section 3): the chain's counter rule and
the pharmacist's emergency supply.

- `prescription_settings.counter_rule`: 'fill_required' (the US rule, the default: a prescription-only
  medicine reaches a bill only as a checked fill) or 'reference_or_override' (a jurisdiction that lets a
  pharmacist supply without a prescription: a typed reference or a signed override, as before).
- `prescription_settings.emergency_max_days`: the most days' supply a pharmacist's emergency supply carries.
- An emergency supply is a prescription with source 'emergency_supply' and no prescriber: the pharmacist
  who signs it is its author (their signature and reason are in `prescription_verifications`).

Revision ID: 0035_emergency_supply
Revises: 0034_recall
"""

from alembic import op

revision = "0035_emergency_supply"
down_revision = "0034_recall"
branch_labels = None
depends_on = None

# The unnamed check of 0027 that a prescription ready to fill has its prescriber (and the rest).
_COMPLETE = "prescriptions_complete_check"
_COMPLETE_BODY = (
    "status NOT IN ('verification', 'fill') OR ((prescriber_id IS NOT NULL OR source = 'emergency_supply') "
    "AND medicine_id IS NOT NULL AND quantity IS NOT NULL AND days_supply IS NOT NULL "
    "AND date_written IS NOT NULL AND expires_on IS NOT NULL AND sig_written <> '')"
)


def _drop_complete_check() -> None:
    op.execute("""
        DO $$
        DECLARE found text;
        BEGIN
            SELECT conname INTO found FROM pg_constraint
            WHERE conrelid = 'prescriptions'::regclass AND contype = 'c'
              AND pg_get_constraintdef(oid) LIKE '%prescriber_id IS NOT NULL%';
            IF found IS NOT NULL THEN
                EXECUTE format('ALTER TABLE prescriptions DROP CONSTRAINT %I', found);
            END IF;
        END $$""")


def upgrade() -> None:
    op.execute(
        "ALTER TABLE prescription_settings "
        "ADD COLUMN counter_rule text NOT NULL DEFAULT 'fill_required' "
        "CHECK (counter_rule IN ('fill_required', 'reference_or_override')), "
        "ADD COLUMN emergency_max_days integer NOT NULL DEFAULT 3 CHECK (emergency_max_days BETWEEN 1 AND 30)"
    )
    op.execute("ALTER TABLE prescriptions DROP CONSTRAINT prescriptions_source_check")
    op.execute(
        "ALTER TABLE prescriptions ADD CONSTRAINT prescriptions_source_check "
        "CHECK (source IN ('walk_in', 'phone', 'fax', 'portal', 'electronic', 'transfer', 'emergency_supply'))"
    )
    _drop_complete_check()
    op.execute(f"ALTER TABLE prescriptions ADD CONSTRAINT {_COMPLETE} CHECK ({_COMPLETE_BODY})")
    # An emergency supply never has refills and never is a controlled substance.
    op.execute(
        "ALTER TABLE prescriptions ADD CONSTRAINT prescriptions_emergency_supply_check "
        "CHECK (source <> 'emergency_supply' OR (refills_authorized = 0 AND schedule IS NULL))"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE prescriptions DROP CONSTRAINT prescriptions_emergency_supply_check")
    op.execute(f"ALTER TABLE prescriptions DROP CONSTRAINT {_COMPLETE}")
    op.execute(
        "ALTER TABLE prescriptions ADD CHECK (status NOT IN ('verification', 'fill') OR (prescriber_id IS NOT NULL "
        "AND medicine_id IS NOT NULL AND quantity IS NOT NULL AND days_supply IS NOT NULL "
        "AND date_written IS NOT NULL AND expires_on IS NOT NULL AND sig_written <> ''))"
    )
    op.execute("ALTER TABLE prescriptions DROP CONSTRAINT prescriptions_source_check")
    op.execute("UPDATE prescriptions SET source = 'walk_in' WHERE source = 'emergency_supply'")
    op.execute(
        "ALTER TABLE prescriptions ADD CONSTRAINT prescriptions_source_check "
        "CHECK (source IN ('walk_in', 'phone', 'fax', 'portal', 'electronic', 'transfer'))"
    )
    op.execute("ALTER TABLE prescription_settings DROP COLUMN counter_rule, DROP COLUMN emergency_max_days")
