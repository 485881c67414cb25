"""Field encryption of the OCR's read fields and the structured allergies (issue 16 §1).

`prescription_reading_fields.value` and `.confirmed_value` (what OCR read off the prescription and what the
person confirmed: the patient's name, date of birth, address...) and `patient_allergies.written` and
`.reaction` (free text as typed) move to sealed bytea columns (AES-GCM, bound to chain, table, column and
row; a read field's row is "<prescription id>/<field>"). Existing rows are sealed in batches, then the
plaintext columns go with their CHECK constraints (the services check the lengths before writing).

Revision ID: 0041_seal_readings_allergies
Revises: 0040_message_disclosure
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

from backend.core.settings import get_settings
from backend.protection.keys import chain_keys

revision = "0041_seal_readings_allergies"
down_revision = "0040_message_disclosure"
branch_labels = None
depends_on = None

BATCH = 1000
READINGS = "prescription_reading_fields"
ALLERGIES = "patient_allergies"
READING_COLUMNS = {"value": "value_enc", "confirmed_value": "confirmed_value_enc"}
ALLERGY_COLUMNS = {"written": "written_enc", "reaction": "reaction_enc"}


def _reading_row(row: Any) -> str:
    return f"{row.prescription_id}/{row.field}"  # as backend/prescriptions/reading.py binds them


def _allergy_row(row: Any) -> str:
    return str(row.id)


# table -> (its key columns, plain -> sealed columns, the row id a value is bound to)
TABLES: dict[str, tuple[tuple[str, ...], dict[str, str], Any]] = {
    READINGS: (("prescription_id", "field"), READING_COLUMNS, _reading_row),
    ALLERGIES: (("id",), ALLERGY_COLUMNS, _allergy_row),
}


def _where(key: tuple[str, ...]) -> str:
    return " AND ".join(f"{k} = :{k}" for k in ("tenant_id", *key))


def _convert(bind: sa.Connection, ring: object, table: str, source: dict[str, str], seal: bool) -> None:
    """Every row's `source` columns (plain -> sealed, or sealed -> plain) written to their counterparts,
    chain by chain, in batches of BATCH rows."""
    key, _, row_id = TABLES[table]
    for (tenant_id,) in bind.execute(sa.text(f"SELECT DISTINCT tenant_id FROM {table}")).all():  # noqa: S608
        keys = chain_keys(bind, tenant_id, ring)  # type: ignore[arg-type]
        order = ", ".join(key)
        rows = bind.execute(
            sa.text(f"SELECT {order}, {', '.join(source)} FROM {table} WHERE tenant_id = :t ORDER BY {order}"),  # noqa: S608
            {"t": tenant_id},
        ).all()
        for start in range(0, len(rows), BATCH):
            updates = []
            for r in rows[start : start + BATCH]:
                values: dict[str, object] = {}
                for column, target in source.items():
                    value = getattr(r, column)
                    sealed_column = target if seal else column
                    if value is None:
                        values[target] = None
                    elif seal:
                        values[target] = keys.seal(table, sealed_column, row_id(r), value)
                    else:
                        values[target] = keys.open(table, sealed_column, row_id(r), value)
                updates.append({"tenant_id": tenant_id, **{k: getattr(r, k) for k in key}, **values})
            bind.execute(
                sa.text(
                    f"UPDATE {table} SET {', '.join(f'{c} = :{c}' for c in source.values())} "  # noqa: S608
                    f"WHERE {_where(key)}"
                ),
                updates,
            )


def upgrade() -> None:
    ring = get_settings().master_keys()  # no key: the migration stops here, before anything is written
    bind = op.get_bind()
    for table, (_, columns, _) in TABLES.items():
        op.execute(f"ALTER TABLE {table} " + ", ".join(f"ADD COLUMN {c} bytea" for c in columns.values()))
        _convert(bind, ring, table, columns, seal=True)
        op.execute(f"ALTER TABLE {table} " + ", ".join(f"DROP COLUMN {c}" for c in columns))  # CHECKs go too
    # An allergy always has its text and a reaction ('' when none was given); a read field may have neither.
    op.execute(f"ALTER TABLE {ALLERGIES} ALTER COLUMN written_enc SET NOT NULL, ALTER COLUMN reaction_enc SET NOT NULL")


def downgrade() -> None:
    """Back to plaintext columns (decrypting with the chains' keys), for a rollback of the release."""
    ring = get_settings().master_keys()
    bind = op.get_bind()
    op.execute(
        f"ALTER TABLE {READINGS} ADD COLUMN value text CHECK (length(value) <= 500), "
        "ADD COLUMN confirmed_value text CHECK (length(confirmed_value) <= 500)"
    )
    op.execute(
        f"ALTER TABLE {ALLERGIES} ADD COLUMN written text CHECK (length(written) BETWEEN 1 AND 200), "
        "ADD COLUMN reaction text DEFAULT '' CHECK (length(reaction) <= 200)"
    )
    for table, (_, columns, _) in TABLES.items():
        _convert(bind, ring, table, {sealed: plain for plain, sealed in columns.items()}, seal=False)
        op.execute(f"ALTER TABLE {table} " + ", ".join(f"DROP COLUMN {c}" for c in columns.values()))
    op.execute(f"ALTER TABLE {ALLERGIES} ALTER COLUMN written SET NOT NULL, ALTER COLUMN reaction SET NOT NULL")
