"""Rating-history plots as inline SVG, drawn server-side (no matplotlib in a request).

One plot per env of an agent: for each of its versions, TrueSkill mu after every
rated match as a polyline over a band of mu ± σ, the x axis counting the agent's
rated matches on that env (1, 2, ...). Every text in the SVG (agent names, env
ids) is escaped with :func:`markupsafe.escape`; the result is
:class:`markupsafe.Markup`, so a template prints it as it is, without ``|safe``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape
from sqlalchemy import Engine

from arena.labels import VersionName, distinct_labels
from arena.storage.queries.ratings import HistoryPoint, history_points
from arena.textsafe import clean_text
from server.queries import AgentRow

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 16, 40  # margins: room for the axis labels
#: line colours per version, distinguishable for the common colour blindnesses
COLOURS = ("#1b5fa8", "#c2571a", "#2a8c55", "#8e44ad", "#b8860b", "#555555")


@dataclass(frozen=True)
class Point:
    x: int  # the agent's rated match number on the env (1 = its first)
    match_id: int
    mu: float
    sigma: float


@dataclass(frozen=True)
class Series:
    label: str  # the version, as people read it
    points: list[Point]


@dataclass(frozen=True)
class Plot:
    env: str
    series: list[Series]
    svg: Markup

    @property
    def matches(self) -> int:
        return max((p.x for s in self.series for p in s.points), default=0)


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (1, 2 or 5 times a power of ten apart)."""
    if high <= low:
        return [low]
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step + 1e-9) + 1)]


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def line_plot(env: str, series: Sequence[Series]) -> Markup:
    """An SVG of ``series`` (mu lines over ±σ bands), with axes, labels and a ``<title>``."""
    points = [p for s in series for p in s.points]
    n = max((p.x for p in points), default=1)
    low = min((p.mu - p.sigma for p in points), default=0.0)
    high = max((p.mu + p.sigma for p in points), default=1.0)
    pad = max(1.0, (high - low) * 0.05)
    low, high = low - pad, high + pad
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(x: float) -> float:
        return LEFT + (inner_w * (x - 1) / (n - 1) if n > 1 else inner_w / 2)

    def sy(y: float) -> float:
        return TOP + inner_h * (high - y) / (high - low)

    env_text = clean_text(env)
    names = ", ".join(clean_text(s.label) for s in series)
    title = (
        f"Rating history on {env_text}: TrueSkill mu with a band of ±σ after each of "
        f"{n} rated match{'es' if n != 1 else ''} ({names})"
    )
    parts = [
        f'<svg class="rating-plot" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" aria-labelledby="plot-{escape(env_text)}">',
        f'<title id="plot-{escape(env_text)}">{escape(title)}</title>',
    ]
    for tick in _ticks(low, high):
        y = sy(tick)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick:g}</text>'
        )
    for tick in sorted({1.0, *(_ticks(1, n) if n > 1 else [])}):
        if tick != int(tick):
            continue
        x = sx(tick)
        parts.append(
            f'<text class="tick" x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" '
            f'text-anchor="middle">{int(tick)}</text>'
        )
    parts.append(
        f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{HEIGHT - BOTTOM}" '
        f'y2="{HEIGHT - BOTTOM}"/><line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" '
        f'y2="{HEIGHT - BOTTOM}"/>'
        f'<text class="label" x="{LEFT + inner_w / 2:.1f}" y="{HEIGHT - 6}" '
        'text-anchor="middle">rated match</text>'
        f'<text class="label" x="14" y="{TOP + inner_h / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {TOP + inner_h / 2:.1f})">mu ± σ</text>'
    )
    for i, s in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        upper = " ".join(f"{sx(p.x):.1f},{sy(p.mu + p.sigma):.1f}" for p in s.points)
        lower = " ".join(f"{sx(p.x):.1f},{sy(p.mu - p.sigma):.1f}" for p in reversed(s.points))
        line = " ".join(f"{sx(p.x):.1f},{sy(p.mu):.1f}" for p in s.points)
        label = escape(clean_text(s.label))
        parts.append(
            f'<g class="series" data-points="{len(s.points)}">'
            f"<title>{label}</title>"
            f'<polygon class="band" fill="{colour}" points="{upper} {lower}"/>'
            f'<polyline class="mu" stroke="{colour}" points="{line}"/>'
        )
        if len(s.points) == 1:  # a polyline of one point draws nothing
            only = s.points[0]
            parts.append(
                f'<circle fill="{colour}" r="3" cx="{sx(only.x):.1f}" cy="{sy(only.mu):.1f}"/>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))


def agent_series(
    points: Iterable[HistoryPoint], versions: Sequence[tuple[str, str]]
) -> dict[str, list[Series]]:
    """Per env, one series per version (``(label, content hash)``) that has rated matches.

    The x of a point counts the agent's rated matches on that env, all versions
    together, so a new version's line starts where the old one stopped.
    """
    label_of = {h: label for label, h in versions}
    by_env: dict[str, dict[str, list[HistoryPoint]]] = defaultdict(lambda: defaultdict(list))
    for p in points:
        if p.hash in label_of:
            by_env[p.env_id][p.hash].append(p)
    out: dict[str, list[Series]] = {}
    for env, per_version in sorted(by_env.items()):
        order = sorted({p.match_id for rows in per_version.values() for p in rows})
        x_of = {match_id: i + 1 for i, match_id in enumerate(order)}
        out[env] = [
            Series(
                label_of[h],
                [
                    Point(x_of[p.match_id], p.match_id, p.mu, p.sigma)
                    for p in sorted(rows, key=lambda r: r.match_id)
                ],
            )
            for h, rows in per_version.items()
        ]
    return out


def agent_plots(engine: Engine, agent: AgentRow) -> list[Plot]:
    """The rating-history plots of one agent's versions, by env."""
    names = [VersionName(agent.name, v.version, v.hash, v.kind == "human") for v in agent.versions]
    labels = distinct_labels(names)
    versions = [(labels[v.hash], v.hash) for v in names]
    wanted = set(labels)
    # Overall ratings only (role="" by default): per-role rows are not the agent's rating.
    mine = [p for p in history_points(engine) if p.hash in wanted]
    return [
        Plot(env, series, line_plot(env, series))
        for env, series in agent_series(mine, versions).items()
    ]
