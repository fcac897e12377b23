"""The embedded speech-language model: Whisper encoder states -> compression -> the encoder's
final LayerNorm -> a linear projector -> the LLM's input embeddings, between the prompt's text.

    [chat prefix tokens] [L speech vectors] ["\\n" + instruction + chat suffix] [answer]

Compression (iterative fusion with the CTC density head, or a baseline) shortens the pre-LN
states to the window L first, as FastLongSpeech does. The LLM stays frozen; the projector (and
optionally LoRA adapters) is what training changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..compression import CompressionOptions, CTCDensityHead, compress_batch
from ..errors import InvalidOptionError
from ..llm import LoadedLLM

SYSTEM = "You hear speech and answer briefly."
SPEECH_MARK = "<<speech>>"
TRANSCRIBE = "Transcribe the speech."


@dataclass(frozen=True)
class Prompt:
    """Token ids before and after the speech vectors of one instruction."""

    prefix: tuple[int, ...]
    suffix: tuple[int, ...]


class SpeechLM(nn.Module):
    """Holds the frozen LLM, a frozen copy of the encoder's final LayerNorm, the projector and
    the density head; builds input embeddings, computes the training loss, and generates."""

    def __init__(self, llm: LoadedLLM, layer_norm: nn.LayerNorm, projector: nn.Linear,
                 head: CTCDensityHead | None = None, system: str = SYSTEM,
                 lm: nn.Module | None = None):
        super().__init__()
        self.llm = llm
        self.tokenizer = llm.tokenizer
        # `lm` is the LLM actually run: llm.model itself, or a copy carrying LoRA adapters.
        self.lm = lm if lm is not None else llm.model
        for p in self.lm.parameters():
            if not getattr(p, "_lslm_trainable", False):
                p.requires_grad_(False)
        self.layer_norm = layer_norm
        for p in self.layer_norm.parameters():
            p.requires_grad_(False)
        self.projector = projector
        self.head = head
        if head is not None:
            for p in head.parameters():
                p.requires_grad_(False)
        self.system = system
        self._prompts: dict[str, Prompt] = {}
        emb = self.causal_lm.get_input_embeddings()
        if projector.out_features != emb.embedding_dim:
            raise InvalidOptionError(f"projector gives {projector.out_features}-d vectors; the "
                                     f"LLM's embeddings are {emb.embedding_dim}-d")
        self.end_id = int(self.tokenizer.eos_token_id)

    # -- parts -----------------------------------------------------------------------------

    @property
    def causal_lm(self) -> Any:
        """The causal LM module (inside a peft wrapper when LoRA is used)."""
        get = getattr(self.lm, "get_base_model", None)
        return get() if callable(get) else self.lm

    @property
    def d_enc(self) -> int:
        return int(self.projector.in_features)

    def prompt(self, instruction: str) -> Prompt:
        """The chat template around the speech, split at the speech's place (cached)."""
        p = self._prompts.get(instruction)
        if p is None:
            messages = [{"role": "system", "content": self.system},
                        {"role": "user", "content": f"{SPEECH_MARK}\n{instruction}"}]
            text = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True,
                                                      tokenize=False)
            before, mark, after = text.partition(SPEECH_MARK)
            if not mark:
                raise InvalidOptionError("the LLM's chat template dropped the speech placeholder")
            enc = self.tokenizer
            p = Prompt(tuple(enc(before, add_special_tokens=False).input_ids),
                       tuple(enc(after, add_special_tokens=False).input_ids))
            self._prompts[instruction] = p
        return p

    def answer_ids(self, answer: str) -> list[int]:
        """The answer's tokens and the end-of-turn token the model must learn to emit."""
        return list(self.tokenizer(answer, add_special_tokens=False).input_ids) + [self.end_id]

    def compress(self, states: Sequence[Tensor | np.ndarray], window: int,
                 options: CompressionOptions | None = None) -> tuple[Tensor, Tensor]:
        """Pad a list of (T_i, d) pre-LN states and shorten each to at most `window` frames:
        ((B, W, d), lengths)."""
        opts = options or CompressionOptions(schedule="pool")
        # cached states may be read-only memory maps: torch wants writable arrays
        rows = [s.float() if isinstance(s, Tensor) else
                torch.from_numpy(np.require(s, np.float32, ["W"])) for s in states]
        lengths = torch.tensor([len(r) for r in rows], dtype=torch.long)
        x = torch.zeros(len(rows), int(lengths.max()), self.d_enc)
        for i, r in enumerate(rows):
            x[i, :len(r)] = r
        density = self.head.density if self.head is not None else None
        if opts.method == "fusion" and density is None:
            raise InvalidOptionError("fusion needs the CTC density head; load a trained one")
        with torch.no_grad():
            return compress_batch(x, lengths, density, window, opts)

    def project(self, states: Tensor) -> Tensor:
        """(B, W, d_enc) pre-LN states -> (B, W, d_llm) LLM input vectors."""
        return self.projector(self.layer_norm(states))

    def assemble(self, speech: Tensor, lengths: Tensor, instructions: Sequence[str],
                 answers: Sequence[str] | None = None, left_pad: bool = False
                 ) -> tuple[Tensor, Tensor, Tensor | None]:
        """inputs_embeds (B, N, d_llm), attention mask (B, N) and, given answers, labels
        (-100 except on answer tokens). Right padding for training, left for generation."""
        embed = self.causal_lm.get_input_embeddings()
        device = embed.weight.device
        rows, labels = [], []
        for i, instruction in enumerate(instructions):
            p = self.prompt(instruction)
            ans = self.answer_ids(answers[i]) if answers is not None else []
            pre = embed(torch.tensor(p.prefix, device=device))
            post = embed(torch.tensor(list(p.suffix) + ans, device=device))
            n = int(lengths[i])
            rows.append(torch.cat([pre, speech[i, :n].to(device, pre.dtype), post]))
            labels.append([-100] * (len(p.prefix) + n + len(p.suffix)) + ans)
        width = max(len(r) for r in rows)
        dim = rows[0].shape[1]
        x = rows[0].new_zeros(len(rows), width, dim)
        mask = torch.zeros(len(rows), width, dtype=torch.long, device=device)
        lab = torch.full((len(rows), width), -100, dtype=torch.long, device=device)
        for i, r in enumerate(rows):
            sl = slice(width - len(r), width) if left_pad else slice(0, len(r))
            x[i, sl] = r
            mask[i, sl] = 1
            lab[i, sl] = torch.tensor(labels[i], device=device)
        return x, mask, (lab if answers is not None else None)

    # -- training and inference ------------------------------------------------------------

    def loss(self, states: Sequence[Tensor | np.ndarray], instructions: Sequence[str],
             answers: Sequence[str], window: int,
             options: CompressionOptions | None = None) -> Tensor:
        """Mean cross-entropy of the answer tokens given compressed speech and instruction.

        Logits are computed only where a label is, which keeps the 49k-word output layer off
        the speech and prompt positions."""
        x, n = self.compress(states, window, options)
        speech = self.project(x)
        emb, mask, labels = self.assemble(speech, n, instructions, answers)
        assert labels is not None
        causal = self.causal_lm
        hidden = causal.model(inputs_embeds=emb, attention_mask=mask).last_hidden_state
        target = labels[:, 1:]
        keep = target != -100
        logits = causal.lm_head(hidden[:, :-1][keep])
        return F.cross_entropy(logits.float(), target[keep])

    @torch.inference_mode()
    def generate(self, states: Tensor | np.ndarray, instruction: str, window: int,
                 options: CompressionOptions | None = None, max_new_tokens: int = 64) -> str:
        """Greedy answer to `instruction` about one recording's pre-LN states (T, d)."""
        x, n = self.compress([states], window, options)
        return self.generate_from(self.project(x), n, instruction, max_new_tokens)

    @torch.inference_mode()
    def generate_from(self, speech: Tensor, lengths: Tensor, instruction: str,
                      max_new_tokens: int = 64) -> str:
        """Greedy answer given projected speech vectors (1, W, d_llm)."""
        emb, mask, _ = self.assemble(speech, lengths, [instruction])
        out = self.causal_lm.generate(
            inputs_embeds=emb, attention_mask=mask, max_new_tokens=max_new_tokens,
            do_sample=False, temperature=None, top_p=None, top_k=None,
            eos_token_id=self.end_id, pad_token_id=self.end_id)
        return self.tokenizer.decode(out[0], skip_special_tokens=True).strip()
