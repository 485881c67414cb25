"""Outgoing messages (e-mail now; SMS and alerts with the notifications issue)."""
