"""Developer tooling: `make run` and `make test` orchestration (not part of the product)."""
