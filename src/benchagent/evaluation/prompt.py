"""An item as a chat request in the OpenAI-compatible format: the text with lettered options,
images as data URLs and audio as `input_audio` parts; and the same item without its media
(the blind condition)."""

from __future__ import annotations

import base64
import mimetypes
from pathlib import Path
from typing import Any, Literal

from benchagent.evaluation.scoring import LETTERS
from benchagent.models import CompletionRequest, Message
from benchagent.records import AnswerType, BenchmarkSample, Modality
from benchagent.store import RunError

Condition = Literal["full", "blind"]
ANSWER_TOKENS = 256
FREE_FORM_TOKENS = 512
_AUDIO_FORMATS = {".wav": "wav", ".mp3": "mp3"}


def item_text(sample: BenchmarkSample) -> str:
    """What the model reads: the instruction, the context, the question and lettered options."""
    parts = [sample.instruction.strip()] if sample.instruction.strip() else []
    if sample.context.strip():
        parts.append(f"Context: {sample.context.strip()}")
    parts.append(f"Question: {sample.question.strip()}")
    if sample.options:
        lines = [f"{LETTERS[i]}. {option}" for i, option in enumerate(sample.options[:26])]
        parts.append("Options:\n" + "\n".join(lines))
    return "\n\n".join(parts)


def has_media(sample: BenchmarkSample) -> bool:
    return any(m.kind in (Modality.image, Modality.audio) for m in sample.media)


def media_part(run_dir: Path, kind: Modality, rel: str) -> dict[str, Any]:
    path = run_dir / rel
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RunError(f"cannot read the item's media {path}: {exc.strerror or exc}") from exc
    encoded = base64.b64encode(data).decode("ascii")
    if kind == Modality.audio:
        audio_format = _AUDIO_FORMATS.get(path.suffix.lower(), path.suffix.lower().lstrip("."))
        return {"type": "input_audio", "input_audio": {"data": encoded, "format": audio_format}}
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{encoded}"}}


def item_messages(sample: BenchmarkSample, run_dir: Path, condition: Condition) -> list[Message]:
    text = item_text(sample)
    media = [m for m in sample.media if m.kind in (Modality.image, Modality.audio)]
    if condition == "blind" or not media:
        return [{"role": "user", "content": text}]
    parts = [media_part(run_dir, m.kind, m.path) for m in media]
    return [{"role": "user", "content": [*parts, {"type": "text", "text": text}]}]


def item_request(sample: BenchmarkSample, run_dir: Path, condition: Condition,
                 seed: int) -> CompletionRequest:
    tokens = FREE_FORM_TOKENS if sample.answer_type == AnswerType.free_form else ANSWER_TOKENS
    return CompletionRequest(messages=item_messages(sample, run_dir, condition),
                             temperature=0.0, max_tokens=tokens, seed=seed)
