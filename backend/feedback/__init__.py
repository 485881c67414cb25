"""Customer feedback after a pickup: ratings, comments and their sentiment (issue 17 §6)."""
