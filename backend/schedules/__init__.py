"""Scheduled jobs (issue 18 §4): what runs without a person, per chain and branch, in the branch's local time."""
