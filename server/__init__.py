"""``arena serve``: the arena as a web service (issue 15). See docs/server.md."""
