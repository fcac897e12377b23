"""How likely lines of text are after a fixed prefix: the LLM as a zero-shot judge.

A few-shot prefix of one kind of text (lines of advertisements, lines of conversation) makes
the model's likelihood of a new line evidence of which kind it is; the difference between two
such prefixes is a classifier that needs no training. The prefix is read once and its cache
shared by every line; lines are read in fixed batches, so a line's score depends only on the
prefix, the lines and the model.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch

from .registry import LoadedLLM

BATCH = 16


@torch.inference_mode()
def continuation_logprobs(llm: LoadedLLM, prefix_ids: Sequence[int],
                          continuations: Sequence[Sequence[int]],
                          batch: int = BATCH) -> list[float]:
    """Total log-probability (nats) of each token sequence read right after prefix_ids
    (each at least one token)."""
    model = llm.model
    prefix = torch.tensor([list(prefix_ids)], device=llm.device)
    read = model(prefix, use_cache=True)
    first = torch.log_softmax(read.logits[0, -1].float(), dim=-1)
    pad = llm.tokenizer.pad_token_id
    pad = pad if pad is not None else llm.tokenizer.eos_token_id
    out: list[float] = []
    for at in range(0, len(continuations), batch):
        ids = [list(c) for c in continuations[at:at + batch]]
        width = max(len(x) for x in ids)
        x = torch.tensor([r + [pad] * (width - len(r)) for r in ids], device=llm.device)
        valid = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in ids],
                             device=llm.device)
        cache = copy.deepcopy(read.past_key_values)
        cache.batch_repeat_interleave(len(ids))
        mask = torch.cat([torch.ones(len(ids), prefix.shape[1], dtype=valid.dtype,
                                     device=llm.device), valid], dim=1)
        logits = model(x, past_key_values=cache, attention_mask=mask, use_cache=True).logits
        logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
        later = logp.gather(2, x[:, 1:, None])[..., 0] * valid[:, 1:]
        out += (first[x[:, 0]] + later.sum(dim=1)).tolist()
    return out


def mean_logprobs(llm: LoadedLLM, prefix: str, lines: Sequence[str],
                  batch: int = BATCH) -> list[float]:
    """Mean log-probability per token (nats) of each line read right after `prefix`. Each
    line is read with one leading space, so a prefix ending in "-" or ":" joins it as a
    written line would."""
    tok = llm.tokenizer
    ids = [tok(" " + line.strip(), add_special_tokens=False).input_ids or [tok.eos_token_id]
           for line in lines]
    totals = continuation_logprobs(llm, tok(prefix).input_ids, ids, batch)
    return [t / len(i) for t, i in zip(totals, ids)]
