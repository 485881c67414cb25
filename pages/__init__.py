"""One module per route; thin: layout + components + on_load."""
