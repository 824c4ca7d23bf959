"""Registers the built-in agents with the arena (the ``arena.plugins`` entry point).

``register`` runs whenever the arena loads its plugins, so this module imports
nothing heavy: each factory imports its agent module on first use.
"""

from __future__ import annotations

from typing import Any

from arena.protocol import AgentContext
from arena.registry import BuiltinAgent, register_builtin


def _make_random(ctx: AgentContext) -> Any:
    from agents.random_agent import make_agent

    return make_agent(ctx)


def _make_one_ply(ctx: AgentContext) -> Any:
    from agents.one_ply import make_agent

    return make_agent(ctx)


def _make_minimax(ctx: AgentContext) -> Any:
    from agents.minimax import make_agent

    return make_agent(ctx)


def _make_heuristic(ctx: AgentContext) -> Any:
    from agents.heuristic import make_agent

    return make_agent(ctx)


def _make_negamax_2(ctx: AgentContext) -> Any:
    from agents.negamax import make_agent

    return make_agent(ctx, depth=2)


def _make_negamax_4(ctx: AgentContext) -> Any:
    from agents.negamax import make_agent

    return make_agent(ctx, depth=4)


def _make_tag_chaser(ctx: AgentContext) -> Any:
    from agents.tag_chaser import make_agent

    return make_agent(ctx)


def register() -> None:
    """Register every built-in agent."""
    register_builtin(
        BuiltinAgent(
            name="random",
            factory=_make_random,
            envs=None,
            kind="scripted",
            learning_type="Random",
            description="Uniformly random legal action (seeded)",
        )
    )
    register_builtin(
        BuiltinAgent(
            name="one-ply",
            factory=_make_one_ply,
            # Kept in sync with agents.one_ply.ENVS, not imported to stay cheap.
            envs=("connect_four_v3", "tictactoe_v3"),
            kind="search",
            learning_type="One-ply lookahead",
            description="Wins if it can, else blocks an immediate loss, else random",
        )
    )
    register_builtin(
        BuiltinAgent(
            name="minimax",
            factory=_make_minimax,
            envs=("tictactoe_v3",),  # kept in sync with agents.minimax.ENVS
            kind="search",
            learning_type="Exhaustive search",
            description="Perfect tic-tac-toe: a random choice among the optimal moves",
        )
    )
    register_builtin(
        BuiltinAgent(
            name="heuristic",
            factory=_make_heuristic,
            envs=("connect_four_v3", "tictactoe_v3"),  # kept in sync with agents.heuristic.ENVS
            kind="search",
            learning_type="Positional one-ply search",
            description="Wins, else blocks, else the best move by centre control and open lines;"
            " deterministic",
        )
    )
    for depth, factory in ((2, _make_negamax_2), (4, _make_negamax_4)):
        register_builtin(
            BuiltinAgent(
                name=f"negamax-{depth}",
                factory=factory,
                envs=("connect_four_v3",),  # kept in sync with agents.negamax.ENVS
                kind="search",
                learning_type="Tree search",
                description=f"Depth-{depth} negamax with alpha-beta on the heuristic's"
                " evaluation; deterministic",
            )
        )
    register_builtin(
        BuiltinAgent(
            name="tag-chaser",
            factory=_make_tag_chaser,
            envs=("simple_tag_v3",),  # kept in sync with agents.tag_chaser.ENVS
            kind="scripted",
            learning_type="Scripted",
            description="simple_tag predator heading straight for the prey",
        )
    )
