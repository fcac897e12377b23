"""ask(): answer a question about a recording, by the speech-language model or the cascade.

    ask("talk.wav", "Who bought the bicycle?")                      # lslm, L = 750
    ask("talk.wav", "Who bought the bicycle?", mode="cascade")      # transcript -> LLM
    ask_batch([{"path": "a.wav", "question": "..."}])                # LongSpeech-Eval input

lslm: encoder states -> iterative fusion to L frames with the trained density head -> the
encoder's LayerNorm -> projector -> LLM input embeddings between the prompt's text. A
Qwen2-Audio checkpoint (AskOptions.model = a hub id or directory) takes the same path with
its own encoder, projector and LLM. cascade: a transcript (given, or made by transcribe())
with times and speakers, given to the text LLM.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..audio import SAMPLE_RATE
from ..compression import METHODS, CompressionOptions
from ..errors import InvalidOptionError
from ..types import Transcript, load_transcript

Mode = Literal["lslm", "cascade"]
EMBEDDED_LSLM = "embedded"


@dataclass(frozen=True)
class AskOptions:
    """model: "embedded" (tiny.en + projector + SmolLM2, the shipped weights in model_dir) or
    a Qwen2-Audio hub id / local directory. model_dir: the trained embedded model (default
    the shipped weights, longspeech/speechlm/weights). qwen_head_dir: a density head trained for the Qwen2-Audio encoder.
    method: compression ("fusion", or the baselines "mostsim", "avgpool", "random").
    llm: the cascade's text LLM. asr: keyword options of transcribe() for the cascade."""

    model: str = EMBEDDED_LSLM
    model_dir: str | None = None
    qwen_head_dir: str | None = None
    method: str = "fusion"
    max_new_tokens: int = 64
    llm: str = "smollm2"
    asr: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InvalidOptionError(f"unknown compression method {self.method!r}; choose "
                                     f"from {', '.join(METHODS)}")
        if self.max_new_tokens < 1:
            raise InvalidOptionError("max_new_tokens must be >= 1")


@dataclass(frozen=True)
class Answer:
    """An answer and how it was made. frames: encoder frames of the recording (lslm);
    speech_tokens: vectors the LLM read in their place (<= window); seconds: wall time."""

    text: str
    mode: str
    question: str
    window: int | None = None
    method: str | None = None
    frames: int | None = None
    speech_tokens: int | None = None
    model: str = ""
    seconds: float = 0.0
    path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


AudioInput = str | os.PathLike | np.ndarray


def _samples(audio: AudioInput) -> np.ndarray:
    from ..audio import load

    if isinstance(audio, np.ndarray):
        return np.asarray(audio, np.float32)
    return load(audio)


def _lslm_states(loaded: Any, audio: AudioInput) -> np.ndarray:
    from ..encoders import encode_file, encode_samples

    if isinstance(audio, np.ndarray):
        return encode_samples(loaded.encoder, np.asarray(audio, np.float32)).states
    return np.asarray(encode_file(loaded.encoder, audio).states)


@lru_cache(maxsize=1)
def _qwen(model: str, head_dir: str | None, device: str) -> Any:
    from .qwen2audio import Qwen2AudioLSLM

    return Qwen2AudioLSLM.from_pretrained(model, head_dir, device)


def _ask_lslm(audio: AudioInput, question: str, window: int, opts: AskOptions) -> Answer:
    comp = CompressionOptions(method=opts.method, schedule="halving", seed=opts.seed)
    t0 = time.perf_counter()
    if opts.model != EMBEDDED_LSLM:
        qwen = _qwen(opts.model, opts.qwen_head_dir, opts.device)
        text, frames, kept = qwen.answer(_samples(audio), question, window, comp,
                                         opts.max_new_tokens)
        return Answer(text, "lslm", question, window, opts.method, frames, kept, opts.model,
                      time.perf_counter() - t0)
    from .loading import cached_speechlm, default_model_dir

    loaded = cached_speechlm(str(opts.model_dir or default_model_dir()), opts.device)
    states = _lslm_states(loaded, audio)
    if len(states) == 0:
        raise InvalidOptionError("the recording is empty: there is nothing to ask about")
    x, n = loaded.model.compress([states], window, comp)
    text = loaded.model.generate_from(loaded.model.project(x), n, question,
                                      opts.max_new_tokens)
    return Answer(text, "lslm", question, window, opts.method, len(states), int(n[0]),
                  f"{EMBEDDED_LSLM}:{loaded.directory}", time.perf_counter() - t0)


def _transcript_of(audio: AudioInput, opts: AskOptions) -> Transcript:
    from ..api import transcribe

    if not isinstance(audio, np.ndarray):
        return transcribe(audio, **opts.asr)
    import soundfile as sf

    with tempfile.TemporaryDirectory(prefix="longspeech-ask-") as d:
        path = Path(d) / "audio.wav"
        sf.write(path, np.asarray(audio, np.float32), SAMPLE_RATE)
        return transcribe(path, **opts.asr)


def _ask_cascade(audio: AudioInput | None, question: str, transcript: Transcript | str | None,
                 opts: AskOptions) -> Answer:
    from ..llm import load_llm
    from .cascade import answer_from_transcript

    t0 = time.perf_counter()
    if isinstance(transcript, (str, os.PathLike)) and Path(transcript).is_file():
        transcript = load_transcript(transcript)
    if transcript is None:
        if audio is None:
            raise InvalidOptionError("cascade needs audio or a transcript")
        transcript = _transcript_of(audio, opts)
    llm = load_llm(opts.llm, device=opts.device)
    text = answer_from_transcript(llm, transcript, question, opts.max_new_tokens)
    return Answer(text, "cascade", question, model=opts.llm, seconds=time.perf_counter() - t0)


def ask(audio: AudioInput | None, question: str, mode: Mode = "lslm", window: int = 750, *,
        transcript: Transcript | str | os.PathLike | None = None,
        options: AskOptions | None = None) -> Answer:
    """Answer `question` about a recording (a path, or float32 16 kHz mono samples).

    mode "lslm": the speech-language model reads the recording compressed to `window` speech
    vectors. mode "cascade": the LLM reads a transcript: `transcript` (a Transcript, a
    transcript JSON path, or plain text) or, without one, a transcription of the audio.
    """
    opts = options or AskOptions()
    if not question.strip():
        raise InvalidOptionError("the question is empty")
    if mode == "lslm":
        if audio is None:
            raise InvalidOptionError("lslm mode needs the audio")
        if window < 1:
            raise InvalidOptionError(f"window must be at least 1 speech vector, got {window}")
        answer = _ask_lslm(audio, question, window, opts)
    elif mode == "cascade":
        answer = _ask_cascade(audio, question, transcript, opts)
    else:
        raise InvalidOptionError(f"unknown mode {mode!r}; choose lslm or cascade")
    if audio is not None and not isinstance(audio, np.ndarray):
        answer = Answer(**{**answer.to_dict(), "path": str(audio)})
    return answer


def read_items(items: Sequence[dict[str, str]] | str | os.PathLike) -> list[dict[str, str]]:
    """LongSpeech-Eval input: a JSON list of {"path", "question"} (or that list itself).
    Relative paths are taken from the JSON file's folder."""
    if isinstance(items, (str, os.PathLike)):
        src = Path(items)
        data = json.loads(src.read_text())
        base = src.parent
    else:
        data, base = list(items), None
    if not isinstance(data, list):
        raise InvalidOptionError("LongSpeech-Eval input must be a JSON list of "
                                 '{"path": ..., "question": ...} objects')
    out = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or "path" not in item or "question" not in item:
            raise InvalidOptionError(f"item {i} needs a 'path' and a 'question'")
        path = Path(item["path"])
        if base is not None and not path.is_absolute():
            path = base / path
        out.append({**item, "path": str(path)})
    return out


def ask_batch(items: Sequence[dict[str, str]] | str | os.PathLike, mode: Mode = "lslm",
              window: int = 750, *, options: AskOptions | None = None) -> list[Answer]:
    """Answer every {"path", "question"} item (LongSpeech-Eval format) in order; models load
    once and each recording's encoder states come from the feature cache after the first."""
    return [ask(it["path"], it["question"], mode, window, options=options)
            for it in read_items(items)]


def answers_json(answers: Sequence[Answer]) -> str:
    """LongSpeech-Eval style output: [{"path", "question", "answer", ...}]."""
    return json.dumps([{"path": a.path, "question": a.question, "answer": a.text,
                        "mode": a.mode, "window": a.window, "method": a.method}
                       for a in answers], indent=1) + "\n"
