"""Reflex State classes: the only bridge between the UI and the backend services."""
