"""Background jobs: the transactional outbox, its relay to RQ, and the worker entry point."""
