"""Payments taken for bills: cash and other tenders, and cards through the chain's Stripe account."""
