"""Sequential probability ratio test (SPRT) for head-to-head matches.

Tests H0: "the first entrant is ``elo0`` Elo stronger than the second" against
H1: "... ``elo1`` Elo stronger" after every pair of games, and stops as soon as the
evidence crosses a bound: accept H1 when the log-likelihood ratio (LLR) rises above
``log((1 - beta) / alpha)``, accept H0 when it falls below ``log(beta / (1 - alpha))``.
``alpha`` is the chance of accepting H1 when H0 holds, ``beta`` the chance of accepting
H0 when H1 holds.

The LLR is the generalized SPRT of fishtest (Stockfish's testing framework) for
trinomial (win/draw/loss) results in logistic Elo: ``LLR_logistic`` in
``server/fishtest/stats/LLRcalc.py`` of github.com/official-stockfish/fishtest (the
method is Michel Van den Bergh's, https://www.cantate.be/Fishtest/support_MLE_multinomial.pdf).
Each game scores a in {0, 1/2, 1} for the first entrant; with the observed frequencies
p_a (zero counts replaced by 1e-3, as fishtest does) and N games, for each hypothesis
score s = 1 / (1 + 10^(-elo / 400)) the maximum-likelihood distribution with mean s is
p_a / (1 + x (a - s)), where x solves sum_a p_a (a - s) / (1 + x (a - s)) = 0; the LLR is
N * sum_a p_a log(p1_a / p0_a). For large N it is close to the normal approximation
N (s1 - s0)(2 m - s0 - s1) / (2 v) (fishtest ``LLR_alt2``), m and v being the observed
mean and variance of the per-game score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from arena.errors import ArenaError

__all__ = ["SprtConfig", "logistic_score", "sprt_bounds", "sprt_decision", "sprt_llr"]

#: What fishtest substitutes for an outcome that has not occurred (``regularize``).
EPSILON = 1e-3
SPRT_KEYS = ("elo0", "elo1", "alpha", "beta")


def logistic_score(elo: float) -> float:
    """Expected score of a player ``elo`` logistic-Elo points stronger."""
    return 1.0 / (1.0 + 10.0 ** (-elo / 400.0))


def sprt_bounds(alpha: float, beta: float) -> tuple[float, float]:
    """The (lower, upper) LLR bounds: ``(log(beta / (1 - alpha)), log((1 - beta) / alpha))``."""
    return math.log(beta / (1.0 - alpha)), math.log((1.0 - beta) / alpha)


def _mle(pdf: Sequence[tuple[float, float]], s: float) -> list[float]:
    """Probabilities of the distribution on ``pdf``'s values with mean ``s`` nearest to it.

    Solves the secular equation sum p_i a_i / (1 + x a_i) = 0 (a_i = value_i - s) for x in
    (-1/max a, -1/min a), where the left side falls strictly in x, by bisection.
    """
    shifted = [(value - s, p) for value, p in pdf]
    low_a = min(a for a, _ in shifted)
    high_a = max(a for a, _ in shifted)
    if not low_a < 0 < high_a:
        raise ValueError(f"score {s} is outside the range of the results")
    lo, hi = -1.0 / high_a, -1.0 / low_a
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if mid in (lo, hi):
            break
        value = sum(p * a / (1.0 + mid * a) for a, p in shifted)
        if value > 0:
            lo = mid
        else:
            hi = mid
    x = (lo + hi) / 2.0
    return [p / (1.0 + x * a) for a, p in shifted]


def sprt_llr(wins: int, draws: int, losses: int, elo0: float, elo1: float) -> float:
    """Log-likelihood ratio of H1 (``elo1``) against H0 (``elo0``) for W/D/L counts.

    fishtest's trinomial GSPRT in logistic Elo (see the module docstring); 0 before any
    game. Positive values favour H1.
    """
    for name, count in (("wins", wins), ("draws", draws), ("losses", losses)):
        if count < 0:
            raise ValueError(f"{name} must be >= 0, got {count}")
    if wins + draws + losses == 0:
        return 0.0
    counts = [float(c) if c > 0 else EPSILON for c in (losses, draws, wins)]
    total = sum(counts)
    pdf = [(i / 2.0, c / total) for i, c in enumerate(counts)]
    p0 = _mle(pdf, logistic_score(elo0))
    p1 = _mle(pdf, logistic_score(elo1))
    return total * sum(
        p * (math.log(b) - math.log(a)) for (_, p), a, b in zip(pdf, p0, p1, strict=True)
    )


@dataclass(frozen=True)
class SprtConfig:
    """The ``sprt`` option: hypotheses (first entrant's Elo advantage) and error rates."""

    elo0: float = 0.0
    elo1: float = 10.0
    alpha: float = 0.05
    beta: float = 0.05

    @property
    def bounds(self) -> tuple[float, float]:
        return sprt_bounds(self.alpha, self.beta)

    @classmethod
    def from_option(cls, value: Any) -> SprtConfig | None:
        """Parses ``sprt = true`` (the defaults), ``false`` (off) or a table.

        Raises:
            ArenaError: naming ``[tournament].sprt`` or the bad sub-key.
        """
        if value is False or value is None:
            return None
        if value is True:
            return cls()
        if not isinstance(value, Mapping):
            raise ArenaError(
                f"[tournament].sprt: expected true or a table like "
                f"{{elo0 = 0, elo1 = 10, alpha = 0.05, beta = 0.05}}, got {value!r}"
            )
        numbers: dict[str, float] = {}
        for key, item in value.items():
            if key not in SPRT_KEYS:
                raise ArenaError(
                    f"[tournament].sprt.{key}: unknown key (expected one of: "
                    f"{', '.join(SPRT_KEYS)})"
                )
            if (
                isinstance(item, bool)
                or not isinstance(item, (int, float))
                or not math.isfinite(item)
            ):
                raise ArenaError(f"[tournament].sprt.{key}: expected a number, got {item!r}")
            numbers[key] = float(item)
        config = cls(**numbers)
        if not config.elo0 < config.elo1:
            raise ArenaError(
                f"[tournament].sprt.elo1: must be above elo0 ({config.elo0:g}), got {config.elo1:g}"
            )
        for key in ("alpha", "beta"):
            rate = getattr(config, key)
            if not 0.0 < rate < 0.5:
                raise ArenaError(
                    f"[tournament].sprt.{key}: expected an error rate in (0, 0.5), got {rate:g}"
                )
        return config


def sprt_decision(
    wins: int, draws: int, losses: int, config: SprtConfig
) -> tuple[float, str | None]:
    """``(llr, decision)``: ``"H1"`` above the upper bound, ``"H0"`` below the lower one."""
    llr = sprt_llr(wins, draws, losses, config.elo0, config.elo1)
    lower, upper = config.bounds
    if llr > upper:
        return llr, "H1"
    if llr < lower:
        return llr, "H0"
    return llr, None
