"""Credit notes: units of a paid bill returned and refunded."""
