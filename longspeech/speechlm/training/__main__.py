"""python -m longspeech.speechlm.training {ctc,lslm} --out DIR [--steps N] [--seed S] ...

Trains the embedded speech-language model's CTC density head (ctc) or its projector (lslm)
on synthetic speech, with the defaults that produced the shipped weights
(longspeech/speechlm/weights).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import replace
from pathlib import Path

from ...errors import InvalidOptionError, LongspeechError
from ..shipped import shipped_model_dir
from .common import TrainProgress
from .ctc import CtcTrainOptions, train_ctc
from .lslm import LoraOptions, LslmTrainOptions, train_lslm


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m longspeech.speechlm.training",
                                description="Train the CTC density head or the speech projector.")
    p.add_argument("what", choices=("ctc", "lslm"))
    p.add_argument("--out", required=True, help="model directory to write (both stages: the "
                   "same one); ask --model-dir DIR then uses it")
    p.add_argument("--steps", type=int, default=None, help="training steps (default: the "
                   "options' default)")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--sentences", type=int, default=None, help="synthetic training sentences "
                   "(default 4000; use the same value for both stages)")
    p.add_argument("--facts", type=int, default=None, help="synthetic spoken facts with questions "
                   "(default 1200)")
    p.add_argument("--spans", default=None, help="sentences per utterance, comma list (default "
                   "ctc 1, lslm 1,4: single sentences and runs of four)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--lora-r", type=int, default=8, help="lslm: LoRA rank (0: projector only)")
    p.add_argument("--eval-items", type=int, default=None, help="lslm: held-out items to "
                   "answer after training")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    t0 = time.perf_counter()

    def show(p: TrainProgress) -> None:
        loss = "" if math.isnan(p.loss) else f" loss {p.loss:.4f}"
        print(f"[{time.perf_counter() - t0:7.1f}s] {p.stage} {p.step}/{p.steps}{loss} "
              f"{p.message}".rstrip(), flush=True)

    changes = {k: v for k, v in (("steps", a.steps), ("batch_size", a.batch_size),
                                 ("lr", a.lr)) if v is not None}
    sizes = {k: v for k, v in (("sentences", a.sentences), ("facts", a.facts)) if v is not None}
    if a.spans:
        sizes["spans"] = tuple(int(x) for x in a.spans.split(","))
    try:
        if Path(a.out).resolve() == shipped_model_dir().resolve():
            raise InvalidOptionError(f"{a.out} holds the shipped model: train into a "
                                     "directory of your own (--out DIR)")
        if a.what == "ctc":
            opts = CtcTrainOptions(out_dir=a.out, seed=a.seed, threads=a.threads)
            opts = replace(opts, **changes, data=replace(opts.data, **sizes))
            result = train_ctc(opts, show)
        else:
            extra = {"eval_items": a.eval_items} if a.eval_items is not None else {}
            opts2 = LslmTrainOptions(out_dir=a.out, seed=a.seed, threads=a.threads,
                                     lora=LoraOptions(r=a.lora_r))
            opts2 = replace(opts2, **changes, **extra, data=replace(opts2.data, **sizes))
            result = train_lslm(opts2, show)
    except LongspeechError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"done in {result.seconds:.0f} s; metrics {result.metrics}")
    for name, sha in result.files.items():
        print(f"{sha}  {result.out_dir / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
