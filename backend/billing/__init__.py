"""Point of sale and billing: draft bills, finalizing with stock moves and gap-free numbers, payments."""
