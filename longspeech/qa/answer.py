"""Answering one question: by the speech-language model from the audio, or by the text LLM
from a transcript (the cascade). Transcription and batching are the pipeline's (pipelines/ask).

lslm: encoder states -> iterative fusion to L frames with the trained density head -> the
encoder's LayerNorm -> projector -> LLM input embeddings between the prompt's text. A
Qwen2-Audio checkpoint (AskOptions.model = a hub id or directory) takes the same path with
its own encoder, projector and LLM. cascade: a transcript (given, or made by transcribe())
with times and speakers, given to the text LLM.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any, Literal

import numpy as np

from ..compression import METHODS, CompressionOptions
from ..errors import InvalidOptionError
from ..types import Transcript
from .evidence import Evidence, backed, find_evidence, kind_answer, nearest_passage

Mode = Literal["lslm", "cascade"]
EMBEDDED_LSLM = "embedded"


@dataclass(frozen=True)
class AskOptions:
    """model: "embedded" (tiny.en + projector + SmolLM2, the shipped weights in model_dir) or
    a Qwen2-Audio hub id / local directory. model_dir: the trained embedded model (default
    the shipped weights, longspeech/speechlm/weights). qwen_head_dir: a density head trained for the Qwen2-Audio encoder.
    method: compression ("fusion", or the baselines "mostsim", "avgpool", "random").
    llm: the cascade's text LLM. passages: transcript lines (best BM25 ranks) the cascade's
    LLM reads; 0: as much of the transcript as fits its context. asr: keyword options of
    transcribe() for the cascade. roles: (role, speaker) pairs that name who "the host",
    "the guest" or "me" is in questions ("me" covers I / my)."""

    model: str = EMBEDDED_LSLM
    model_dir: str | None = None
    qwen_head_dir: str | None = None
    method: str = "fusion"
    max_new_tokens: int = 64
    llm: str = "smollm2"
    passages: int = 1
    asr: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    seed: int = 0
    roles: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InvalidOptionError(f"unknown compression method {self.method!r}; choose "
                                     f"from {', '.join(METHODS)}")
        if self.max_new_tokens < 1:
            raise InvalidOptionError("max_new_tokens must be >= 1")
        if self.passages < 0:
            raise InvalidOptionError("passages must be >= 0 (0: as much as fits)")
        for pair in self.roles:
            if len(pair) != 2 or not all(isinstance(x, str) and x.strip() for x in pair):
                raise InvalidOptionError(
                    f"a role is ROLE=SPEAKER, e.g. host=SPEAKER_00; got {pair!r}")


@dataclass(frozen=True)
class Answer:
    """An answer and how it was made. frames: encoder frames of the recording (lslm);
    speech_tokens: vectors the LLM read in their place (<= window); seconds: wall time;
    evidence: the transcript segments that hold the answer (cascade). supported: False when
    the LLM's reply had words no evidence holds (a guess) and named nothing of the kind asked
    for that the evidence holds: the text then quotes the passage that bears on the question
    instead."""

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
    evidence: list[Evidence] = field(default_factory=list)
    supported: bool | None = None

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


def answer_lslm(audio: AudioInput, question: str, window: int, opts: AskOptions) -> Answer:
    """The speech-language model's answer, read from the recording compressed to `window`
    speech vectors."""
    comp = CompressionOptions(method=opts.method, schedule="halving", seed=opts.seed)
    t0 = time.perf_counter()
    if opts.model != EMBEDDED_LSLM:
        qwen = _qwen(opts.model, opts.qwen_head_dir, opts.device)
        text, frames, kept = qwen.answer(_samples(audio), question, window, comp,
                                         opts.max_new_tokens)
        return Answer(text, "lslm", question, window, opts.method, frames, kept, opts.model,
                      time.perf_counter() - t0)
    from ..speechlm.loading import cached_speechlm, default_model_dir

    loaded = cached_speechlm(str(opts.model_dir or default_model_dir()), opts.device)
    states = _lslm_states(loaded, audio)
    if len(states) == 0:
        raise InvalidOptionError("the recording is empty: there is nothing to ask about")
    x, n = loaded.model.compress([states], window, comp)
    text = loaded.model.generate_from(loaded.model.project(x), n, question,
                                      opts.max_new_tokens)
    return Answer(text, "lslm", question, window, opts.method, len(states), int(n[0]),
                  opts.model_dir or EMBEDDED_LSLM, time.perf_counter() - t0)


def answer_cascade(transcript: Transcript | str, question: str, opts: AskOptions) -> Answer:
    """The answer from a transcript (a Transcript or plain text): computed from its times
    and speakers for a question about its structure, else the text LLM's."""
    from ..llm import load_llm
    from .cascade import answer_from_transcript
    from .structured import computed_answer

    t0 = time.perf_counter()
    got = (None if isinstance(transcript, str)
           else computed_answer(transcript, question, dict(opts.roles)))
    if got is not None:
        return Answer(got.text, "cascade", question, model="transcript data",
                      seconds=time.perf_counter() - t0, evidence=got.evidence,
                      supported=True if got.evidence else None)
    llm = load_llm(opts.llm, device=opts.device)
    text = answer_from_transcript(llm, transcript, question, opts.max_new_tokens,
                                  passages=opts.passages)
    if isinstance(transcript, str):
        return Answer(text, "cascade", question, model=opts.llm,
                      seconds=time.perf_counter() - t0)
    evidence = find_evidence(transcript, question, text)
    supported = backed(question, text, evidence)
    short = None if supported else kind_answer(question, text, evidence)
    if short is not None:
        (text, evidence), supported = short, True
    elif not supported:
        evidence = nearest_passage(transcript, question)
        text = unbacked_answer(evidence)
    return Answer(text, "cascade", question, model=opts.llm, seconds=time.perf_counter() - t0,
                  evidence=evidence, supported=supported)


def unbacked_answer(passage: list[Evidence]) -> str:
    """What the user reads instead of an answer the transcript does not back: the passage
    that bears on the question, quoted, or that there is none."""
    if not passage:
        return "The transcript does not say."
    quote = " ".join(e.text for e in passage)
    return f'The transcript does not say it in those words; the nearest passage: "{quote}"'
