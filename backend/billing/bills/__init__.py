"""Bills: drafts, finalizing with stock moves and gap-free numbers, voids, the counter, search and documents."""
