"""The question-answering stages: speech encoding (per recording, into the feature cache) and
answering (per question). Like every stage, each loads its models once in __init__ and maps
small items in __call__, so it runs in-process or as a Ray actor."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from ..audio import SAMPLE_RATE
from ..qa.answer import EMBEDDED_LSLM, Answer, AskOptions, answer_cascade, answer_lslm
from ..types import Transcript

MODES = ("lslm", "cascade")     # what `ask` offers; `eval blab` also uses mode "blab"


@dataclass(frozen=True)
class AskConfig:
    """How every question of a job is answered. mode "blab": each question is a BLAB item
    (qa.blab_answers.blab_request) answered from the recording's transcript."""

    mode: str = "lslm"
    window: int = 750
    options: AskOptions = field(default_factory=AskOptions)

    @property
    def needs_transcript(self) -> bool:
        return self.mode in ("cascade", "blab")


@dataclass(frozen=True)
class EncodeRequest:
    path: str


@dataclass(frozen=True)
class Encoded:
    frames: int                 # encoder frames now in the feature cache
    duration: float             # seconds of audio
    sha256: str                 # of the audio: what the answers are about


@dataclass(frozen=True)
class AnswerRequest:
    path: str
    question: str
    transcript: str | None      # cascade: the recording's transcript, as JSON
    key: str = ""               # where the job saves the answer


@dataclass(frozen=True)
class Answered:
    answer: Answer


class EncodeStage:
    """Whisper encoder states of a whole recording, computed once into the feature cache
    (keyed by the audio's sha256), so every question about it reads them from there."""

    num_cpus: ClassVar[float] = 1
    num_gpus: ClassVar[float] = 1
    answering: ClassVar[bool] = True

    def __init__(self, config: AskConfig):
        from ..speechlm.loading import cached_speechlm, default_model_dir

        opts = config.options
        self.encoder = cached_speechlm(str(opts.model_dir or default_model_dir()),
                                       opts.device).encoder

    def __call__(self, item: EncodeRequest) -> Encoded:
        from ..encoders import encode_file

        enc = encode_file(self.encoder, item.path)
        return Encoded(int(len(enc.states)), enc.num_samples / SAMPLE_RATE,
                       enc.audio_sha256 or "")


class AnswerStage:
    """One question about one recording: the speech-language model reads the audio (lslm),
    the text LLM reads the transcript (cascade), or a BLAB item is answered from the
    transcript's words, turns and the LLM's and the entity recogniser's judgements (blab)."""

    num_cpus: ClassVar[float] = 1
    num_gpus: ClassVar[float] = 1
    answering: ClassVar[bool] = True

    def __init__(self, config: AskConfig):
        self.config = config
        opts = config.options
        if config.needs_transcript:
            from ..llm import load_llm

            self.llm = load_llm(opts.llm, device=opts.device)     # kept by the LLM registry
            if config.mode == "blab":
                from ..models.ner import load_ner

                load_ner()
        elif opts.model == EMBEDDED_LSLM:
            from ..speechlm.loading import cached_speechlm, default_model_dir

            cached_speechlm(str(opts.model_dir or default_model_dir()), opts.device)

    def __call__(self, item: AnswerRequest) -> Answered:
        c = self.config
        if c.mode == "blab":
            from ..qa.blab_answers import answer_request

            assert item.transcript is not None
            t0 = time.perf_counter()
            text = answer_request(item.question, Transcript.from_json(item.transcript),
                                  self.llm)
            answer = Answer(text, "blab", item.question, model=c.options.llm,
                            seconds=time.perf_counter() - t0, path=item.path)
        elif c.needs_transcript:
            assert item.transcript is not None
            answer = answer_cascade(Transcript.from_json(item.transcript), item.question,
                                    c.options)
        else:
            answer = answer_lslm(item.path, item.question, c.window, c.options)
        return Answered(answer)


def answer_settings(config: AskConfig) -> dict[str, Any]:
    """What an answer depends on besides its question and recording (the job fingerprint)."""
    return {"mode": config.mode, "window": config.window, "options": asdict(config.options)}


__all__ = ["MODES", "AnswerRequest", "AnswerStage", "Answered", "AskConfig", "EncodeRequest",
           "EncodeStage", "Encoded", "answer_settings"]
