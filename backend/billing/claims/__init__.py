"""Insurance claims: payers, coverages and the life of a claim."""
