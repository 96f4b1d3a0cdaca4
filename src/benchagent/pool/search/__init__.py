"""Searching the cards: BM25 (`bm25`) and BM25 fused with dense embeddings (`hybrid`)."""
