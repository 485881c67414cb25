"""The Reflex app: assembly (pharmacy_saas.py), routes and the state bridge to the backend."""
