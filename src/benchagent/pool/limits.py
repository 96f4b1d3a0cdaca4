"""The limits every pool loader holds a file or a sample to; README lists them.

A file over a limit is refused (one warning with the reason); a sample over a limit is skipped
(one warning); the rest of the pool still loads. The limits keep a hostile file from taking
the machine: no loader reads more than MAX_FILE_BYTES of one file, or more than MAX_LINE_BYTES
of one JSONL line, into memory.
"""

from __future__ import annotations

MAX_FILE_BYTES = 200 * 1024 * 1024  # one data file, annotation file, card or media file
MAX_LINE_BYTES = 1024 * 1024  # one JSONL or CSV line
MAX_RECORDS = 500_000  # records (lines, rows) of one data file: each is held in memory
MAX_JSON_DEPTH = 100  # nesting of one JSON document or JSONL record
MAX_QUESTION_CHARS = 100_000  # a sample's question, and its instruction
MAX_CONTEXT_CHARS = 1_000_000  # a sample's context (passages may be long)
MAX_OPTIONS = 100  # options of one multiple-choice item


def sample_over_limit(question: str, instruction: str = "", context: str = "",
                      options: int = 0) -> str | None:
    """Why a sample's texts or options break a limit, or None when they are within them."""
    for what, text, limit in (("question", question, MAX_QUESTION_CHARS),
                              ("instruction", instruction, MAX_QUESTION_CHARS),
                              ("context", context, MAX_CONTEXT_CHARS)):
        if len(text) > limit:
            return f"{what} is {len(text)} characters, over the {limit}-character limit"
    if options > MAX_OPTIONS:
        return f"{options} options, over the {MAX_OPTIONS}-option limit"
    return None
