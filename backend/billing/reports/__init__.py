"""Sales reports by the branch's business day."""
