"""Patients: chain-wide records seen within the member's branch scope, with an access log."""
