"""Drug-drug interaction checker: a hand-curated, sourced knowledge base over the drug dictionary.

`backend.interactions.checker.check(names)` is the one service the REST endpoint, the CLI and (later) the
assistant call. It needs no database: the knowledge base is code (`knowledge.py`) and names resolve
through `backend.drugs.matcher`, with a file cache in front of it (`names.py`) so a cold CLI answers fast.
"""
