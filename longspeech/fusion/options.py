"""Options of generative fusion decoding, defaulted as in the paper's English setup."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidOptionError


@dataclass(frozen=True)
class FusionOptions:
    """GFD settings: the LLM side of the gfd engine (the Whisper side, model, language,
    beams, device and prompts, is AsrOptions'). `weight` is r in
    fused = (1 - r) * asr + r * llm; 0 turns the LLM off.

    `prompt` is what the LLM reads before each chunk (a domain's terms and names are how a
    user biases recognition); the last `context_chars` characters of the running transcript
    follow it.
    """

    weight: float = 0.2
    llm: str = "smollm2"
    # "int8" (CPU) reads the prompt in float32 and scores hypotheses with an int8 copy, 1.7x
    # faster a step (llm/int8.py); "bfloat16" halves the LLM's memory traffic on GPUs; "auto":
    # int8 on the CPU, float32 elsewhere
    llm_dtype: str = "auto"
    prompt: str = ""
    candidates: int = 5               # Whisper's top-k next tokens per beam
    llm_temperature: float = 1.7
    repetition_penalty: float = 2.0
    penalty_window: int = 50
    penalize_prompt: bool = False     # the paper's code also penalises prompt tokens
    score_floor: float = -1e5
    max_len_diff: int = 20            # stop when beam lengths differ by more than this
    context_chars: int = 4000         # running transcript the LLM sees (500 suits Chinese)
    asr_prompt: bool = True           # condition Whisper on the previous chunk's text
    # Where Whisper is sure the LLM has nothing to overrule: it reorders only hypotheses whose
    # Whisper score per token is within this many nats of the best (0: plain search; None:
    # the paper's fusion, the LLM reorders all).
    acoustic_margin: float | None = 0.03
    # The prompt's rare words are offered as continuations where Whisper finds their first
    # token within this many nats of its best (None: off); at most term_limit a step.
    term_margin: float | None = 5.0
    term_limit: int = 4
    # ... and the LLM may choose a hypothesis holding an offered term within this margin of
    # Whisper's best score per token (at least acoustic_margin)
    glossary_margin: float | None = 0.1
    # A fused hypothesis whose Whisper score per token is more than this below the plain
    # search's is replaced by the plain one (None: no guard).
    guard: float | None = 0.2
    # After the search, words that sound like a glossary term (at least respell_similarity
    # alike) are respelled as the term where that costs Whisper at most respell_margin nats
    # over the chunk and the LLM gains more than Whisper loses (asr/respell.py; None: off).
    respell_margin: float | None = 15.0
    respell_similarity: float = 0.5

    def validate(self) -> None:
        if not 0.0 <= self.weight <= 1.0:
            raise InvalidOptionError(f"fusion weight r must be in [0, 1], got {self.weight}")
        if self.candidates < 1:
            raise InvalidOptionError("candidates must be >= 1")
        if self.llm_temperature <= 0:
            raise InvalidOptionError("llm_temperature must be > 0")
        if self.repetition_penalty <= 0 or self.penalty_window < 0:
            raise InvalidOptionError("repetition_penalty must be > 0 and penalty_window >= 0")
        if self.llm_dtype not in ("auto", "float32", "float16", "bfloat16", "int8"):
            raise InvalidOptionError("llm_dtype is auto, float32, float16, bfloat16 or int8")
        for name in ("acoustic_margin", "term_margin", "glossary_margin", "guard",
                     "respell_margin"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise InvalidOptionError(f"{name} must be >= 0 (or None to turn it off)")
        if not 0.0 < self.respell_similarity <= 1.0:
            raise InvalidOptionError("respell_similarity must be in (0, 1]")
        if self.term_limit < 1:
            raise InvalidOptionError("term_limit must be >= 1")
        if self.context_chars < 0 or self.max_len_diff < 0:
            raise InvalidOptionError("context_chars and max_len_diff must be >= 0")
