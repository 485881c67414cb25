"""Records retention: how long a chain keeps each kind of record, legal holds, and approved disposal."""
