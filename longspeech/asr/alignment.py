"""Word timestamps for the transformers engine: cross-attention + dynamic time warping.

One teacher-forced decoder pass over the chosen tokens yields the token log-probabilities
(for the guards and word probabilities), the no-speech probability, and the alignment heads'
cross-attention, which DTW turns into token boundaries, as OpenAI Whisper does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

TOKENS_PER_SECOND = 50  # encoder frames per second after the conv stride (20 ms each)


@dataclass
class ScoredDecode:
    tokens: list[int]
    token_logprobs: np.ndarray
    avg_logprob: float
    no_speech_prob: float
    attention: np.ndarray | None  # (heads, len(tokens)+1, frames): rows predict tokens + EOT


def teacher_forced(model, encoder_out: torch.Tensor, prompt: list[int], tokens: list[int],
                   eot: int, sot: int, no_speech: int | None, heads: list[tuple[int, int]] | None,
                   num_frames: int) -> ScoredDecode:
    """Score `tokens` after `prompt` on one chunk's encoder output (batch of one)."""
    ids = torch.tensor([prompt + tokens + [eot]], dtype=torch.long)
    with torch.inference_mode():
        out = model.model.decoder(input_ids=ids, encoder_hidden_states=encoder_out,
                                  output_attentions=heads is not None, use_cache=False)
        logits = model.proj_out(out.last_hidden_state)[0].float()
    logp = torch.log_softmax(logits, dim=-1)
    n0 = len(prompt)
    targets = torch.tensor(tokens + [eot])
    tok_lp = logp[n0 - 1: n0 - 1 + len(targets)].gather(1, targets[:, None])[:, 0].numpy()
    # As faster-whisper: sum over text tokens and EOT, normalised by length + 1.
    avg = float(tok_lp.sum() / (len(tokens) + 1))
    nsp = 0.0
    if no_speech is not None:
        # The no-speech token is read at the position right after <|startoftranscript|>.
        nsp = float(torch.softmax(logits[prompt.index(sot)], dim=-1)[no_speech])
    att = None
    if heads is not None:
        layers = out.cross_attentions
        att = torch.stack([layers[layer][0, head] for layer, head in heads])
        # Row i is the input position whose output predicts token i (text tokens, then EOT).
        att = att[:, n0 - 1:n0 + len(tokens), :num_frames // 2].float()
        att = (att / att.sum(dim=-1, keepdim=True).clamp_min(1e-12)).numpy()
    return ScoredDecode(tokens, tok_lp, avg, nsp, att)


def _median_filter(x: np.ndarray, width: int) -> np.ndarray:
    if width <= 1 or x.shape[-1] <= width // 2:
        return x
    pad = width // 2
    padded = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(pad, pad)], mode="reflect")
    windows = np.lib.stride_tricks.sliding_window_view(padded, width, axis=-1)
    return np.median(windows, axis=-1)


def _dtw(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Monotonic alignment path through cost (tokens x frames), as in OpenAI Whisper."""
    from transformers.models.whisper.generation_whisper import _dynamic_time_warping

    return _dynamic_time_warping(cost)


def align_words(decode: ScoredDecode, tokenizer, *, median_width: int = 7) -> list[dict]:
    """Words of a decode with start/end (seconds from the chunk start) and probability."""
    from faster_whisper.transcribe import merge_punctuations

    if not decode.tokens or decode.attention is None:
        return []
    w = decode.attention
    w = (w - w.mean(axis=-2, keepdims=True)) / (w.std(axis=-2, keepdims=True) + 1e-8)
    w = _median_filter(w, median_width).mean(axis=0)
    text_idx, time_idx = _dtw(-w.astype(np.float64))
    words, word_tokens = tokenizer.split_to_word_tokens(decode.tokens + [tokenizer.eot])
    if len(word_tokens) <= 1:
        return []
    bounds = np.pad(np.cumsum([len(t) for t in word_tokens[:-1]]), (1, 0))
    jumps = np.pad(np.diff(text_idx), (1, 0), constant_values=1).astype(bool)
    jump_times = time_idx[jumps] / TOKENS_PER_SECOND
    probs = np.exp(decode.token_logprobs[:-1])
    out = [dict(word=word, tokens=toks, start=float(jump_times[i]), end=float(jump_times[j]),
                probability=float(np.mean(probs[i:j])) if j > i else 0.0)
           for word, toks, i, j in zip(words, word_tokens, bounds[:-1], bounds[1:])]
    merge_punctuations(out, "\"'“¿([{-", "\"'.。,，!！?？:：”)]}、")
    return [o for o in out if o["word"]]
