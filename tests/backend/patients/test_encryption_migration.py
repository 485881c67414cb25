"""Migrations 0037_field_encryption and 0041_seal_readings_allergies on a database that already holds patient
data: every row sealed in batches, the plaintext columns gone, searchable by blind index; the downgrade gives
the plaintext back."""

from __future__ import annotations

import uuid

import psycopg
from sqlalchemy import create_engine, pool, text

from backend.core.dbadmin import prepare_roles
from backend.core.settings import get_settings, to_psycopg_url
from backend.patients import identity
from backend.protection.keys import chain_keys
from tests.backend.core.test_migrations import migrate
from tests.conftest import _db_url, _server_url

PATIENTS = 1_005  # more than one batch of the migration (1,000)


def test_existing_patients_are_sealed_and_stay_findable():
    server, name = _server_url(), f"pharmacy_seal_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = create_engine(to_psycopg_url(_db_url(server, name)), poolclass=pool.NullPool)
    tenant, branch, payer, coverage = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    try:
        with engine.begin() as connection:
            prepare_roles(connection, get_settings())
            migrate(connection, "0036_renewals")
            params = {"t": tenant, "b": branch, "py": payer, "c": coverage, "n": PATIENTS}
            for statement in (
                "INSERT INTO tenants (id, slug, name) VALUES (:t, 'sealed-before', 'Sealed Before')",
                "INSERT INTO branches (tenant_id, id, name, code) VALUES (:t, :b, 'Main', 'MAIN')",
                "INSERT INTO patients (tenant_id, id, full_name, date_of_birth, phone, email, notes, home_branch_id) "
                "SELECT :t, md5('p' || p)::uuid, 'Person Number' || p, DATE '1950-01-01' + p, '+1555000' || "
                "lpad(p::text, 4, '0'), 'p' || p || '@example.org', 'likes tea', :b FROM generate_series(1, :n) p",
                "INSERT INTO payers (tenant_id, id, name, payer_code) VALUES (:t, :py, 'Acme', 'ACME')",
                "INSERT INTO patient_coverages (tenant_id, id, patient_id, payer_id, member_id, group_number) "
                "VALUES (:t, :c, md5('p7')::uuid, :py, 'MEMBER-0007', 'GRP-1')",
            ):
                connection.execute(text(statement), params)

            migrate(connection, "0037_field_encryption")
            columns = set(
                connection.execute(
                    text("SELECT column_name FROM information_schema.columns WHERE table_name = 'patients'")
                ).scalars()
            )
            assert not columns & {"full_name", "date_of_birth", "phone", "email", "notes"}
            keys = chain_keys(connection, tenant)
            row = connection.execute(
                text(
                    "SELECT id, full_name_enc, date_of_birth_enc, phone_enc, email_enc, address_enc, allergies_enc, "
                    "notes_enc FROM patients WHERE name_bidx = :n AND phone4_bidx = :p"
                ),
                {"n": keys.token("last_name", "number"), "p": keys.token("phone_last4", "1004")},
            ).one()  # found by blind indexes only: "Person Number1004", +15550001004
            assert identity.opened(keys, row)["full_name"] == "Person Number1004"
            assert identity.opened(keys, row)["email"] == "p1004@example.org"
            sealed = connection.execute(
                text("SELECT count(*) FROM patients WHERE tenant_id = :t AND dob_bidx IS NOT NULL"), {"t": tenant}
            ).scalar_one()
            assert sealed == PATIENTS
            member = connection.execute(
                text("SELECT member_id_enc FROM patient_coverages WHERE id = :c"), {"c": coverage}
            ).scalar_one()
            assert keys.open("patient_coverages", "member_id_enc", coverage, member) == "MEMBER-0007"

            migrate_down(connection, "0036_renewals")
            back = connection.execute(
                text("SELECT full_name, phone, notes FROM patients WHERE id = md5('p1004')::uuid")
            ).one()
            assert tuple(back) == ("Person Number1004", "+15550001004", "likes tea")
    finally:
        engine.dispose()
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate_down(connection, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from backend.core.dbadmin import ALEMBIC_INI

    config = Config(str(ALEMBIC_INI))
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


def test_existing_readings_and_allergies_are_sealed_and_the_downgrade_gives_them_back():
    """0041: what OCR read off a prescription (the patient's name) and the allergies typed as free text."""
    server, name = _server_url(), f"pharmacy_seal41_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = create_engine(to_psycopg_url(_db_url(server, name)), poolclass=pool.NullPool)
    tenant, branch, patient, rx, allergy = (uuid.uuid4() for _ in range(5))
    try:
        with engine.begin() as connection:
            prepare_roles(connection, get_settings())
            migrate(connection, "0036_renewals")
            params = {"t": tenant, "b": branch, "p": patient, "rx": rx, "a": allergy}
            for statement in (
                "INSERT INTO tenants (id, slug, name) VALUES (:t, 'read-before', 'Read Before')",
                "INSERT INTO branches (tenant_id, id, name, code) VALUES (:t, :b, 'Main', 'MAIN')",
                "INSERT INTO patients (tenant_id, id, full_name, date_of_birth, home_branch_id) "
                "VALUES (:t, :p, 'Hector Lindqvist', DATE '1950-04-06', :b)",
                "INSERT INTO prescriptions (tenant_id, id, branch_id, rx_seq, rx_number, patient_id, status, source) "
                "VALUES (:t, :rx, :b, 1, 'MAIN-1', :p, 'data_entry', 'walk_in')",
                "INSERT INTO prescription_readings (tenant_id, prescription_id, status) VALUES (:t, :rx, 'confirmed')",
                "INSERT INTO prescription_reading_fields (tenant_id, prescription_id, field, value, confidence, "
                "confirmed_value, corrected) VALUES (:t, :rx, 'patient_name', 'Hector Lindqvst', 0.7, "
                "'Hector Lindqvist', true), (:t, :rx, 'rx_number', NULL, 0, '', false)",
                "INSERT INTO patient_allergies (tenant_id, id, patient_id, position, written, reaction, kind, matched) "
                "VALUES (:t, :a, :p, 0, 'penicillin (Lindqvist family rash)', 'Lindqvist family rash', 'class', "
                "'penicillins')",
            ):
                connection.execute(text(statement), params)

            migrate(connection, "0041_seal_readings_allergies")
            dumped = "\n".join(
                row
                for table in ("patient_allergies", "prescription_reading_fields")
                for row in connection.execute(text(f"SELECT row_to_json(x)::text FROM {table} x")).scalars()  # noqa: S608
            )
            assert "lindqv" not in dumped.lower() and "penicillins" in dumped  # the matched class stays plain
            keys = chain_keys(connection, tenant)
            read = connection.execute(
                text(
                    "SELECT value_enc, confirmed_value_enc, corrected FROM prescription_reading_fields "
                    "WHERE field = 'patient_name'"
                )
            ).one()
            row = f"{rx}/patient_name"
            assert keys.open("prescription_reading_fields", "value_enc", row, read.value_enc) == "Hector Lindqvst"
            assert keys.open("prescription_reading_fields", "confirmed_value_enc", row, read.confirmed_value_enc) == (
                "Hector Lindqvist"
            )
            blank = connection.execute(
                text("SELECT value_enc FROM prescription_reading_fields WHERE field = 'rx_number'")
            ).scalar_one()
            assert blank is None  # nothing read stays nothing
            written = connection.execute(
                text("SELECT written_enc FROM patient_allergies WHERE id = :a"), {"a": allergy}
            ).scalar_one()
            opened = keys.open("patient_allergies", "written_enc", allergy, written)
            assert opened == "penicillin (Lindqvist family rash)"

            migrate_down(connection, "0040_message_disclosure")
            back = connection.execute(
                text("SELECT value, confirmed_value FROM prescription_reading_fields WHERE field = 'patient_name'")
            ).one()
            assert tuple(back) == ("Hector Lindqvst", "Hector Lindqvist")
            assert connection.execute(text("SELECT reaction FROM patient_allergies")).scalar_one() == (
                "Lindqvist family rash"
            )
    finally:
        engine.dispose()
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
