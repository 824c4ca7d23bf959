"""Built-in agents: scripted baselines, search players and (later) trained learners.

Agents register themselves with the arena through :func:`agents.builtin.register`,
the ``arena.plugins`` entry point; the arena never imports this package directly.
"""
