"""Key rotation (issue 16): a new master key re-wraps the chains' keys; `--reencrypt` moves values to a
new data key in batches while the app keeps reading and writing, and a stopped run resumes."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import text

from backend.billing.claims import service as claims
from backend.core.errors import ConfigurationError, PermissionDenied
from backend.core.fieldcrypt import key_version
from backend.core.settings import reset_settings_cache
from backend.patients.allergies import patient_allergies, record_allergies
from backend.patients.service import create_patient, find_patients, get_patient, reseal_patients
from backend.prescriptions import reading
from backend.prescriptions.reading import reseal_reading_fields
from backend.protection.rotation import begin_reencryption, rotate_chain
from tenants.context import TenantContext
from tenants.session import run_in_tenant
from tests.backend.patients.test_encryption import read_by_ocr

OLD_KEY = base64.b64encode(b"o" * 32).decode()
NEW_KEY = base64.b64encode(b"n" * 32).decode()
NAMES = ["Ann Archer", "Ben Baker", "Cy Cole", "Dee Dunn", "Eve Evans"]


@pytest.fixture
def master_key(monkeypatch):
    """Set the master key(s) of this test; the suite's key comes back afterwards."""

    def use(current: str, previous: str = "") -> None:
        monkeypatch.setenv("DATA_ENCRYPTION_KEY", current)
        monkeypatch.setenv("DATA_ENCRYPTION_KEYS_PREVIOUS", previous)
        reset_settings_cache()

    yield use
    monkeypatch.undo()
    reset_settings_cache()


def owner(chain) -> TenantContext:
    return TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")


def register_all(chain) -> list:
    made = []
    for number, name in enumerate(NAMES):
        made.append(
            run_in_tenant(
                owner(chain),
                create_patient,
                full_name=name,
                date_of_birth=f"196{number}-05-01",
                phone=f"+1555010{number:04d}",
                home_branch_id=str(chain.branch_ids[0]),
            )
        )
    return made


def versions(db, table: str, column: str, tenant_id) -> set[int]:
    db.execute(text("RESET ROLE"))
    rows = db.execute(text(f"SELECT {column} FROM {table} WHERE tenant_id = :t"), {"t": tenant_id}).scalars()  # noqa: S608
    return {key_version(bytes(v)) for v in rows}


def test_values_move_to_a_new_data_key_while_the_app_serves(db, make_tenant):
    chain = make_tenant("rotate")
    made = register_all(chain)
    payer = run_in_tenant(owner(chain), claims.create_payer, name="Acme Health", payer_code="ACME")
    run_in_tenant(owner(chain), claims.add_coverage, patient_id=made[0].id, payer_id=payer.id, member_id="M-1")
    system = TenantContext.system(chain.tenant_id)

    # A run starts and is interrupted after one batch of two records.
    assert run_in_tenant(system, begin_reencryption) == 2
    after, changed = run_in_tenant(system, reseal_patients, None, 2)
    assert after is not None and changed == 2 * 7  # two records, seven sealed fields each
    assert versions(db, "patients", "full_name_enc", chain.tenant_id) == {1, 2}

    # Meanwhile the app reads both versions, searches and writes with the new key.
    for patient, name in zip(made, NAMES, strict=True):
        assert run_in_tenant(owner(chain), get_patient, patient.id).full_name == name
    assert [p.full_name for p in run_in_tenant(owner(chain), find_patients, "cole").items] == ["Cy Cole"]
    late = run_in_tenant(
        owner(chain),
        create_patient,
        full_name="Fay Ford",
        date_of_birth="1999-09-09",
        home_branch_id=str(chain.branch_ids[0]),
    )
    db.execute(text("RESET ROLE"))
    sealed = db.execute(text("SELECT full_name_enc FROM patients WHERE id = :p"), {"p": late.id}).scalar_one()
    assert key_version(bytes(sealed)) == 2

    # Run again: it resumes the same version (no third key), finishes and retires version 1.
    done = rotate_chain(chain.tenant_id, reencrypt=True, batch=2)
    assert done.version == 2 and done.retired == [1] and done.values_resealed == 3 * 7 + 2
    assert versions(db, "patients", "full_name_enc", chain.tenant_id) == {2}
    assert versions(db, "patients", "notes_enc", chain.tenant_id) == {2}
    assert versions(db, "patient_coverages", "member_id_enc", chain.tenant_id) == {2}
    for patient, name in zip(made, NAMES, strict=True):
        assert run_in_tenant(owner(chain), get_patient, patient.id).full_name == name
    assert claims.coverages_of_patient(owner(chain), made[0].id)[0].member_id == "M-1"
    keys = db.execute(
        text(
            "SELECT version, retired_at IS NOT NULL AS retired FROM chain_data_keys "
            "WHERE tenant_id = :t AND kind = 'data'"
        ),
        {"t": chain.tenant_id},
    ).all()
    assert sorted((k.version, k.retired) for k in keys) == [(1, True), (2, False)]


def test_allergies_and_ocr_readings_move_to_the_new_data_key_too(db, make_tenant, monkeypatch):
    chain = make_tenant("rotate-more")
    ctx = owner(chain)
    patient = register_all(chain)[0]
    run_in_tenant(ctx, record_allergies, patient.id, ["penicillin (rash)", "latex", "peanuts"])
    rx = read_by_ocr(ctx, chain, patient.id, {"patient_name": "Ann Archer", "drug": "amoxicillin"}, monkeypatch)
    run_in_tenant(ctx, reading.confirm_reading, rx, {"patient_name": "Ann B. Archer"})
    system = TenantContext.system(chain.tenant_id)
    assert run_in_tenant(system, begin_reencryption) == 2
    # A batch of the read fields (keyed by prescription and field) stops after two rows: it resumes there.
    after, changed = run_in_tenant(system, reseal_reading_fields, None, 2)
    assert after is not None and after[0] == rx and changed >= 2

    done = rotate_chain(chain.tenant_id, reencrypt=True, batch=2)
    assert done.version == 2 and done.retired == [1]
    for table, column in (
        ("patient_allergies", "written_enc"),
        ("patient_allergies", "reaction_enc"),
        ("prescription_reading_fields", "confirmed_value_enc"),
    ):
        assert versions(db, table, column, chain.tenant_id) == {2}, column
    read = db.execute(
        text("SELECT value_enc FROM prescription_reading_fields WHERE value_enc IS NOT NULL AND tenant_id = :t"),
        {"t": chain.tenant_id},
    ).scalars()
    assert sorted(key_version(bytes(v)) for v in read) == [2, 2]  # the name and the drug
    fields = {f.name: f for f in run_in_tenant(ctx, reading.get_reading, rx).fields}
    assert (fields["patient_name"].value, fields["patient_name"].confirmed_value) == ("Ann Archer", "Ann B. Archer")
    entries = run_in_tenant(ctx, patient_allergies, patient.id).entries
    assert [(e.written, e.reaction) for e in entries] == [("penicillin (rash)", "rash"), ("latex", ""), ("peanuts", "")]


def test_a_new_master_key_rewraps_the_chain_keys(db, make_tenant, master_key):
    master_key(OLD_KEY)
    chain = make_tenant("rewrap")
    made = register_all(chain)

    master_key(NEW_KEY, previous=OLD_KEY)  # the operator's first step: new key, the old one still accepted
    assert run_in_tenant(owner(chain), get_patient, made[1].id).full_name == "Ben Baker"
    assert rotate_chain(chain.tenant_id, reencrypt=False).rewrapped == 2  # the data key and the index key
    assert rotate_chain(chain.tenant_id, reencrypt=False).rewrapped == 0  # nothing left to do

    master_key(NEW_KEY)  # the old key removed: everything still opens
    assert run_in_tenant(owner(chain), get_patient, made[1].id).full_name == "Ben Baker"
    master_key(OLD_KEY)  # a process still on the old key fails loudly, never showing ciphertext or plaintext
    with pytest.raises(ConfigurationError, match="DATA_ENCRYPTION_KEYS_PREVIOUS"):
        run_in_tenant(owner(chain), get_patient, made[1].id)


def test_only_the_operator_rotates(make_tenant):
    chain = make_tenant("norotate")
    with pytest.raises(PermissionDenied):
        run_in_tenant(owner(chain), begin_reencryption)


def test_the_command_rotates_one_chain_and_says_what_it_did(make_tenant):
    from typer.testing import CliRunner

    from backend.cli import app

    chain = make_tenant("rotatecli")
    made = register_all(chain)
    result = CliRunner().invoke(app, ["keys", "rotate", "--tenant", chain.slug, "--reencrypt", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert f"{chain.slug}: 0 key(s) re-wrapped; 35 value(s) now under data key v2, retired v1" in result.output
    assert run_in_tenant(owner(chain), get_patient, made[4].id).full_name == "Eve Evans"
    unknown = CliRunner().invoke(app, ["keys", "rotate", "--tenant", "no-such-chain"])
    assert unknown.exit_code != 0 and "no-such-chain" in unknown.output
