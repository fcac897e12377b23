"""Fine-tuning the corrector: a LoRA adapter (peft) on the chat LLM, trained on the project's
own TTS -> ASR error pairs (data.py) with the prompts the corrector asks with.

The loss is the reply's cross-entropy (the prompt's tokens are not scored). Batches are drawn
from the step number and the seed alone, and the adapter and optimiser are saved every
`checkpoint_every` steps, so a killed run resumes from its last checkpoint and ends with the
same adapter an unbroken run gives.
"""

from __future__ import annotations

import copy
import json
import random
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from ...errors import InvalidOptionError
from ...files import atomic_write, atomic_write_text
from ...llm import load_llm
from ...llm.adapters import write_manifest
from .data import ITEMS, read_items
from .items import CONTEXTS, FORMATS

CHECKPOINT = "checkpoint"


@dataclass(frozen=True)
class CorrectionTrainOptions:
    """data_dir: a dataset made by `longspeech train correction-data`; out_dir: the adapter
    directory to write (`--correction-model DIR` then uses it)."""

    data_dir: str
    out_dir: str
    llm: str = "smollm2"
    steps: int = 300
    batch_size: int = 8
    lr: float = 1e-3
    warmup: int = 10
    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    targets: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
    formats: tuple[str, ...] = FORMATS
    contexts: tuple[str, ...] = CONTEXTS
    max_tokens: int = 512
    seed: int = 0
    threads: int = 2
    checkpoint_every: int = 25
    log_every: int = 5

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1 or self.r < 1:
            raise InvalidOptionError("steps, batch_size and r must be >= 1")
        if not set(self.formats) <= set(FORMATS) or not set(self.contexts) <= set(CONTEXTS):
            raise InvalidOptionError(f"formats are {FORMATS}, contexts {CONTEXTS}")


def _encode(tok, item: dict, max_tokens: int) -> tuple[list[int], int] | None:
    """Token ids of prompt + reply + end of turn, and where the reply starts."""
    prompt = list(tok.apply_chat_template(item["messages"], add_generation_prompt=True,
                                          return_dict=True)["input_ids"])
    reply = tok.encode(item["target"], add_special_tokens=False) + [tok.eos_token_id]
    ids = prompt + reply
    return None if len(ids) > max_tokens else (ids, len(prompt))


def _lr(step: int, opts: CorrectionTrainOptions) -> float:
    if step < opts.warmup:
        return opts.lr * (step + 1) / opts.warmup
    t = (step - opts.warmup) / max(1, opts.steps - opts.warmup)
    return opts.lr * (0.1 + 0.45 * (1 + torch.cos(torch.tensor(torch.pi * min(1.0, t)))).item())


def _batch(encoded: list[tuple[list[int], int]], step: int, opts: CorrectionTrainOptions
           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    rng = random.Random(opts.seed * 1_000_003 + step)
    picked = [encoded[rng.randrange(len(encoded))] for _ in range(opts.batch_size)]
    width = max(len(ids) for ids, _ in picked)
    ids = torch.zeros(len(picked), width, dtype=torch.long)
    mask = torch.zeros(len(picked), width, dtype=torch.long)
    labels = torch.full((len(picked), width), -100, dtype=torch.long)
    for b, (seq, start) in enumerate(picked):
        ids[b, :len(seq)] = torch.tensor(seq)
        mask[b, :len(seq)] = 1
        labels[b, start:len(seq)] = torch.tensor(seq[start:])
    return ids, mask, labels


def _lora_state(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items() if "lora_" in k}


def train_correction(opts: CorrectionTrainOptions, progress=None) -> dict:
    """Train (or resume) the adapter; returns the manifest written beside it."""
    from peft import LoraConfig, get_peft_model
    from safetensors.torch import load_file, save_file

    items_path = Path(opts.data_dir) / ITEMS
    if not items_path.is_file():
        raise InvalidOptionError(f"{opts.data_dir} has no {ITEMS}: make it with `longspeech "
                                 "train correction-data --out DIR` first")
    out = Path(opts.out_dir)
    ckpt = out / CHECKPOINT
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    old_threads = torch.get_num_threads()
    torch.set_num_threads(max(1, opts.threads))
    try:
        torch.manual_seed(opts.seed)
        base = load_llm(opts.llm)
        tok = base.tokenizer
        items = [it for it in read_items(items_path)
                 if it["format"] in opts.formats and it["context"] in opts.contexts]
        encoded = [e for e in (_encode(tok, it, opts.max_tokens) for it in items) if e]
        if not encoded:
            raise InvalidOptionError(f"no item of {items_path} fits {opts.max_tokens} tokens")
        cfg = LoraConfig(r=opts.r, lora_alpha=opts.alpha, lora_dropout=opts.dropout,
                         target_modules=list(opts.targets), bias="none", task_type="CAUSAL_LM")
        model = get_peft_model(copy.deepcopy(base.model), cfg)
        model.train()
        params = [p for n, p in model.named_parameters() if p.requires_grad]
        optim = torch.optim.AdamW(params, lr=opts.lr, weight_decay=0.0)
        step, losses = 0, []
        if (ckpt / "state.json").is_file():
            state = json.loads((ckpt / "state.json").read_text())
            model.load_state_dict(load_file(str(ckpt / "lora.safetensors")), strict=False)
            saved = torch.load(ckpt / "optimizer.pt", weights_only=True)
            optim.load_state_dict(saved["optimizer"])
            torch.set_rng_state(saved["rng"])       # LoRA dropout goes on as unbroken
            step, losses = state["step"], state["losses"]
        while step < opts.steps:
            for g in optim.param_groups:
                g["lr"] = _lr(step, opts)
            ids, mask, labels = _batch(encoded, step, opts)
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            optim.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optim.step()
            losses.append(round(float(loss.detach()), 4))
            step += 1
            if progress is not None and (step % opts.log_every == 0 or step == opts.steps):
                progress(step, opts.steps, sum(losses[-opts.log_every:]) /
                         len(losses[-opts.log_every:]))
            if step % opts.checkpoint_every == 0 and step < opts.steps:
                ckpt.mkdir(exist_ok=True)
                atomic_write(ckpt / "lora.safetensors",
                             lambda p: save_file(_lora_state(model), str(p)))
                atomic_write(ckpt / "optimizer.pt", lambda p: torch.save(
                    {"optimizer": optim.state_dict(), "rng": torch.get_rng_state()}, p))
                atomic_write_text(ckpt / "state.json", json.dumps(
                    {"step": step, "losses": losses}))
        model.eval()
        shutil.rmtree(ckpt, ignore_errors=True)
        model.save_pretrained(out)
        (out / "README.md").unlink(missing_ok=True)     # peft's blank model card
        data_opts = Path(opts.data_dir) / "data_options.json"
        manifest = write_manifest(out, base, {
            "kind": "correction", "prompt_examples": False,
            "options": {k: v for k, v in asdict(opts).items() if k not in ("data_dir",
                                                                              "out_dir")},
            "data": json.loads(data_opts.read_text()) if data_opts.is_file() else {},
            "items": len(encoded), "steps": step, "loss_first": losses[:5],
            "loss_last": losses[-5:], "seconds": round(time.perf_counter() - t0, 1)})
        return manifest
    finally:
        torch.set_num_threads(old_threads)


__all__ = ["CorrectionTrainOptions", "train_correction"]
