"""Domain logic for the pharmacy SaaS: a plain Python library shared by the UI, REST API, CLI and workers."""
