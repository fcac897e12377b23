"""Stage 1: the CTC content-density head, trained on synthetic speech with exact text.

Everything but the head is frozen (the encoder's states are computed once and cached). The
head starts as the paper's does: its LayerNorm is a copy of the encoder's final one (kept
frozen here, so the head's projector sees exactly what the speech projector will), and the
rows of its output layer are the LLM's embeddings of the vocabulary's pieces, also kept frozen
by default. The projector therefore learns to put each frame near the LLM embedding of the
piece spoken there, which makes it a good starting point for the speech projector (stage 2).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ...errors import InvalidOptionError
from ...llm import load_llm
from ...compression.head import CONFIG_FILE, WEIGHTS_FILE, CTCDensityHead, DensityHeadConfig
from ..manifest import update_manifest
from .common import TrainCallback, TrainProgress, cosine_lr, seeded, silent
from .data import SpeechDataOptions, Utterance, training_sets
from .vocab import VOCAB_FILE, ctc_text, encode, load_vocab, piece_texts, train_vocab


@dataclass(frozen=True)
class CtcTrainOptions:
    """out_dir: where the head, its vocabulary and the manifest go. data: the training speech.
    eval_data: held-out speech (each sentence encoded alone). vocab_size: SentencePiece pieces
    (the blank is added). llm: whose embeddings initialise the output rows and set d_model.
    freeze_vocab_rows: keep those rows fixed (only the blank row and the projector learn)."""

    out_dir: str
    data: SpeechDataOptions = field(default_factory=SpeechDataOptions)
    eval_data: SpeechDataOptions | None = field(default_factory=lambda: SpeechDataOptions(
        sentences=40, facts=20, seed=1000, packed=False))
    vocab_size: int = 512
    llm: str = "smollm2"
    init_from_llm: bool = True
    freeze_vocab_rows: bool = True
    steps: int = 1500
    batch_size: int = 32
    lr: float = 3e-3
    warmup: int = 50
    seed: int = 0
    threads: int = 2
    log_every: int = 50

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1 or self.vocab_size < 8:
            raise InvalidOptionError("steps, batch_size must be >= 1 and vocab_size >= 8")


@dataclass(frozen=True)
class TrainResult:
    """What a training run wrote and how it went."""

    out_dir: Path
    files: dict[str, str]          # name -> sha256
    losses: list[float]            # mean loss of each logged interval
    seconds: float
    metrics: dict[str, float]


def surface_forms(texts: list[str]) -> dict[str, str]:
    """Lower-case word -> its most frequent spelling in the texts ('victor' -> 'Victor'), so
    a piece that is a whole word maps to the LLM tokens of the word as it is usually written."""
    counts: dict[str, dict[str, int]] = {}
    for t in texts:
        for w in t.split():
            w = w.strip(".,;:!?\"()")
            if w:
                forms = counts.setdefault(w.lower(), {})
                forms[w] = forms.get(w, 0) + 1
    return {k: max(sorted(v), key=lambda f: v[f]) for k, v in counts.items()}


def piece_embeddings(sp, llm, forms: dict[str, str] | None = None) -> Tensor:
    """(V, d_llm): the mean LLM input embedding of each piece's tokens (the piece's text with
    its word-start mark as a space; a whole-word piece in its usual spelling from `forms`);
    pieces the tokenizer maps to nothing get the mean row."""
    emb = llm.model.get_input_embeddings().weight.detach().float()
    rows = []
    for text in piece_texts(sp):
        if forms and text.startswith(" ") and text[1:] in forms:
            text = " " + forms[text[1:]]
        ids = [] if text == "<unk>" else llm.tokenizer(text, add_special_tokens=False).input_ids
        rows.append(emb[ids].mean(0) if ids else emb.mean(0))
    return torch.stack(rows)


def batch_tensors(utts: list[Utterance], targets: list[list[int]]
                  ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Padded states (B, T, d), lengths, concatenated targets, target lengths."""
    lengths = torch.tensor([u.frames for u in utts])
    x = torch.zeros(len(utts), int(lengths.max()), utts[0].states.shape[1])
    for i, u in enumerate(utts):
        x[i, :u.frames] = torch.from_numpy(u.states)
    tl = torch.tensor([len(t) for t in targets])
    return x, lengths, torch.tensor([i for t in targets for i in t]), tl


def ctc_step(head: CTCDensityHead, optim: torch.optim.Optimizer, params: list[Tensor],
             states: Tensor, lengths: Tensor, targets: Tensor, target_lengths: Tensor) -> float:
    """One optimisation step of the CTC loss; returns the loss before the step."""
    loss = head.ctc_loss(states, lengths, targets, target_lengths)
    optim.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 5.0)
    optim.step()
    return loss.item()


def greedy_ctc(head: CTCDensityHead, sp, states: np.ndarray) -> str:
    """Best-path CTC decoding of one utterance: collapse repeats, drop blanks."""
    with torch.no_grad():
        best = head(torch.from_numpy(np.asarray(states, np.float32))).argmax(-1).tolist()
    ids, prev = [], None
    for b in best:
        if b != prev and b != head.blank:
            ids.append(b)
        prev = b
    return sp.DecodeIds(ids)


def evaluate_head(head: CTCDensityHead, sp, utts: list[Utterance]) -> dict[str, float]:
    """Greedy-CTC WER on held-out utterances, and the mean density of their frames."""
    from ...wer import word_error_rate

    hyps = [greedy_ctc(head, sp, u.states) for u in utts]
    with torch.no_grad():
        dens = [float(head.density(torch.from_numpy(u.states)).mean()) for u in utts]
    return {"ctc_greedy_wer": round(word_error_rate([ctc_text(u.text) for u in utts], hyps), 4),
            "mean_density": round(float(np.mean(dens)), 4), "eval_utterances": len(utts)}


def train_ctc(options: CtcTrainOptions,
              progress: TrainCallback = silent) -> TrainResult:
    """Train the CTC density head (and its SentencePiece vocabulary); write them to out_dir."""
    opts = options
    t0 = time.perf_counter()
    out = Path(opts.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with seeded(opts.seed, opts.threads):
        encoder, utts, held = training_sets(opts.data, opts.eval_data, progress)
        model_bytes = train_vocab([u.text for u in utts], opts.vocab_size)
        sp = load_vocab(model_bytes)
        targets = [encode(sp, u.text) for u in utts]
        keep = [i for i, t in enumerate(targets) if 0 < len(t) <= utts[i].frames]
        utts, targets = [utts[i] for i in keep], [targets[i] for i in keep]

        llm = load_llm(opts.llm)
        d_model = llm.model.get_input_embeddings().embedding_dim
        head = CTCDensityHead(DensityHeadConfig(d_enc=encoder.dim, d_model=d_model,
                                                vocab_size=sp.GetPieceSize()))
        head.init_from(layer_norm=encoder.final_layer_norm,
                       embeddings=piece_embeddings(sp, llm, surface_forms([u.text for u in utts]))
                       if opts.init_from_llm else None)
        for p in head.norm.parameters():
            p.requires_grad_(False)
        if opts.freeze_vocab_rows and opts.init_from_llm:
            row_mask = torch.zeros(head.config.vocab_size + 1, 1)
            row_mask[head.blank] = 1.0
            head.linear.weight.register_hook(lambda g: g * row_mask)
        params = [p for p in head.parameters() if p.requires_grad]
        optim = torch.optim.AdamW(params, lr=opts.lr, weight_decay=0.0)
        gen = torch.Generator().manual_seed(opts.seed)
        losses, running = [], []
        head.train()
        for step in range(opts.steps):
            for g in optim.param_groups:
                g["lr"] = opts.lr * cosine_lr(step, opts.steps, opts.warmup)
            idx = torch.randint(len(utts), (opts.batch_size,), generator=gen).tolist()
            running.append(ctc_step(head, optim, params, *batch_tensors(
                [utts[i] for i in idx], [targets[i] for i in idx])))
            if (step + 1) % opts.log_every == 0 or step + 1 == opts.steps:
                losses.append(round(float(np.mean(running)), 4))
                running = []
                progress(TrainProgress("ctc", step + 1, opts.steps, losses[-1]))
        head.eval()
        metrics = evaluate_head(head, sp, held) if held else {}
        head.save(out)
        (out / VOCAB_FILE).write_bytes(model_bytes)
    seconds = time.perf_counter() - t0
    info = {"options": _jsonable(asdict(opts)), "losses": losses, "seconds": round(seconds, 1),
            "metrics": metrics, "train_utterances": len(utts), "encoder": encoder.model_key,
            "llm": opts.llm}
    files = [WEIGHTS_FILE, CONFIG_FILE, VOCAB_FILE]
    shas = json.loads(update_manifest(out, "ctc", info, files).read_text())["files"]
    return TrainResult(out, {f: shas[f] for f in files}, losses, seconds, metrics)


def _jsonable(d: dict) -> dict:
    return json.loads(json.dumps(d, default=list))
