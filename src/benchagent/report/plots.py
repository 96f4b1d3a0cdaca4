"""The report's plots, drawn by matplotlib (no pyplot, no display) and inlined as SVG with its
text kept as text; the same data always gives the same SVG."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from benchagent.report.records import Distributions, EvalPart, ItemRow, Rejections, Tally

STYLE: dict[Any, Any] = {  # matplotlib rc keys
    "svg.fonttype": "none", "svg.hashsalt": "benchagent-report", "font.size": 9,
    "font.family": "sans-serif", "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.color": "#e6e6e6", "axes.axisbelow": True,
    "axes.edgecolor": "#999999", "axes.titlesize": 10, "axes.titleweight": "bold",
    "axes.titlelocation": "left", "xtick.color": "#444444", "ytick.color": "#444444",
}
PALETTE = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3",
           "#8c8c8c", "#ccb974", "#64b5cd")
GOOD, BAD, NEUTRAL = "#55a868", "#c44e52", "#4c72b0"
LABEL_CHARS = 36
WIDTH_IN = 9.0


def _short(text: str, width: int = LABEL_CHARS) -> str:
    return textwrap.shorten(text, width=width, placeholder="…") or text[:width]


@contextmanager
def _figure(height: float, rows: int = 1, cols: int = 1,
            heights: Sequence[float] | None = None) -> Iterator[tuple[Figure, list[Axes]]]:
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(WIDTH_IN, height), layout="constrained")
        axes = fig.subplots(rows, cols, squeeze=False,
                            gridspec_kw={"height_ratios": heights} if heights else None)
        yield fig, [ax for row in axes for ax in row]


def to_svg(fig: Figure) -> str:
    """The figure as an <svg> element to put in a page (no XML prolog)."""
    buffer = io.StringIO()
    with matplotlib.rc_context(STYLE):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]


Panel = tuple[dict[str, int], str, str | list[str]]  # counts, title, colour(s) of the bars
SLOT_IN, TITLE_IN, TICKS_IN, GAP_IN = 0.3, 0.3, 0.35, 0.25  # heights in a bar grid
CHAR_IN = 0.068  # the width of a tick label's character at the style's font size


def _bars(ax: Axes, panel: Panel, slots: int) -> None:
    """Horizontal bars of the panel's counts, the first on top, in `slots` rows (so that
    panels side by side have bars of one thickness)."""
    counts, title, color = panel
    names = list(counts)[::-1]
    values = [counts[n] for n in names]
    colors = color[::-1] if isinstance(color, list) else color
    bars = ax.barh([_short(n) for n in names], values, color=colors, height=0.6)
    ax.bar_label(bars, padding=3, fontsize=8)
    ax.set_title(title)
    ax.grid(axis="y", visible=False)
    ax.set_xlim(0, max(values) * 1.18)
    ax.set_ylim(len(names) - slots - 0.5, len(names) - 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _bar_grid(rows: Sequence[Sequence[Panel]]) -> str:
    """Rows of bar panels, one to two side by side, laid out by measure rather than by a
    layout engine (it runs at the end of every build: this keeps it quick)."""
    slots = [max(len(p[0]) for p in row) for row in rows]
    height = sum(TITLE_IN + n * SLOT_IN + TICKS_IN for n in slots) + GAP_IN * len(rows)
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(WIDTH_IN, height))
        top = height - GAP_IN / 2
        for row, n in zip(rows, slots, strict=True):
            top -= TITLE_IN + n * SLOT_IN
            column = WIDTH_IN / len(row)
            for i, panel in enumerate(row):
                label = min(0.2 + CHAR_IN * max(len(_short(k)) for k in panel[0]), column / 2)
                left = i * column + label
                ax = fig.add_axes((left / WIDTH_IN, top / height,
                                   (column - label - 0.35) / WIDTH_IN, n * SLOT_IN / height))
                _bars(ax, panel, n)
            top -= TICKS_IN + GAP_IN
        return to_svg(fig)


def distribution_plot(dist: Distributions) -> str | None:
    """Items per subtask, dataset, modality mix and answer type."""
    if not dist.subtasks:
        return None
    return _bar_grid([[(dist.subtasks, "items per subtask", PALETTE[0]),
                       (dist.datasets, "items per dataset", PALETTE[1])],
                      [(dist.modalities, "items per modality", PALETTE[2]),
                       (dist.answer_types, "items per answer type", PALETTE[3])]])


def rejection_plot(rejections: Rejections) -> str | None:
    """Candidates accepted, and rejected by the first check each failed."""
    if not rejections.rejected:
        return None
    counts = {"accepted": rejections.accepted,
              **{f"rejected: {c.check}": c.count for c in rejections.by_check}}
    colors = [GOOD if n == "accepted" else BAD for n in counts]
    return _bar_grid([[(counts, f"{rejections.candidates} candidates: accepted, or rejected "
                                "by the first check each failed", colors)]])


def _error(t: Tally) -> tuple[float, float]:
    acc = t.accuracy or 0.0
    low, high = t.ci95 if t.ci95 is not None else (acc, acc)
    return max(acc - low, 0.0), max(high - acc, 0.0)


def _model_bars(ax: Axes, y: float, tallies: Sequence[Tally | None], height: float) -> None:
    for i, tally in enumerate(tallies):
        if tally is None or tally.accuracy is None:
            continue
        pos = y - (i - (len(tallies) - 1) / 2) * height  # the first model on top
        low, high = _error(tally)
        ax.barh(pos, tally.accuracy, height=height * 0.9, color=PALETTE[i % len(PALETTE)],
                xerr=[[low], [high]], error_kw={"ecolor": "#333333", "capsize": 2,
                                                "elinewidth": 0.8})
        ax.text(tally.accuracy + high + 0.012, pos, f"{tally.accuracy:.2f}",
                va="center", fontsize=7, color="#333333")


def scores_plot(ev: EvalPart) -> str | None:
    """Accuracy per subtask and model, with the 95% bootstrap intervals."""
    if not ev.models:
        return None
    subtasks = list(dict.fromkeys(name for m in ev.models for name in m.subtasks))
    groups: list[tuple[str, list[Tally | None]]] = [
        (name, [m.subtasks.get(name) for m in ev.models]) for name in subtasks]
    if len(groups) != 1:
        groups.insert(0, ("all items", list(ev.models)))
    height = 0.8 / len(ev.models)
    with _figure(0.9 + len(groups) * (0.25 + 0.22 * len(ev.models))) as (fig, (ax,)):
        for row, (_, tallies) in enumerate(groups):
            _model_bars(ax, -row, tallies, height)
        ax.set_yticks([-row for row in range(len(groups))],
                      [_short(name, 44) for name, _ in groups])
        ax.set_xlim(0, 1.1)
        ax.set_xticks([i / 5 for i in range(6)])
        ax.set_xlabel("accuracy (bars: 95% bootstrap interval)")
        ax.grid(axis="y", visible=False)
        ax.set_title("accuracy per subtask")
        handles = [Patch(color=PALETTE[i % len(PALETTE)],
                                            label=_short(m.model, 40))
                   for i, m in enumerate(ev.models)]
        fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4),
                   frameon=False)
        return to_svg(fig)


def ladder_plot(ev: EvalPart) -> str | None:
    """Each model's accuracy in the order given (increasing size, with --ladder)."""
    if len(ev.models) < 2:
        return None
    order = ev.ladder.order if ev.ladder and ev.ladder.order else [m.model for m in ev.models]
    by_name = {m.model: m for m in ev.models}
    models = [by_name[n] for n in order if n in by_name and by_name[n].accuracy is not None]
    if len(models) < 2:
        return None
    xs = list(range(len(models)))
    ys = [m.accuracy or 0.0 for m in models]
    errors = [_error(m) for m in models]
    with _figure(3.2) as (fig, (ax,)):
        ax.errorbar(xs, ys, yerr=[[e[0] for e in errors], [e[1] for e in errors]],
                    fmt="-o", color=NEUTRAL, ecolor="#777777", capsize=4, markersize=6)
        ax.set_xticks(xs, [_short(m.model, 24) for m in models])
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("accuracy")
        ax.set_title(_ladder_title(ev))
        return to_svg(fig)


def _ladder_title(ev: EvalPart) -> str:
    if ev.ladder is None:
        return "models in the order given (run eval with --ladder for rank agreement)"
    tau = "–" if ev.ladder.kendall_tau is None else f"{ev.ladder.kendall_tau:.2f}"
    steps = "–" if ev.ladder.monotonic_steps is None else f"{ev.ladder.monotonic_steps:.0%}"
    return f"ladder: Kendall τ {tau}, steps that do not fall {steps}"


def item_plot(ev: EvalPart) -> str | None:
    """Per item: the share of models right (histogram) and discrimination against it."""
    rows = [r for r in ev.per_item if r.difficulty is not None]
    if not rows:
        return None
    with _figure(3.4, cols=2) as (fig, (hist, scatter)):
        counts, edges = np.histogram([r.difficulty or 0.0 for r in rows], bins=10, range=(0, 1))
        colors = [BAD if i == 0 else GOOD if i == len(counts) - 1 else NEUTRAL
                  for i in range(len(counts))]
        hist.bar(edges[:-1], counts, width=0.1, align="edge", color=colors, edgecolor="white")
        hist.set_xlabel("share of models right (0: dead, 1: saturated)")
        hist.set_ylabel("items")
        hist.set_title("item difficulty")
        hist.yaxis.set_major_locator(MaxNLocator(integer=True))
        _discrimination(scatter, rows)
        return to_svg(fig)


def _discrimination(ax: Axes, rows: Sequence[ItemRow]) -> None:
    points = [r for r in rows if r.discrimination is not None]
    ax.set_title("difficulty × discrimination")
    ax.set_xlim(-0.05, 1.05)
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel("share of models right")
    ax.set_ylabel("point-biserial discrimination")
    ax.axhline(0, color="#999999", linewidth=0.8)
    if not points:
        ax.text(0.5, 0.5, "needs 3 or more models\nthat differ on an item", ha="center",
                va="center", transform=ax.transAxes, color="#666666")
        return
    for flag, color, label in ((False, NEUTRAL, "item"), (True, "#dd8452", "blind-solvable")):
        chosen = [r for r in points if r.blind_solvable == flag]
        if chosen:
            ax.scatter([r.difficulty or 0.0 for r in chosen],
                       [r.discrimination or 0.0 for r in chosen], s=22, color=color,
                       alpha=0.8, label=label, edgecolors="white", linewidths=0.5)
    ax.legend(loc="lower right", frameon=False, fontsize=8)
