"""Stage 2: dynamic compression training of the speech-language model.

Each batch draws a window L from {750, 400, 200, 100, 50, 25, 12}; every clip in it is
shortened to at most L frames by iterative fusion with the (frozen) CTC density head, passed
through the encoder's final LayerNorm and the projector, and spliced into the LLM's input. The
loss is the answer's cross-entropy. Examples are transcription instructions and spoken
questions about a fact the clip states. The projector (and optional LoRA adapters) learn;
the encoder, the head and the LLM stay frozen.
"""

from __future__ import annotations

import copy
import json
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn

from ...errors import InvalidOptionError
from ...llm import load_llm
from ...compression.head import CTCDensityHead
from ...compression.options import PAPER_WINDOWS, CompressionOptions
from ..manifest import LORA_FILE, PROJECTOR_FILE, update_manifest
from .common import TrainCallback, TrainProgress, cosine_lr, seeded, silent
from .ctc import TrainResult, _jsonable
from .data import SpeechDataOptions, Utterance, training_sets

if TYPE_CHECKING:
    from ..model import SpeechLM



@dataclass(frozen=True)
class LoraOptions:
    """LoRA on the LLM's attention projections (peft). r=0 turns it off."""

    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    targets: tuple[str, ...] = ("q_proj", "v_proj")


@dataclass(frozen=True)
class LslmTrainOptions:
    """out_dir: where the projector (+ LoRA) and the manifest go; head_dir: the trained CTC
    head (default out_dir). data: the training speech, single sentences and runs of four
    (so that larger windows compress something and questions must find their fact). windows: the L values drawn per batch. method: how clips are
    shortened ("fusion" as the paper; "avgpool"/"mostsim"/"random" for baselines).
    qa_fraction: share of QA examples (the rest transcription). init: how the projector
    starts: "fit" (least squares onto the LLM embeddings of the pieces the CTC head hears),
    "head" (the head's projector rescaled to the LLM's embedding norm), "random".
    eval_items: held-out transcriptions and questions answered after training (0: none)."""

    out_dir: str
    head_dir: str | None = None
    data: SpeechDataOptions = field(default_factory=lambda: SpeechDataOptions(spans=(1, 4)))
    eval_data: SpeechDataOptions | None = field(default_factory=lambda: SpeechDataOptions(
        sentences=40, facts=20, seed=1000, packed=False))
    llm: str = "smollm2"
    windows: tuple[int, ...] = PAPER_WINDOWS
    method: str = "fusion"
    steps: int = 800
    batch_size: int = 6
    lr: float = 2e-3
    warmup: int = 6
    qa_fraction: float = 0.6
    init: str = "fit"
    lora: LoraOptions = field(default_factory=lambda: LoraOptions(r=8))
    seed: int = 0
    threads: int = 2
    log_every: int = 10
    eval_items: int = 12

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1 or not self.windows:
            raise InvalidOptionError("steps and batch_size must be >= 1 and windows non-empty")
        if self.init not in ("fit", "head", "random"):
            raise InvalidOptionError(f"init must be fit, head or random, not {self.init!r}")
        if not 0 <= self.qa_fraction <= 1:
            raise InvalidOptionError("qa_fraction must lie in [0, 1]")


@dataclass(frozen=True)
class Example:
    utterance: int
    instruction: str
    answer: str


def examples(utts: list[Utterance], qa: bool) -> list[Example]:
    """Transcription examples (every clip) or QA examples (every question of every fact)."""
    from ..model import TRANSCRIBE

    if not qa:
        return [Example(i, TRANSCRIBE, u.text) for i, u in enumerate(utts)]
    return [Example(i, q.question, q.answer) for i, u in enumerate(utts) for q in u.qas]


@torch.no_grad()
def init_projector(projector: nn.Linear, head: CTCDensityHead, layer_norm: nn.LayerNorm,
                   embeddings: torch.Tensor, utts: list[Utterance]) -> float:
    """Copy the head's projector, scaled so its outputs on content frames (density > 0.5)
    have the mean norm of the LLM's token embeddings. Returns the scale."""
    projector.load_state_dict(head.projector.state_dict())
    sample = torch.from_numpy(np.concatenate([u.states for u in utts[:200]]))
    dens = head.density(sample)
    vec = projector(layer_norm(sample[dens > 0.5] if bool((dens > 0.5).any()) else sample))
    scale = float(embeddings.norm(dim=-1).mean() / vec.norm(dim=-1).mean())
    projector.weight.mul_(scale)
    projector.bias.mul_(scale)
    return scale


@torch.no_grad()
def fit_projector(projector: nn.Linear, head: CTCDensityHead, layer_norm: nn.LayerNorm,
                  utts: list[Utterance], max_frames: int = 60000, ridge: float = 1.0) -> float:
    """Least-squares start for the projector: each frame should map to the LLM embedding of
    the piece the CTC head hears there (the head's output rows, which stage 1 keeps equal to
    those embeddings), a blank frame to zero. Closed form, ridge-regularised; no LLM pass.
    Returns the mean cosine between fitted vectors and their piece embeddings on content
    frames (how text-like the speech vectors start)."""
    x = torch.from_numpy(np.concatenate([u.states for u in utts]))
    if len(x) > max_frames:
        x = x[torch.linspace(0, len(x) - 1, max_frames).long()]
    best = head.log_probs(x).argmax(-1)
    rows = head.linear.weight[:-1].float()
    content = best != head.blank
    target = torch.zeros(len(x), rows.shape[1])
    target[content] = rows[best[content]]
    feats = torch.cat([layer_norm(x).double(), torch.ones(len(x), 1, dtype=torch.float64)], 1)
    gram = feats.T @ feats + ridge * torch.eye(feats.shape[1], dtype=torch.float64)
    w = torch.linalg.solve(gram, feats.T @ target.double())
    projector.weight.copy_(w[:-1].T.float())
    projector.bias.copy_(w[-1].float())
    fitted = projector(layer_norm(x[content]))
    return float(torch.nn.functional.cosine_similarity(fitted, target[content], dim=-1).mean())


def lora_model(model: nn.Module, lora: LoraOptions) -> nn.Module:
    """A copy of `model` with LoRA adapters (the shared loaded LLM is left untouched)."""
    from peft import LoraConfig, get_peft_model

    cfg = LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                     target_modules=list(lora.targets), bias="none")
    peft = get_peft_model(copy.deepcopy(model), cfg)
    for name, p in peft.named_parameters():
        if "lora_" in name:
            p._lslm_trainable = True  # type: ignore[attr-defined]
    return peft


def lora_state(model: nn.Module) -> dict[str, torch.Tensor]:
    from peft import get_peft_model_state_dict

    return {k: v.detach().cpu().contiguous() for k, v in get_peft_model_state_dict(model).items()}


def train_lslm(options: LslmTrainOptions,
               progress: TrainCallback = silent) -> TrainResult:
    """Train the speech projector (+ LoRA) with dynamic compression; write it to out_dir."""
    opts = options
    t0 = time.perf_counter()
    out = Path(opts.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with seeded(opts.seed, opts.threads):
        encoder, utts, held = training_sets(opts.data, opts.eval_data, progress)
        head = CTCDensityHead.load(opts.head_dir or out)
        if head.config.d_enc != encoder.dim:
            raise InvalidOptionError(f"the density head expects {head.config.d_enc}-d states; "
                                     f"the encoder gives {encoder.dim}-d")
        llm = load_llm(opts.llm)
        emb = llm.model.get_input_embeddings().weight.detach()
        projector = nn.Linear(encoder.dim, emb.shape[1])
        layer_norm = copy.deepcopy(encoder.final_layer_norm).float()
        init_stat = {}
        if opts.init == "fit":
            init_stat["fit_cosine"] = round(fit_projector(projector, head, layer_norm, utts), 4)
        elif opts.init == "head":
            init_stat["head_scale"] = round(init_projector(projector, head, layer_norm, emb,
                                                           utts), 6)
        from ..model import SpeechLM

        lm = lora_model(llm.model, opts.lora) if opts.lora.r > 0 else None
        slm = SpeechLM(llm, layer_norm, projector, head, lm=lm)
        params = [p for p in slm.parameters() if p.requires_grad]
        optim = torch.optim.AdamW(params, lr=opts.lr, weight_decay=0.0)
        trans, qa = examples(utts, qa=False), examples(utts, qa=True)
        if not qa and opts.qa_fraction > 0:
            raise InvalidOptionError("the training data has no facts to ask about")
        rng = random.Random(f"longspeech.lslm.train:{opts.seed}")
        comp = CompressionOptions(method=opts.method, schedule="pool", seed=opts.seed)
        losses, running, windows = [], [], []
        slm.train()
        for step in range(opts.steps):
            for g in optim.param_groups:
                g["lr"] = opts.lr * cosine_lr(step, opts.steps, opts.warmup)
            window = rng.choice(opts.windows)
            batch = [rng.choice(qa if rng.random() < opts.qa_fraction else trans)
                     for _ in range(opts.batch_size)]
            running.append(lslm_step(slm, optim, params,
                                     [utts[e.utterance].states for e in batch],
                                     [e.instruction for e in batch],
                                     [e.answer for e in batch], window, comp))
            windows.append(window)
            if (step + 1) % opts.log_every == 0 or step + 1 == opts.steps:
                losses.append(round(float(np.mean(running)), 4))
                running = []
                progress(TrainProgress("lslm", step + 1, opts.steps, losses[-1],
                                       f"L={window}"))
        slm.eval()
        metrics = evaluate(slm, held, opts, progress) if held and opts.eval_items else {}
    seconds = time.perf_counter() - t0
    info = {"options": _jsonable(asdict(opts)), "losses": losses, "seconds": round(seconds, 1),
            "metrics": metrics, "projector_init": {"method": opts.init, **init_stat},
            "train_utterances": len(utts), "encoder": encoder.model_key,
            "windows_drawn": {str(w): windows.count(w) for w in sorted(set(windows))}}
    shas = save_lslm(out, slm, info, encoder_model=opts.data.encoder, pool=opts.data.pool,
                     lora=opts.lora)
    return TrainResult(out, shas, losses, seconds, metrics)


def lslm_step(slm: SpeechLM, optim: torch.optim.Optimizer, params: list[torch.Tensor],
              states: list[np.ndarray], instructions: list[str], answers: list[str],
              window: int, options: CompressionOptions) -> float:
    """One optimisation step of the answer loss; returns the loss before the step."""
    loss = slm.loss(states, instructions, answers, window, options)
    optim.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    optim.step()
    return loss.item()


def save_lslm(out_dir: str | Path, slm: SpeechLM, info: dict, *, encoder_model: str,
              pool: bool, lora: LoraOptions | None = None) -> dict[str, str]:
    """Write the projector (+ LoRA) as safetensors and record them, with what is needed to
    rebuild the model (encoder, LLM, widths, prompt), under "lslm" in the manifest.
    Returns {file name: sha256}."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = [PROJECTOR_FILE]
    save_file({k: v.detach().cpu().contiguous() for k, v in slm.projector.state_dict().items()},
              str(out / PROJECTOR_FILE))
    use_lora = lora is not None and lora.r > 0
    if use_lora:
        save_file(lora_state(slm.lm), str(out / LORA_FILE))
        files.append(LORA_FILE)
    elif (out / LORA_FILE).exists():
        (out / LORA_FILE).unlink()
    full = {**info, "encoder_model": encoder_model, "pool": pool, "llm": slm.llm.id,
            "llm_sha256": slm.llm.sha256, "system": slm.system, "d_enc": slm.d_enc,
            "d_llm": int(slm.projector.out_features),
            "lora": asdict(lora) if use_lora and lora is not None else None}
    manifest = json.loads(update_manifest(out, "lslm", _jsonable(full), files,
                                          removed=() if use_lora else (LORA_FILE,)).read_text())
    return {f: manifest["files"][f] for f in files}


def evaluate(slm, held: list[Utterance], opts: LslmTrainOptions,
             progress: TrainCallback = silent) -> dict[str, float]:
    """Greedy transcription WER and QA key accuracy on held-out clips at L = max window."""
    from ...wer import word_error_rate
    from ..model import TRANSCRIBE
    from .facts import key_in_reply

    window = max(opts.windows)
    comp = CompressionOptions(method=opts.method, schedule="halving")
    plain = [u for u in held if not u.qas][:opts.eval_items]
    facts = [u for u in held if u.qas][:opts.eval_items]
    hyps = []
    for i, u in enumerate(plain):
        hyps.append(slm.generate(u.states, TRANSCRIBE, window, comp, max_new_tokens=40))
        progress(TrainProgress("eval", i + 1, len(plain) + len(facts), message="asr"))
    right = 0
    for i, u in enumerate(facts):
        q = u.qas[0]
        right += key_in_reply(q.key, slm.generate(u.states, q.question, window, comp,
                                                  max_new_tokens=16))
        progress(TrainProgress("eval", len(plain) + i + 1, len(plain) + len(facts),
                               message="qa"))
    return {"window": window,
            "asr_wer": round(word_error_rate([u.text for u in plain], hyps), 4) if plain else
            float("nan"),
            "qa_accuracy": round(right / len(facts), 4) if facts else float("nan"),
            "asr_items": len(plain), "qa_items": len(facts)}
