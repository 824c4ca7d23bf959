"""The module raises while it is imported."""

raise RuntimeError("import-fails: deliberate failure at import")


def make_agent(ctx):  # never reached
    return None
