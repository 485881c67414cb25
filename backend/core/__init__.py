"""Settings, database engines, errors, logging and queue helpers shared by every domain."""
