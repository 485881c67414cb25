"""Protection of patient data at rest: the chains' data keys (field encryption, issue 16)."""
