"""What the results say about the models and the benchmark: accuracy per model and subtask
with intervals, and per item difficulty, discrimination, saturation, blind solvability;
separability, and with a ladder, rank agreement with the expected order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from benchagent.evaluation.results import ItemResult, Scored
from benchagent.evaluation.stats import (
    accuracy,
    bootstrap_interval,
    kendall_tau,
    monotonic_share,
    point_biserial,
    separability,
)
from benchagent.store import hash_of

Row = dict[str, Any]
MIN_MODELS_FOR_FLAGS = 2  # saturated / dead say little about one model


def _seed_for(seed: int, *names: str) -> int:
    return int(hash_of(seed, *names)[:8], 16)


def tally(results: Sequence[ItemResult | Scored], seed: int, *names: str) -> Row:
    """Counts of each outcome, accuracy over the scored answers and its bootstrap interval."""
    outcomes = [r.outcome for r in results]
    scores = [int(o == "correct") for o in outcomes if o in ("correct", "wrong")]
    acc = accuracy(scores)
    return {"items": len(outcomes), "correct": outcomes.count("correct"),
            "wrong": outcomes.count("wrong"), "unscored": outcomes.count("unscored"),
            "unsupported": outcomes.count("unsupported"),
            "accuracy": None if acc is None else round(acc, 4),
            "ci95": bootstrap_interval(scores, _seed_for(seed, *names))}


def model_summary(model: str, results: Sequence[ItemResult], seed: int) -> Row:
    mine = [r for r in results if r.model == model]
    by_subtask: dict[str, list[ItemResult]] = defaultdict(list)
    for r in mine:
        by_subtask[r.subtask].append(r)
    blind = [r.blind for r in mine if r.blind is not None]
    with_media = [r for r in mine if r.blind is not None]
    return {"model": model, **tally(mine, seed, model),
            "subtasks": {name: tally(rows, seed, model, name)
                         for name, rows in by_subtask.items()},
            "media_items": {"with_media": tally(with_media, seed, model, "media"),
                            "blind": tally(blind, seed, model, "blind")}}


def _scored(rows: Sequence[ItemResult]) -> dict[str, int]:
    return {r.model: int(r.outcome == "correct") for r in rows
            if r.outcome in ("correct", "wrong")}


def item_rows(results: Sequence[ItemResult], totals: dict[str, float]) -> list[Row]:
    """Per item: difficulty (the share of models right), point-biserial discrimination against
    the models' accuracies, saturated / dead, and blind solvability."""
    by_item: dict[str, list[ItemResult]] = defaultdict(list)
    for r in results:
        by_item[r.item].append(r)
    rows = []
    for item, answers in by_item.items():
        scored = {m: s for m, s in _scored(answers).items() if m in totals}
        models = sorted(scored)
        many = len(models) >= MIN_MODELS_FOR_FLAGS
        blind = [r.blind for r in answers if r.blind is not None
                 and r.blind.outcome != "unsupported"]
        blind_right = sum(b.outcome == "correct" for b in blind)
        rows.append({
            "item": item, "subtask": answers[0].subtask, "models_scored": len(models),
            "difficulty": round(sum(scored.values()) / len(models), 4) if models else None,
            "discrimination": point_biserial([scored[m] for m in models],
                                             [totals[m] for m in models]),
            "saturated": many and all(scored.values()),
            "dead": many and not any(scored.values()),
            "blind_models": len(blind), "blind_right": blind_right,
            "blind_solvable": bool(blind) and blind_right * 2 > len(blind)})
    return rows


def ladder_row(models: Sequence[Row]) -> Row:
    """Rank agreement of the models' accuracies with their order (increasing size)."""
    ranked = [(i, m["accuracy"]) for i, m in enumerate(models) if m["accuracy"] is not None]
    observed = [acc for _, acc in ranked]
    share = monotonic_share(observed)
    return {"order": [m["model"] for m in models],
            "kendall_tau": kendall_tau([i for i, _ in ranked], observed),
            "monotonic_steps": share, "monotonic": share == 1.0 if share is not None else None}


def summarize(models: Sequence[str], results: Sequence[ItemResult], seed: int,
              ladder: bool) -> Row:
    """The content of eval/summary.json."""
    per_model = [model_summary(m, results, seed) for m in models]
    totals = {m["model"]: m["accuracy"] for m in per_model if m["accuracy"] is not None}
    items = item_rows(results, totals)
    intervals = [m["ci95"] for m in per_model if m["ci95"] is not None]
    media_items = [i for i in items if i["blind_models"]]
    return {
        "models": per_model,
        "separability": separability(intervals),
        "ladder": ladder_row(per_model) if ladder else None,
        "saturated": [i["item"] for i in items if i["saturated"]],
        "dead": [i["item"] for i in items if i["dead"]],
        "blind": {"items": len(media_items),
                  "solvable": [i["item"] for i in media_items if i["blind_solvable"]]},
        "per_item": items,
    }
