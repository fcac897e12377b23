"""Whisper (transformers) driven one decoder step at a time, for fused beam search.

The encoder runs once per chunk; the decoder runs over a token tree (tree.py), so every beam
step is one decoder call on just the beams' newest tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..models.whisper_hf import load_whisper
from .bytes import whisper_token_bytes
from .tree import Node, TreeCache

PROMPT_TOKENS = 223   # previous-text tokens Whisper may see (as OpenAI Whisper: n_ctx // 2 - 1)
# Text tokens a chunk of speech can hold: 12 a second, plus 16. The fastest real English in
# the dev set runs at 4.3 tokens a second (clips over a second), so a search that reaches this
# without ending has left the audio behind (a loop). Without it a loop in noise runs on to the
# decoder's 448 positions, 10 s and more of searching for a 4-second clip.
MAX_TOKEN_RATE = 12.0
TOKEN_SLACK = 16


def text_token_limit(seconds: float) -> int:
    """The most text tokens a search may produce for `seconds` of audio."""
    return TOKEN_SLACK + int(np.ceil(seconds * MAX_TOKEN_RATE))


@dataclass
class WhisperAsr:
    """A loaded Whisper with what decoding needs: token bytes, special ids, suppress lists."""

    model: Any
    processor: Any
    tokenizer: Any                  # faster_whisper Tokenizer (word splitting for alignment)
    token_bytes: list[bytes]
    suppress: torch.Tensor          # suppressed at every step
    begin_suppress: torch.Tensor    # also suppressed for the first token
    max_len: int                    # decoder positions (448)
    model_id: str

    @classmethod
    def load(cls, model_id: str = "tiny.en", device: str = "cpu",
             language: str = "en") -> WhisperAsr:
        model, processor, _ = load_whisper(model_id, device)
        return cls.from_model(model, processor, model_id, language)

    @classmethod
    def from_model(cls, model: Any, processor: Any, model_id: str, language: str = "en",
                   task: str = "transcribe") -> WhisperAsr:
        """A decoder over an already loaded Whisper, for one language and task."""
        from faster_whisper.tokenizer import Tokenizer

        gc = model.generation_config
        multilingual = bool(getattr(gc, "is_multilingual", False))
        tok = Tokenizer(processor.tokenizer.backend_tokenizer, multilingual, task=task,
                        language=language if multilingual else "en")
        suppress = [t for t in (gc.suppress_tokens or []) if t >= 0]
        begin = list(getattr(gc, "begin_suppress_tokens", None) or [])
        return cls(model, processor, tok, whisper_token_bytes(processor.tokenizer, tok.eot),
                   torch.tensor(suppress, dtype=torch.long),
                   torch.tensor(sorted(set(begin + suppress)), dtype=torch.long),
                   int(model.config.max_target_positions), model_id)

    @property
    def eot(self) -> int:
        return int(self.tokenizer.eot)

    @property
    def device(self) -> torch.device:
        return self.model.device

    def prefix(self, prompt: str | None = None) -> list[int]:
        """<|startofprev|> prompt <|startoftranscript|>(<|lang|><|transcribe|>)<|notimestamps|>."""
        tok = self.tokenizer
        ids = list(tok.sot_sequence) + [tok.no_timestamps]
        if prompt and prompt.strip():
            ids = [tok.sot_prev] + tok.encode(" " + prompt.strip())[-PROMPT_TOKENS:] + ids
        return ids

    def encode(self, samples: Sequence[np.ndarray]) -> torch.Tensor:
        """Encoder output for up-to-30 s clips (batch, frames, width)."""
        fe = self.processor.feature_extractor
        feats = fe(list(samples), sampling_rate=16000, return_tensors="pt").input_features
        feats = feats.to(self.device, self.model.dtype)
        with torch.inference_mode():
            return self.model.model.encoder(feats).last_hidden_state

    def text(self, tokens: Sequence[int]) -> str:
        return self.tokenizer.decode([t for t in tokens if t < self.eot])


class WhisperSteps:
    """One chunk's decoder: log-probabilities after any hypothesis, one call per step.

    The best TOP_KEPT next tokens after every node computed are remembered, so a second
    search over the same chunk (the plain search beside a fused one) reuses the first's work.
    """

    TOP_KEPT = 16

    def __init__(self, asr: WhisperAsr, encoder_out: torch.Tensor, prefix: Sequence[int],
                 seconds: float | None = None):
        """`seconds`: the chunk's duration, which caps the text at text_token_limit; without
        it, only the decoder's positions do."""
        self.asr = asr
        self.prefix_len = len(prefix)
        self.limit = asr.max_len if seconds is None else min(
            asr.max_len, self.prefix_len + text_token_limit(seconds))
        self.tree = TreeCache(_whisper_step(asr.model, encoder_out[:1]), prefix,
                              dtype=asr.model.dtype, device=asr.device)
        self._top: dict[int, tuple[list[int], list[float]]] = {}

    def first(self) -> tuple[int, float]:
        """Greedy first token (begin-suppress and suppress lists applied) and its log-prob."""
        logits = self.tree.root_logits.float().clone()
        logits[self.asr.begin_suppress] = -torch.inf
        lp = torch.log_softmax(logits, dim=-1)
        tok = int(torch.argmax(lp))
        return tok, float(lp[tok])

    def logprobs(self, nodes: Sequence[Node]) -> torch.Tensor:
        """(len(nodes), vocab) next-token log-probs after each node, suppress list applied."""
        out = self.tree.compute(nodes)
        logits = torch.stack([out[id(n)] for n in nodes]).float()
        logits[:, self.asr.suppress] = -torch.inf
        rows = torch.log_softmax(logits, dim=-1)
        vals, ids = rows.topk(self.TOP_KEPT, dim=-1)
        for n, v, i in zip(nodes, vals.tolist(), ids.tolist()):
            self._top[id(n)] = (i, v)
        return rows

    def ran_away(self, tokens: Sequence[int]) -> bool:
        """Whether a hypothesis ended at the duration's cap, not at EOT nor at the decoder's
        positions: more text than the audio can hold."""
        return (self.limit < self.asr.max_len and tokens[-1] != self.asr.eot
                and self.prefix_len + len(tokens) > self.limit)

    def remembers(self, node: Node) -> bool:
        """Whether the best next tokens after `node` are known (top() needs no call)."""
        return id(node) in self._top

    def known(self, node: Node, token: int) -> float | None:
        """The log-prob of `token` after `node` when it is among the best remembered there."""
        top = self._top.get(id(node))
        if top is None or token not in top[0]:
            return None
        return top[1][top[0].index(token)]

    def top(self, nodes: Sequence[Node], k: int) -> list[list[tuple[int, float]]]:
        """The k most likely next tokens (token, log-prob) after each node, best first."""
        if k > self.TOP_KEPT:
            return [list(zip(i.tolist(), v.tolist()))
                    for v, i in zip(*self.logprobs(nodes).topk(k, dim=-1))]
        missing = list({id(n): n for n in nodes if id(n) not in self._top}.values())
        if missing:
            self.logprobs(missing)
        return [list(zip(*self._top[id(n)]))[:k] for n in nodes]


def _whisper_step(model: Any, encoder_out: torch.Tensor):
    def step(ids: torch.Tensor, pos: torch.Tensor, mask: torch.Tensor | None,
             cache: Any) -> tuple[torch.Tensor, Any]:
        with torch.inference_mode():
            out = model.model.decoder(input_ids=ids, position_ids=pos, attention_mask=mask,
                                      encoder_hidden_states=encoder_out, past_key_values=cache,
                                      use_cache=True)
            h = out.last_hidden_state[0]
            return model.proj_out(h[-1:] if mask is None else h), out.past_key_values

    return step
