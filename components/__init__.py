"""Reusable UI pieces. They take vars and event handlers as parameters and never import backend/."""
