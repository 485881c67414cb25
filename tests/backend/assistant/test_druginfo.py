"""The drug-information snippets: 30+ common medicines, each found through the drug matcher, each cited."""

from __future__ import annotations

from backend.assistant.druginfo import DRUG_INFO, lookup
from backend.drugs.matcher import resolve


def test_enough_common_medicines_each_with_a_public_domain_source():
    assert len(DRUG_INFO) >= 30
    assert len({e.generic for e in DRUG_INFO}) == len(DRUG_INFO)
    for entry in DRUG_INFO:
        assert entry.used_for and entry.side_effects and entry.warnings, entry.generic
        assert entry.source.url.startswith("https://dailymed.nlm.nih.gov/") and "FDA label" in entry.source.title
        assert not any(word in entry.warnings for word in (" mg", "mg/kg")), "no doses in the snippets"


def test_every_entry_and_brand_is_found_through_the_matcher():
    for entry in DRUG_INFO:
        match = resolve(entry.generic, fuzzy=False)
        assert match is not None and match.generic.lower() == entry.generic, entry.generic
        for brand in entry.brands:
            found = lookup(brand)
            assert found is not None and found.info.generic == entry.generic, brand


def test_brands_typos_and_unknown_names():
    assert lookup("Tylenol").read_as == "Tylenol (acetaminophen)"  # type: ignore[union-attr]
    typo = lookup("metformn")
    assert typo is not None and typo.info.generic == "metformin" and "% match" in typo.read_as
    assert lookup("Synthroid").info.generic == "levothyroxine"  # type: ignore[union-attr]
    assert lookup("zzqqxx") is None
