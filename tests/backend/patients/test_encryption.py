"""Field encryption of patient data (issue 16): what a stolen dump shows, round trips, keys, blind indexes."""

from __future__ import annotations

import base64
import io
import uuid
from datetime import UTC, date, datetime

import pytest
from PIL import Image
from sqlalchemy import text

from backend.billing.claims import service as claims
from backend.core.errors import ConfigurationError
from backend.core.fieldcrypt import DecryptionFailed, LocalMasterKey, MasterKeyRing, key_version
from backend.core.settings import Settings
from backend.jobs.registry import handler_for
from backend.ocr.fields import FIELDS, Field
from backend.ocr.pipeline import Reading
from backend.patients.allergies import allergens_for_review, patient_allergies, record_allergies
from backend.patients.bulk import NewPatient, load_patients
from backend.patients.service import create_patient, find_patients, get_patient, identities, patients_matching
from backend.prescriptions import reading
from backend.prescriptions import service as prescriptions
from backend.prescriptions.originals import OCR_JOB
from backend.protection.keys import chain_keys, forget_chain_keys
from tenants.context import TenantContext
from tenants.session import platform_session, run_in_tenant, tenant_session

# Demo-like people: what must never appear in clear anywhere in the database.
PEOPLE = [
    ("Rosalind Quimby", "1948-03-09", "+1 (617) 555-0142", "rosalind.quimby@example.org"),
    ("Tobias Wexford", "1983-11-27", "617-555-0199", "t.wexford@example.net"),
    ("Marisol Quimby-Ortega", "1999-07-04", "", "marisol@example.com"),
]
SECRET_WORDS = ["Rosalind", "Quimby", "Tobias", "Wexford", "Marisol", "Ortega", "rosalind.quimby", "wexford"]
# No short digit runs: the hex of ciphertexts may hold them by chance.
SECRET_VALUES = ["1948-03-09", "1983-11-27", "1999-07-04", "6175550142", "6175550199", "MEMBER-77231"]


def owner(chain) -> TenantContext:
    return TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")


def register(ctx: TenantContext, chain, name: str, born: str, phone: str = "", email: str = "", **more):
    return run_in_tenant(
        ctx,
        create_patient,
        full_name=name,
        date_of_birth=born,
        phone=phone,
        email=email,
        home_branch_id=str(chain.branch_ids[0]),
        **more,
    )


def dump(db, table: str) -> str:
    """Every row of a table as the database owner reads it (RLS bypassed), as text."""
    db.execute(text("RESET ROLE"))
    rows = db.execute(text(f"SELECT row_to_json(x)::text FROM {table} x")).scalars().all()  # noqa: S608
    return "\n".join(rows)


def test_the_owner_reading_the_tables_finds_no_identifier_in_clear(db, make_tenant):
    chain = make_tenant("sealed")
    ctx = owner(chain)
    made = [
        register(ctx, chain, name, born, phone, email, notes=f"{name} prefers mornings", contact_consent=True)
        for name, born, phone, email in PEOPLE
    ]
    # The demo seed's bulk path seals too.
    with platform_session(actor="test", reason="encryption test", tenant_id=chain.tenant_id) as session:
        load_patients(
            session,
            str(chain.tenant_id),
            [
                NewPatient(
                    str(uuid.uuid4()),
                    "Tobias Wexford",
                    date(1983, 11, 27),
                    str(chain.branch_ids[0]),
                    None,
                    datetime.now(UTC),
                    phone="+16175550199",
                    allergies="Rosalind's penicillin note",
                )
            ],
            today=date.today(),
        )
    payer = run_in_tenant(ctx, claims.create_payer, name="Acme Health", payer_code="ACME")
    run_in_tenant(ctx, claims.add_coverage, patient_id=made[0].id, payer_id=payer.id, member_id="MEMBER-77231")
    run_in_tenant(ctx, get_patient, made[1].id)
    # A whole last name is matched exactly; its first three letters find every last name they begin.
    assert [p.full_name for p in run_in_tenant(ctx, find_patients, "quimby").items] == ["Rosalind Quimby"]
    assert [p.full_name for p in run_in_tenant(ctx, find_patients, "qui").items] == [
        "Marisol Quimby-Ortega",
        "Rosalind Quimby",
    ]
    # A first name is not a last name: its letters find candidates, the decrypted names are filtered.
    assert [p.full_name for p in run_in_tenant(ctx, find_patients, "Quim Rosalind").items] == ["Rosalind Quimby"]

    tables = ["patients", "patient_coverages", "audit_events", "patient_access_log", "chain_data_keys"]
    tables += ["patient_allergies", "prescription_reading_fields"]
    everything = "\n".join(dump(db, table) for table in tables).lower()
    assert "quimby" not in dump(db, "patients").lower()
    for secret in [*SECRET_WORDS, *SECRET_VALUES]:
        assert secret.lower() not in everything, secret
    # Nor are identifiers the source of any index (an index on a plaintext column would keep it).
    indexed = db.execute(
        text(
            "SELECT a.attname, pg_get_indexdef(x.indexrelid) AS definition FROM pg_index x "
            "JOIN pg_class t ON t.oid = x.indrelid LEFT JOIN pg_attribute a ON a.attrelid = t.oid "
            "AND a.attnum = ANY(x.indkey) WHERE t.relname IN ('patients', 'patient_coverages')"
        )
    ).all()
    assert {r.attname for r in indexed} & {"full_name", "date_of_birth", "phone", "email", "member_id"} == set()
    assert not [r.definition for r in indexed if "lower(" in r.definition or "full_name)" in r.definition]
    plain_columns = db.execute(
        text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'patients' "
            "AND column_name IN ('full_name', 'date_of_birth', 'phone', 'email', 'address', 'notes', 'allergies')"
        )
    ).all()
    assert plain_columns == []


def read_by_ocr(ctx: TenantContext, chain, patient_id: str, read: dict[str, str], monkeypatch) -> str:
    """A prescription whose original the `ocr` job read (the engine stubbed to find `read`); its id."""
    page = io.BytesIO()
    Image.new("RGB", (120, 80), "white").save(page, format="PNG")
    rx = run_in_tenant(
        ctx,
        prescriptions.create_prescription,
        branch_id=str(chain.branch_ids[0]),
        patient_id=patient_id,
        source="walk_in",
        image=page.getvalue(),
    )
    found = {n: Field(read.get(n), 0.95 if n in read else 0.0, None) for n in FIELDS}
    monkeypatch.setattr(reading, "read_prescription", lambda image: Reading(found, {}, ((120, 80),), "test", 0.1))
    assert run_in_tenant(TenantContext.system(chain.tenant_id), handler_for(OCR_JOB), prescription_id=rx.id) == "read"
    return rx.id


def test_an_ocr_reading_of_the_patients_name_and_allergies_typed_as_free_text_are_sealed(db, make_tenant, monkeypatch):
    chain = make_tenant("sealed-reading")
    ctx = owner(chain)
    patient = register(ctx, chain, "Rosalind Quimby", "1948-03-09")
    typed = ["penicillin (hives, says Rosalind)", "Latex - Quimby family"]
    run_in_tenant(ctx, record_allergies, patient.id, typed)
    # The OCR engine reads the patient's name and date of birth off the prescription.
    read = {"patient_name": "Rosalind Quimby", "date_of_birth": "1948-03-09", "drug": "amoxicillin"}
    rx = read_by_ocr(ctx, chain, patient.id, read, monkeypatch)
    run_in_tenant(ctx, reading.confirm_reading, rx, {"patient_name": "Rosalind M. Quimby"})

    # The app reads them back in clear: the confirm screen, the record, and the DUR's allergy check.
    fields = {f.name: f for f in run_in_tenant(ctx, reading.get_reading, rx).fields}
    name = fields["patient_name"]
    assert (name.value, name.confirmed_value, name.corrected) == ("Rosalind Quimby", "Rosalind M. Quimby", True)
    assert (fields["date_of_birth"].value, fields["date_of_birth"].corrected) == ("1948-03-09", False)
    assert fields["rx_number"].value == "" and fields["rx_number"].confirmed_value == ""
    accuracy = {a.field: a for a in run_in_tenant(ctx, reading.accuracy_report)}
    assert (accuracy["patient_name"].confirmed, accuracy["patient_name"].right) == (1, 0)
    assert (accuracy["date_of_birth"].confirmed, accuracy["date_of_birth"].right) == (1, 1)
    entries = run_in_tenant(ctx, patient_allergies, patient.id).entries
    assert [(e.written, e.reaction, e.matched) for e in entries] == [
        ("penicillin (hives, says Rosalind)", "hives, says Rosalind", "penicillins"),
        ("Latex - Quimby family", "Quimby family", ""),
    ]
    review = run_in_tenant(ctx, lambda session, _ctx: allergens_for_review(session, uuid.UUID(patient.id), ""))
    assert review[0] == typed

    # The database owner reading the tables finds neither.
    dumped = "\n".join(dump(db, table) for table in ("patient_allergies", "prescription_reading_fields")).lower()
    for secret in ("rosalind", "quimby", "1948-03-09", "hives", "amoxicillin"):
        assert secret not in dumped, secret
    assert "penicillins" in dumped  # what an entry was matched to (a class from the drug list) stays plain


def test_values_round_trip_and_carry_their_key_version(db, make_tenant):
    chain = make_tenant("roundtrip")
    ctx = owner(chain)
    made = register(ctx, chain, "Zoë  O'Brien", "1970-01-31", "+44 20 7946 0958", "Zoe@Example.COM", address="1 Rue")
    opened = run_in_tenant(ctx, get_patient, made.id)
    assert (opened.full_name, opened.date_of_birth, opened.phone, opened.email, opened.address) == (
        "Zoë O'Brien",
        date(1970, 1, 31),
        "+442079460958",
        "Zoe@example.com",
        "1 Rue",
    )
    db.execute(text("RESET ROLE"))
    sealed = db.execute(text("SELECT full_name_enc FROM patients WHERE id = :p"), {"p": made.id}).scalar_one()
    assert sealed[0] == 1 and key_version(bytes(sealed)) == 1  # format tag, data-key version
    # Accents and apostrophes fold: the counter finds Zoë O'Brien by "obrien" and by "O'BR".
    for query in ("obrien", "O'BR", "zoe obr", "0958", "+44 20 7946 0958", "1970-01-31"):
        assert [p.id for p in run_in_tenant(ctx, find_patients, query).items] == [made.id], query
    assert identities_of(ctx, made.id).full_name == "Zoë O'Brien"


def identities_of(ctx: TenantContext, patient_id: str):
    with tenant_session(ctx) as session:
        return identities(session, ctx, [patient_id])[uuid.UUID(patient_id)]


def test_a_value_moved_to_another_row_does_not_decrypt(db, make_tenant):
    chain = make_tenant("moved")
    ctx = owner(chain)
    first = register(ctx, chain, "Ada Lovelace", "1915-12-10")
    second = register(ctx, chain, "Alan Turing", "1912-06-23")
    db.execute(text("RESET ROLE"))
    db.execute(
        text("UPDATE patients SET full_name_enc = (SELECT full_name_enc FROM patients WHERE id = :a) WHERE id = :b"),
        {"a": first.id, "b": second.id},
    )
    with pytest.raises(DecryptionFailed):
        run_in_tenant(ctx, get_patient, second.id)


def test_the_same_last_name_in_two_chains_is_found_only_in_its_own(make_tenant):
    north, south = make_tenant("north"), make_tenant("south")
    at_north = register(owner(north), north, "Maria Garcia", "1980-05-05", "555-123-4567")
    at_south = register(owner(south), south, "Maria Garcia", "1980-05-05", "555-123-4567")
    for chain, mine in ((north, at_north), (south, at_south)):
        for query in ("garcia", "gar", "4567", "1980-05-05", "5551234567"):
            assert [p.id for p in run_in_tenant(owner(chain), find_patients, query).items] == [mine.id], query
        assert run_in_tenant(owner(chain), patients_matching, "garcia", limit=5) == [uuid.UUID(mine.id)]
    # The same name gives different tokens per chain: an index copied across chains finds nothing.
    with tenant_session(owner(north)) as session:
        north_token = chain_keys(session, north.tenant_id).token("last_name", "garcia")
    with tenant_session(owner(south)) as session:
        assert chain_keys(session, south.tenant_id).token("last_name", "garcia") != north_token


def test_a_missing_or_malformed_key_stops_the_start():
    with pytest.raises(ConfigurationError, match="DATA_ENCRYPTION_KEY is not set"):
        Settings(SECRET_KEY="x" * 40, DATABASE_URL="postgresql://x@y/z", DATA_ENCRYPTION_KEY=None).check_boot()
    with pytest.raises(ConfigurationError, match="base64 of 32 random bytes"):
        Settings(SECRET_KEY="x" * 40, DATA_ENCRYPTION_KEY="too-short").master_keys()
    with pytest.raises(ConfigurationError, match="DATA_ENCRYPTION_KEYS_PREVIOUS"):
        Settings(
            SECRET_KEY="x" * 40,
            DATA_ENCRYPTION_KEY=base64.b64encode(b"k" * 32).decode(),
            DATA_ENCRYPTION_KEYS_PREVIOUS="nope",
        ).master_keys()


def test_a_wrong_master_key_is_a_clear_error_not_plaintext(make_tenant):
    chain = make_tenant("wrongkey")
    ctx = owner(chain)
    register(ctx, chain, "Grace Hopper", "1906-12-09")
    stranger = MasterKeyRing(LocalMasterKey(b"s" * 32))
    with tenant_session(ctx) as session:
        forget_chain_keys(session, chain.tenant_id)
        with pytest.raises(ConfigurationError, match="DATA_ENCRYPTION_KEYS_PREVIOUS"):
            chain_keys(session, chain.tenant_id, stranger)


def test_pages_of_a_search_are_in_name_then_birth_order(make_tenant):
    """Names are sorted in the app now; dates of birth are decrypted per page, ties across a page edge too."""
    chain = make_tenant("paging")
    ctx = owner(chain)
    people = [(f"{first} Novak", f"19{50 + n:02d}-01-0{1 + n % 9}") for n, first in enumerate("ABCDEFGHIJ" * 3)]
    people += [("b Novak", "1940-02-02"), ("B novak", "1930-03-03")]  # case-insensitive ties, born earlier
    for name, born in people:
        register(ctx, chain, name, born)
    expected = sorted(((n.lower(), date.fromisoformat(b)) for n, b in people))
    first = run_in_tenant(ctx, find_patients, "novak")
    second = run_in_tenant(ctx, find_patients, "novak", page=1)
    assert first.has_more and not second.has_more and len(first.items) == 25 and len(second.items) == 7
    assert [(p.full_name.lower(), p.date_of_birth) for p in first.items + second.items] == expected
