"""Plan scoring: alignment, robustness and signal preservation of a (subtask, dataset, plan)
triple, from measured signals, blended with the model's own scores when a model is used."""

from __future__ import annotations

import math
from dataclasses import dataclass

from benchagent.operators import REGISTRY
from benchagent.records import DatasetCard, FieldRole, Modality, PlanStep, Subtask

DIMENSIONS = ("alignment", "robustness", "signal_preservation")


@dataclass(frozen=True)
class Measured:
    search: float  # the hit's score relative to the best hit of this subtask
    size: float  # the dataset's size relative to what the subtask needs
    answer_fit: float  # 1 when the answer type is native, lower when converted
    modality_fit: float  # 1 when the inputs are native, lower when an operator makes them


def measure(subtask: Subtask, card: DatasetCard, search_ratio: float, need: int) -> Measured:
    size = min(1.0, math.log1p(card.size) / math.log1p(max(need, 1) * 2))
    native = {Modality.image: FieldRole.image, Modality.audio: FieldRole.audio}
    made = [m for m in subtask.modalities if m in native and native[m] not in card.fields]
    return Measured(search=max(0.0, min(1.0, search_ratio)), size=size,
                    answer_fit=1.0 if card.answer_type == subtask.answer_type else 0.75,
                    modality_fit=0.85 ** len(made))


def robustness(plan: list[PlanStep]) -> float:
    """Fewer steps that can fail per sample (model calls most, CPU work some) is sturdier."""
    cost = {"model": 0.12, "cpu": 0.04, "cheap": 0.0}
    return max(0.0, 1.0 - sum(cost[REGISTRY[s.operator].cost_class]
                              for s in plan if s.operator in REGISTRY))


def signal_preservation(plan: list[PlanStep]) -> float:
    """Each step that changes what the source said (its operator's `lossy` trait) costs some of
    the original signal."""
    return max(0.0, 1.0 - sum(REGISTRY[s.operator].traits.lossy if s.operator in REGISTRY
                              else 0.0 for s in plan))


def rules_scores(measured: Measured, plan: list[PlanStep]) -> dict[str, float]:
    alignment = (measured.search * (0.7 + 0.3 * measured.answer_fit)
                 * measured.modality_fit * (0.8 + 0.2 * measured.size))
    return {"alignment": alignment, "robustness": robustness(plan),
            "signal_preservation": signal_preservation(plan)}


def blend(rules: dict[str, float], model: dict[str, float] | None) -> dict[str, float]:
    if not model:
        return rules
    return {d: 0.5 * rules[d] + 0.5 * model.get(d, rules[d]) for d in DIMENSIONS}


def overall(scores: dict[str, float]) -> float:
    return round(0.6 * scores["alignment"] + 0.2 * scores["robustness"]
                 + 0.2 * scores["signal_preservation"], 3)
