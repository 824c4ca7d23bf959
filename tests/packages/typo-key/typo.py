"""Never imported: the manifest has a typo."""


def make_agent(ctx):
    return None
