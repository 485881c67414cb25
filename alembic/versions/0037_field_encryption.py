"""Field encryption of patient data (issue 16): chains' data keys, sealed identifiers, blind indexes.

`chain_data_keys` holds each chain's data and blind-index keys, wrapped by the master key
(DATA_ENCRYPTION_KEY). The patients' name, date of birth, phone, e-mail, address, allergies and notes,
and the coverages' member and group ids, move to sealed bytea columns (AES-GCM, bound to chain, table,
column and row); existing rows are sealed in batches, then the plaintext columns go, with their
indexes and CHECK constraints (the service checks every field before writing). The patients get
blind indexes (last name, its first three letters, phone, last four digits, date of birth).

Revision ID: 0037_field_encryption
Revises: 0036_renewals
"""

import sqlalchemy as sa
from alembic import op

from backend.core.migration_helpers import enable_tenant_rls
from backend.core.settings import get_settings
from backend.patients import identity
from backend.protection.keys import chain_keys

revision = "0037_field_encryption"
down_revision = "0036_renewals"
branch_labels = None
depends_on = None

BATCH = 1000
PATIENT_PLAIN = tuple(identity.SEALED)
COVERAGE_SEALED = {"member_id": "member_id_enc", "group_number": "group_number_enc"}


def upgrade() -> None:
    settings = get_settings()
    ring = settings.master_keys()  # no key: the migration stops here, before anything is written
    app = settings.APP_DB_ROLE
    op.execute("""
        CREATE TABLE chain_data_keys (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            kind text NOT NULL CHECK (kind IN ('data', 'index')),
            version integer NOT NULL CHECK (version >= 1),
            wrapped bytea NOT NULL,
            master_version text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            retired_at timestamptz,
            PRIMARY KEY (tenant_id, kind, version)
        )""")
    enable_tenant_rls(op.execute, "chain_data_keys")
    # A lost data key is lost data: the app may add and re-wrap keys, never delete them.
    op.execute(f"REVOKE DELETE, TRUNCATE ON chain_data_keys FROM {app}")

    op.execute(
        "ALTER TABLE patients "
        + ", ".join(f"ADD COLUMN {c} bytea" for c in (*identity.SEALED.values(), *identity.INDEXES))
    )
    op.execute("ALTER TABLE patient_coverages " + ", ".join(f"ADD COLUMN {c} bytea" for c in COVERAGE_SEALED.values()))
    bind = op.get_bind()
    for (tenant_id,) in bind.execute(sa.text("SELECT DISTINCT tenant_id FROM patients")).all():
        keys = chain_keys(bind, tenant_id, ring)
        _seal_patients(bind, keys, tenant_id)
        _seal_coverages(bind, keys, tenant_id)

    op.execute(
        "ALTER TABLE patients "
        + ", ".join(f"DROP COLUMN {c}" for c in PATIENT_PLAIN)  # their indexes and checks go with them
        + ", "
        + ", ".join(f"ALTER COLUMN {c} SET NOT NULL" for c in identity.SEALED.values())
    )
    op.execute(
        "ALTER TABLE patient_coverages DROP COLUMN member_id, DROP COLUMN group_number, "
        + ", ".join(f"ALTER COLUMN {c} SET NOT NULL" for c in COVERAGE_SEALED.values())
    )
    for column in identity.INDEXES:
        op.execute(f"CREATE INDEX patients_{column}_idx ON patients (tenant_id, {column}) WHERE {column} IS NOT NULL")
    _seal_images_and_pickups(bind, ring, app)


# Prescription originals (they show the patient's name and medicines) and pickups (who collected, their ID
# number, their signature): column -> sealed column, per table, with the table's row key.
BLOBS = {
    "prescription_images": (
        "prescription_id",
        {"data": "data_enc", "thumbnail": "thumbnail_enc", "preview": "preview_enc"},
        {"data_enc"},
    ),
    "prescription_pickups": (
        "id",
        {"picked_up_by_name": "picked_up_by_name_enc", "id_number": "id_number_enc", "signature_png": "signature_enc"},
        {"picked_up_by_name_enc", "id_number_enc", "signature_enc"},
    ),
}


def _seal_images_and_pickups(bind: sa.Connection, ring: object, app: str) -> None:
    for table, (key, columns, required) in BLOBS.items():
        op.execute(f"ALTER TABLE {table} " + ", ".join(f"ADD COLUMN {c} bytea" for c in columns.values()))
        for (tenant_id,) in bind.execute(sa.text(f"SELECT DISTINCT tenant_id FROM {table}")).all():  # noqa: S608
            keys = chain_keys(bind, tenant_id, ring)  # type: ignore[arg-type]
            rows = bind.execute(
                sa.text(f"SELECT {key} AS id, {', '.join(columns)} FROM {table} WHERE tenant_id = :t"),  # noqa: S608
                {"t": tenant_id},
            ).all()
            for start in range(0, len(rows), BATCH):
                bind.execute(
                    sa.text(
                        f"UPDATE {table} SET {', '.join(f'{c} = :{c}' for c in columns.values())} "  # noqa: S608
                        f"WHERE tenant_id = :t AND {key} = :id"
                    ),
                    [
                        {
                            "t": tenant_id,
                            "id": r.id,
                            **{c: _sealed(keys, table, c, r.id, getattr(r, f)) for f, c in columns.items()},
                        }
                        for r in rows[start : start + BATCH]
                    ],
                )
        op.execute(
            f"ALTER TABLE {table} "
            + ", ".join(f"DROP COLUMN {f}" for f in columns)  # their CHECKs go with them
            + ", "
            + ", ".join(f"ALTER COLUMN {c} SET NOT NULL" for c in sorted(required))
        )
        # The app may not change these rows (evidence), except to seal them again in a key rotation.
        op.execute(f"GRANT UPDATE ({', '.join(columns.values())}) ON {table} TO {app}")


def _sealed_row(keys: object, table: str, columns: dict[str, str], tenant_id: object, row: object) -> dict[str, object]:
    sealed = {c: _sealed(keys, table, c, row.id, getattr(row, f)) for f, c in columns.items()}  # type: ignore[attr-defined]
    return {"t": tenant_id, "id": row.id, **sealed}  # type: ignore[attr-defined]


def _sealed(keys: object, table: str, column: str, row_id: object, value: object) -> bytes | None:
    if value is None:
        return None
    plain = value.encode() if isinstance(value, str) else bytes(value)  # type: ignore[arg-type]
    return keys.seal_bytes(table, column, row_id, plain)  # type: ignore[attr-defined, no-any-return]


def _seal_patients(bind: sa.Connection, keys: object, tenant_id: object) -> None:
    after = None
    while True:
        rows = bind.execute(
            sa.text(
                f"SELECT id, {', '.join(PATIENT_PLAIN)} FROM patients WHERE tenant_id = :t "  # noqa: S608
                "AND (CAST(:after AS uuid) IS NULL OR id > CAST(:after AS uuid)) ORDER BY id LIMIT :n"
            ),
            {"t": tenant_id, "after": after, "n": BATCH},
        ).all()
        if not rows:
            return
        updates = [{"t": tenant_id, "id": r.id, **identity.stored(keys, r.id, r._asdict())} for r in rows]  # type: ignore[arg-type]
        columns = (*identity.SEALED.values(), *identity.INDEXES)
        bind.execute(
            sa.text(
                f"UPDATE patients SET {', '.join(f'{c} = :{c}' for c in columns)} "  # noqa: S608
                "WHERE tenant_id = :t AND id = :id"
            ),
            updates,
        )
        after = str(rows[-1].id)


def _seal_coverages(bind: sa.Connection, keys: object, tenant_id: object) -> None:
    after = None
    while True:
        rows = bind.execute(
            sa.text(
                "SELECT id, member_id, group_number FROM patient_coverages WHERE tenant_id = :t "
                "AND (CAST(:after AS uuid) IS NULL OR id > CAST(:after AS uuid)) ORDER BY id LIMIT :n"
            ),
            {"t": tenant_id, "after": after, "n": BATCH},
        ).all()
        if not rows:
            return
        updates = [
            {
                "t": tenant_id,
                "id": r.id,
                **{c: keys.seal("patient_coverages", c, r.id, getattr(r, f)) for f, c in COVERAGE_SEALED.items()},  # type: ignore[attr-defined]
            }
            for r in rows
        ]
        bind.execute(
            sa.text(
                "UPDATE patient_coverages SET member_id_enc = :member_id_enc, group_number_enc = :group_number_enc "
                "WHERE tenant_id = :t AND id = :id"
            ),
            updates,
        )
        after = str(rows[-1].id)


def downgrade() -> None:
    """Back to plaintext columns (decrypting with the chains' keys), for a rollback of the release."""
    ring = get_settings().master_keys()
    _unseal_images_and_pickups(op.get_bind(), ring, get_settings().APP_DB_ROLE)
    op.execute(
        "ALTER TABLE patients ADD COLUMN full_name text, ADD COLUMN date_of_birth date, ADD COLUMN phone text, "
        "ADD COLUMN email text, ADD COLUMN address text, ADD COLUMN allergies text, ADD COLUMN notes text"
    )
    op.execute("ALTER TABLE patient_coverages ADD COLUMN member_id text, ADD COLUMN group_number text")
    bind = op.get_bind()
    for (tenant_id,) in bind.execute(sa.text("SELECT DISTINCT tenant_id FROM patients")).all():
        keys = chain_keys(bind, tenant_id, ring)
        rows = bind.execute(
            sa.text(f"SELECT id, {', '.join(identity.SEALED.values())} FROM patients WHERE tenant_id = :t"),  # noqa: S608
            {"t": tenant_id},
        ).all()
        plain = [{"t": tenant_id, "id": r.id, **identity.opened(keys, r)} for r in rows]
        if plain:
            bind.execute(
                sa.text(
                    f"UPDATE patients SET {', '.join(f'{f} = :{f}' for f in PATIENT_PLAIN)} "  # noqa: S608
                    "WHERE tenant_id = :t AND id = :id"
                ),
                plain,
            )
        coverages = bind.execute(
            sa.text("SELECT id, member_id_enc, group_number_enc FROM patient_coverages WHERE tenant_id = :t"),
            {"t": tenant_id},
        ).all()
        if coverages:
            bind.execute(
                sa.text(
                    "UPDATE patient_coverages SET member_id = :m, group_number = :g WHERE tenant_id = :t AND id = :id"
                ),
                [
                    {
                        "t": tenant_id,
                        "id": r.id,
                        "m": keys.open("patient_coverages", "member_id_enc", r.id, r.member_id_enc),
                        "g": keys.open("patient_coverages", "group_number_enc", r.id, r.group_number_enc),
                    }
                    for r in coverages
                ],
            )
    op.execute(
        "ALTER TABLE patients "
        + ", ".join(f"DROP COLUMN {c}" for c in (*identity.SEALED.values(), *identity.INDEXES))
        + ", ALTER COLUMN full_name SET NOT NULL, ALTER COLUMN date_of_birth SET NOT NULL, "
        "ALTER COLUMN phone SET NOT NULL, ALTER COLUMN phone SET DEFAULT '', ALTER COLUMN email SET NOT NULL, "
        "ALTER COLUMN email SET DEFAULT '', ALTER COLUMN address SET NOT NULL, ALTER COLUMN address SET DEFAULT '', "
        "ALTER COLUMN allergies SET NOT NULL, ALTER COLUMN allergies SET DEFAULT '', "
        "ALTER COLUMN notes SET NOT NULL, ALTER COLUMN notes SET DEFAULT ''"
    )
    op.execute("CREATE INDEX patients_name_idx ON patients (tenant_id, lower(full_name))")
    op.execute("CREATE INDEX patients_birth_idx ON patients (tenant_id, date_of_birth)")
    op.execute(
        "ALTER TABLE patient_coverages DROP COLUMN member_id_enc, DROP COLUMN group_number_enc, "
        "ALTER COLUMN member_id SET NOT NULL, ALTER COLUMN group_number SET NOT NULL, "
        "ALTER COLUMN group_number SET DEFAULT ''"
    )
    op.execute("DROP TABLE chain_data_keys")


def _unseal_images_and_pickups(bind: sa.Connection, ring: object, app: str) -> None:
    plain_types = {"data": "bytea", "thumbnail": "bytea", "preview": "bytea", "picked_up_by_name": "text"}
    plain_types |= {"id_number": "text", "signature_png": "bytea"}
    for table, (key, columns, _) in BLOBS.items():
        op.execute(f"REVOKE UPDATE ON {table} FROM {app}")
        op.execute(f"ALTER TABLE {table} " + ", ".join(f"ADD COLUMN {f} {plain_types[f]}" for f in columns))
        for (tenant_id,) in bind.execute(sa.text(f"SELECT DISTINCT tenant_id FROM {table}")).all():  # noqa: S608
            keys = chain_keys(bind, tenant_id, ring)  # type: ignore[arg-type]
            rows = bind.execute(
                sa.text(f"SELECT {key} AS id, {', '.join(columns.values())} FROM {table} WHERE tenant_id = :t"),  # noqa: S608
                {"t": tenant_id},
            ).all()
            for r in rows:
                values = {}
                for f, c in columns.items():
                    sealed = getattr(r, c)
                    opened = None if sealed is None else keys.open_bytes(table, c, r.id, sealed)
                    values[f] = opened.decode() if opened is not None and plain_types[f] == "text" else opened
                bind.execute(
                    sa.text(f"UPDATE {table} SET {', '.join(f'{f} = :{f}' for f in columns)} WHERE {key} = :id"),  # noqa: S608
                    {"id": r.id, **values},
                )
        op.execute(f"ALTER TABLE {table} " + ", ".join(f"DROP COLUMN {c}" for c in columns.values()))
    op.execute("ALTER TABLE prescription_images ALTER COLUMN data SET NOT NULL")
    op.execute(
        "ALTER TABLE prescription_pickups ALTER COLUMN picked_up_by_name SET NOT NULL, "
        "ALTER COLUMN id_number SET NOT NULL, ALTER COLUMN id_number SET DEFAULT '', "
        "ALTER COLUMN signature_png SET NOT NULL"
    )
