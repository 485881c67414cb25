"""The clinical core of prescriptions, with no database: sig expansion and drug-use review (DUR).

- `backend.clinical.sig.expand(sig, quantity=...)`: a deterministic sig expander writing label English,
  with doses per day and a days' supply where the sig allows one; unknown tokens are flagged, never guessed.
- `backend.clinical.dur.check(new, active, allergies, ...)`: interaction, allergy, duplication, early
  refill, dose and controlled-substance alerts for one new medication against the patient's active ones.

The knowledge is code, curated by hand and sourced per entry (`allergies.py`, `therapeutic.py`,
`dosing.py`, `controlled.py`); names resolve through the interaction checker's identification and the
offline drug dictionary (`drugs.py`). Documented in docs/clinical.md.
"""
