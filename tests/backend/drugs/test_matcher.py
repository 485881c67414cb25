"""The offline drug dictionary, and the catalog search and duplicate checks built on it."""

from __future__ import annotations

import pytest

from backend.drugs.matcher import resolve, same_medicine
from backend.inventory.service import create_medicine, possible_duplicates, search_medicines
from tenants.context import TenantContext
from tenants.session import run_in_tenant


@pytest.mark.parametrize(
    ("typed", "generic"),
    [
        ("Tylenol", "Acetaminophen"),
        ("paracetamol", "Acetaminophen"),
        ("ADVIL", "Ibuprofen"),
        ("  tylenol  ", "Acetaminophen"),
    ],
)
def test_brands_and_synonyms_resolve_to_the_generic(typed, generic):
    match = resolve(typed)
    assert match is not None and match.generic == generic and match.exact


def test_typos_resolve_only_when_close_and_nonsense_does_not():
    close = resolve("acetaminophn")
    assert close is not None and close.generic == "Acetaminophen" and not close.exact
    assert close.similarity >= 0.8
    assert resolve("zzqxv") is None
    assert resolve("xy") is None
    assert resolve("extra strength tylenol caplets") is not None  # several words do not crash the lookup


def test_same_medicine():
    assert same_medicine("Tylenol", "Paracetamol")
    assert not same_medicine("Tylenol", "Ibuprofen")


def test_catalog_search_by_brand_and_duplicate_flags(db, make_tenant):
    chain = make_tenant("dictionary")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    run_in_tenant(owner, create_medicine, generic_name="Paracetamol", strength="500 mg", dosage_form="tablet")
    run_in_tenant(owner, create_medicine, generic_name="Ibuprofen", strength="200 mg")
    assert [m.generic_name for m in run_in_tenant(owner, search_medicines, "Tylenol")[0]] == ["Paracetamol"]
    assert [m.generic_name for m in run_in_tenant(owner, search_medicines, "acetaminophen")[0]] == ["Paracetamol"]
    duplicates = run_in_tenant(owner, possible_duplicates, "Acetaminophen", "500mg")
    assert [m.generic_name for m in duplicates] == ["Paracetamol"]
    assert run_in_tenant(owner, possible_duplicates, "Acetaminophen", "1 g") == []


def test_fuzzy_matches_are_the_same_in_every_process():
    """The dictionary returns fuzzy hits in set order; the best match must not depend on the hash seed."""
    import os
    import subprocess
    import sys

    probe = "from backend.drugs.matcher import resolve; r = resolve('sitag'); print(r and (r.generic, r.similarity))"
    answers = {
        subprocess.run(
            [sys.executable, "-c", probe],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in (1, 2, 3, 4)
    }
    assert len(answers) == 1


def test_dictionary_entries_without_a_name_are_not_a_match():
    assert resolve("aluminum metal") is None  # the package returns a nameless hit for it
