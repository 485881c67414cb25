"""Feedback tests reuse the prescriptions tests' pharmacy: a chain with a catalog, a prescriber and staff."""

from tests.backend.prescriptions.conftest import pharmacy  # noqa: F401 - a fixture
