"""IPPO (de Witt et al. 2020, arXiv 2011.09533) on the particle envs: independent PPO learners.

The same actors, rollouts and PPO update as MAPPO (``agents/mappo.py``, where
the maths is written out), with one difference: each seat's critic sees only
its own observation, V_i(o_i) (plus its one-hot seat id when the role's
networks are shared), never the other seats'. Each learner then treats the
others as part of a non-stationary environment; the IPPO paper found this
baseline strong on cooperative tasks all the same, which is why it is the
comparison MAPPO's centralised critic has to beat.
"""

from __future__ import annotations

from agents.common.mpe_loop import supports_mpe
from agents.mappo import train
from arena.specs import EnvSpec
from arena.trainer import TrainRequest, TrainSummary


def supports(name: str, spec: EnvSpec) -> str | None:
    return supports_mpe(name, spec)


def run(request: TrainRequest) -> TrainSummary:
    """``arena train ippo``: every seat's actor with its own local critic, then the package."""
    return train(request, centralised=False, description="IPPO (independent critics)")
