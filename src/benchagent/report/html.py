"""The report page: one Jinja2 template (templates/report.html.j2) with its styles inline, the
plots as inline SVG and the gallery's media as data URLs; it loads nothing from anywhere."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from benchagent.report.gallery import Card
from benchagent.report.records import ItemRow, ReportSummary

MARKS = {"correct": "✓", "wrong": "✗", "unscored": "?", "unsupported": "–"}
MAX_FLAGGED = 200  # rows of the flagged-items table


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"


def _interval(value: tuple[float, float] | None) -> str:
    return "–" if value is None else f"{value[0]:.2f}–{value[1]:.2f}"


def _secs(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.1f} s" if value < 120 else f"{value / 60:.1f} min"


def _wall(value: float | None) -> str:
    """A stage's time, from timestamps to the second."""
    return "–" if value is None else "< 1 s" if value < 1 else _secs(value)


def _cost(value: float | None) -> str:
    return "unknown" if value is None else f"${value:.4f}"


@cache
def _env() -> Environment:
    env = Environment(loader=PackageLoader("benchagent.report", "templates"),
                      undefined=StrictUndefined, autoescape=select_autoescape(["j2", "html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(num=_num, interval=_interval, secs=_secs, wall=_wall, cost=_cost)
    return env


def _flagged(rows: Sequence[ItemRow]) -> list[ItemRow]:
    return [r for r in rows if r.saturated or r.dead or r.blind_solvable][:MAX_FLAGGED]


def render_page(summary: ReportSummary, cards: Sequence[Card], plots: dict[str, str | None],
                names: dict[str, str], seed: int) -> str:
    flagged = _flagged(summary.eval.per_item) if summary.eval else []
    return _env().get_template("report.html.j2").render(
        s=summary, cards=cards, plots=plots, names=names, seed=seed, marks=MARKS,
        flagged=flagged)
