"""Does a build test what was asked? Builds every query of the relevance labels from the shared
pools, with no model and with `--model mock`, and prints per query the share of items from
relevant or related datasets (precision), the share of relevant datasets used (recall) and
whether every item has the modalities the query needs.

    python benchmarks/relevance.py [--size N] [--keep DIR] [--only ID ...]  # DIR keeps the runs
    python benchmarks/relevance.py --fit     # refit the relevance weights, leave-one-out

`--fit` fits the logistic weights of benchagent.planner.relevance on the labelled pairs
(relevant = 1, off-topic = 0, related left out) and prints them with each query's
leave-one-query-out dataset precision and recall at the RELEVANT threshold.
Targets: precision >= 0.95 on every query, recall >= 0.6 on average.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

import benchagent
from benchagent.planner.relevance import RELEVANT, features
from benchagent.planner.request import content_text, produced_modalities, query_modalities
from benchagent.pool import Pool
from benchagent.records import Query

SHARED = Path(__file__).resolve().parents[2] / "shared"
Labels = dict[str, dict[str, Any]]


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name.split("/")[0].lower())


def _queries(shared: Path) -> dict[str, Query]:
    lines = [json.loads(line) for f in sorted((shared / "queries").glob("*.json"))
             for line in f.read_text().splitlines() if line.strip()]
    return {q["id"]: Query.model_validate(q) for q in lines}


def _label(labels: dict[str, Any], card_name: str) -> float | None:
    """1 relevant, 0.5 related, 0 off-topic."""
    key = _key(card_name)
    if key in {_key(n) for n in labels.get("relevant", [])}:
        return 1.0
    if key in {_key(n) for n in labels.get("related", [])}:
        return 0.5
    return 0.0


def _pairs(pool: Pool, queries: dict[str, Query],
           labels: Labels) -> list[tuple[str, str, float, tuple[float, ...]]]:
    names = {c.id: c.name for c in pool.cards}
    rows = []
    for qid, lab in labels.items():
        if qid.startswith("_") or lab.get("any_content") or qid not in queries:
            continue
        query = queries[qid]
        measured = features(content_text(query), pool, query_modalities(query),
                            produced_modalities(query))
        rows += [(qid, names[cid], _label(lab, names[cid]) or 0.0, f)
                 for cid, f in measured.items()]
    return rows


def _logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-2) -> np.ndarray:
    x = np.c_[x, np.ones(len(x))]
    w = np.zeros(x.shape[1])
    for _ in range(100):  # Newton's method on the L2-regularised log-loss
        p = 1 / (1 + np.exp(-x @ w))
        hess = x.T @ (x * (p * (1 - p))[:, None]) + l2 * np.eye(len(w))
        w -= np.linalg.solve(hess, x.T @ (p - y) + l2 * w)
    return w


def fit(pool: Pool, queries: dict[str, Query], labels: Labels, threshold: float = RELEVANT) -> None:
    rows = _pairs(pool, queries, labels)
    qids = np.array([r[0] for r in rows])
    y = np.array([r[2] for r in rows])
    x = np.array([r[3] for r in rows])
    train = y != 0.5
    print("weights:", tuple(round(float(v), 2) for v in _logistic(x[train], y[train])))
    for qid in sorted(set(qids)):
        fold = train & (qids != qid)
        w = _logistic(x[fold], y[fold])
        mine = qids == qid
        scores = 1 / (1 + np.exp(-(np.c_[x[mine], np.ones(mine.sum())] @ w)))
        picked = {_key(rows[i][1]): y[i] for i, s in zip(np.flatnonzero(mine), scores,
                                                           strict=True) if s >= threshold}
        relevant = {_key(rows[i][1]) for i in np.flatnonzero(mine & (y == 1))}
        good = sum(v > 0 for v in picked.values())
        print(f"{qid:28} picked {len(picked):2}  precision "
              f"{good / max(1, len(picked)):.2f}  recall "
              f"{len(relevant & set(picked)) / max(1, len(relevant)):.2f}  "
              f"{sorted(picked)}")


def _measure(run_items: list[dict[str, Any]], lab: dict[str, Any],
             ) -> tuple[float, float, bool]:
    names = [str(it["provenance"]["source_dataset_name"]) for it in run_items]
    needs = set(lab.get("needs", []))
    kinds_ok = all(needs <= {str(m["kind"]) for m in it["media"]}
                   for it in run_items)
    if lab.get("any_content"):
        return 1.0, 1.0, kinds_ok
    good = sum((_label(lab, n) or 0) > 0 for n in names)
    relevant = {_key(n) for n in lab.get("relevant", [])}
    used = {_key(n) for n in names}
    return (good / max(1, len(names)), len(relevant & used) / max(1, len(relevant)), kinds_ok)


def build_all(shared: Path, queries: dict[str, Query], labels: Labels, size: int | None,
              keep: Path | None = None, only: list[str] | None = None) -> None:
    pools = [shared / "pools" / "general-bench", shared / "pools" / "bigbench"]
    recalls = []
    print(f"{'query':28} {'model':5} {'items':>5} {'target':>6} {'precision':>9} "
          f"{'recall':>6} modalities")
    for qid, lab in labels.items():
        if qid.startswith("_") or qid not in queries or (only and qid not in only):
            continue
        for model in (None, "mock"):
            query = queries[qid]
            if size:
                query = query.model_copy(update={"target_size": size})
            with tempfile.TemporaryDirectory() as tmp:
                out = (keep or Path(tmp)) / f"{qid}-{model or 'rules'}"
                try:
                    result = benchagent.build(query, out=out, pools=pools, model=model)
                    items = [json.loads(s) for s in result.benchmark_path.read_text()
                             .splitlines() if s.strip()]
                except benchagent.BenchagentError as e:
                    print(f"{qid:28} {model or '-':5} ended: {e}")
                    recalls.append(0.0)
                    continue
            precision, recall, kinds_ok = _measure(items, lab)
            recalls.append(recall)
            print(f"{qid:28} {model or '-':5} {len(items):5} {query.target_size:6} "
                  f"{precision:9.2f} {recall:6.2f} {'ok' if kinds_ok else 'MISSING'}")
    print(f"average recall {sum(recalls) / max(1, len(recalls)):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--size", type=int, default=None)
    parser.add_argument("--fit", action="store_true")
    parser.add_argument("--threshold", type=float, default=RELEVANT)
    parser.add_argument("--keep", type=Path, help="keep the built runs in this folder")
    parser.add_argument("--only", nargs="+", metavar="QUERY_ID", help="build these queries only")
    args = parser.parse_args()
    labels = json.loads((args.shared / "labels" / "relevance.json").read_text())
    queries = _queries(args.shared)
    if args.fit:
        pool = Pool.load([args.shared / "pools" / "general-bench",
                          args.shared / "pools" / "bigbench"])
        fit(pool, queries, labels, args.threshold)
    else:
        build_all(args.shared, queries, labels, args.size, args.keep, args.only)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
