"""Prescriptions: prescribers, prescription records, the work queue and the pharmacist's verification."""
