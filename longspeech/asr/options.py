"""One options dataclass for every Whisper engine, so both engines decode the same way."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import InvalidOptionError
from ..fusion.options import FusionOptions

ENGINES = ("ct2", "transformers", "gfd")


def fallback_temperatures(start: float = 0.0, increment: float = 0.2) -> tuple[float, ...]:
    """Whisper's schedule: `start`, then up by `increment` to 1.0 (none when increment is 0)."""
    if not 0.0 <= start <= 1.0 or increment < 0:
        raise InvalidOptionError("temperature must be in [0, 1] and its increment >= 0")
    if increment == 0:
        return (start,)
    n = int(round((1.0 - start) / increment))
    return tuple(round(start + k * increment, 6) for k in range(n + 1))


@dataclass
class AsrOptions:
    """Decoding options, named and defaulted as in OpenAI Whisper and faster-whisper.

    Hallucination guards: a chunk whose text compresses more than `compression_ratio_threshold`
    (repetition) or whose mean token log-probability is below `log_prob_threshold` is decoded
    again at the next temperature; a chunk with `no_speech_prob` above `no_speech_threshold`
    and a low log-probability is treated as silence.
    """

    model: str = "tiny.en"
    engine: str = "ct2"
    language: str | None = None
    task: str = "transcribe"
    beam_size: int = 5
    batch_size: int = 8
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    compression_ratio_threshold: float | None = 2.4
    log_prob_threshold: float | None = -1.0
    no_speech_threshold: float | None = 0.6
    length_penalty: float = 1.0
    word_timestamps: bool = True
    # Calibrated shift of the cross-attention word times and trimming of words over silences
    # (see word_times.py); False keeps the raw DTW times.
    word_time_correction: bool = True
    initial_prompt: str | None = None
    # Words Whisper should expect (faster-whisper's hotwords): put before the prompt.
    hotwords: str | None = None
    device: str = "cpu"
    compute_type: str = "auto"   # ct2: int8 on CPU, float16 on CUDA
    cpu_threads: int = 0
    max_segment_seconds: float = 12.0
    # Temperature fallback samples. The transformers and gfd engines start every fallback
    # decode from this seed, so a chunk decodes the same way wherever it is decoded.
    # (CTranslate2 keeps one random generator per worker thread, seeded once: its fallback
    # samples are not reproducible this way.)
    seed: int = 0
    # The gfd engine's LLM side (None: its defaults); only the gfd engine reads it.
    fusion: FusionOptions | None = None
    extra: dict = field(default_factory=dict)

    def prompt_text(self, previous: str | None = None) -> str | None:
        """What Whisper reads before a chunk: the hotwords, then `previous` (default: the
        initial prompt), as faster-whisper orders them."""
        text = " ".join(t.strip() for t in (self.hotwords, previous if previous is not None
                                            else self.initial_prompt) if t and t.strip())
        return text or None

    def validate(self) -> None:
        if self.engine not in ENGINES:
            raise InvalidOptionError(
                f"unknown engine {self.engine!r}; choose from {', '.join(ENGINES)}")
        if self.beam_size < 1:
            raise InvalidOptionError("beam size must be >= 1")
        if self.batch_size < 1:
            raise InvalidOptionError("batch size must be >= 1")
        if not self.temperatures:
            raise InvalidOptionError("give at least one temperature (e.g. 0.0)")
        if self.task not in ("transcribe", "translate"):
            raise InvalidOptionError("task is 'transcribe' or 'translate'")
        if self.fusion is not None and self.engine != "gfd":
            raise InvalidOptionError("fusion settings need the gfd engine (--fusion gfd)")
        if self.fusion is not None:
            self.fusion.validate()
