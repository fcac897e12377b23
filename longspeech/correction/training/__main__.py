"""python -m longspeech.correction.training {correction-data,correction} --out DIR ...

correction-data: speak corpus sentences with the synthesiser, recognise them with the embedded
Whisper models and write the labelled error pairs and training items into DIR (resumable).
correction: train a LoRA adapter for the corrector on such a dataset (--data DIR) into
--out DIR (resumable); `longspeech transcribe --correct --correction-model DIR` uses it.
"""

from __future__ import annotations

import argparse
import sys
import time

from ...errors import LongspeechError
from .data import CorrectionDataOptions, build
from .lora import CorrectionTrainOptions, train_correction


def _floats(text: str) -> tuple[float | None, ...]:
    return tuple(None if x.strip() in ("clean", "none") else float(x) for x in text.split(","))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="longspeech train",
                                description="Make the corrector's dataset or train it.")
    p.add_argument("what", choices=("correction-data", "correction"))
    p.add_argument("--out", required=True, help="directory to write")
    p.add_argument("--data", help="correction: the dataset directory")
    p.add_argument("--sentences", type=int, default=600, help="correction-data: sentences")
    p.add_argument("--models", default="tiny.en,base", help="correction-data: Whisper models")
    p.add_argument("--snrs", default="clean,20,10", help="correction-data: noise levels (dB)")
    p.add_argument("--rates", default="0.85,1.0,1.2", help="correction-data: speaking rates")
    p.add_argument("--steps", type=int, default=300, help="correction: training steps")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--lora-r", type=int, default=8)
    p.add_argument("--formats", default="text,pairs")
    p.add_argument("--contexts", default="segment,full")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    t0 = time.perf_counter()

    def show(done: int, total: int, loss: float | None = None) -> None:
        tail = "" if loss is None else f" loss {loss:.4f}"
        print(f"[{time.perf_counter() - t0:7.1f}s] {a.what} {done}/{total}{tail}", flush=True)

    try:
        if a.what == "correction-data":
            items = build(CorrectionDataOptions(
                out_dir=a.out, sentences=a.sentences, seed=a.seed,
                models=tuple(a.models.split(",")), snrs=_floats(a.snrs),
                rates=tuple(float(x) for x in a.rates.split(","))), show)
            print(f"done in {time.perf_counter() - t0:.0f} s: {items}")
            return 0
        if not a.data:
            print("error: train correction needs --data DIR (made by `longspeech train "
                  "correction-data --out DIR`)", file=sys.stderr)
            return 2
        manifest = train_correction(CorrectionTrainOptions(
            data_dir=a.data, out_dir=a.out, steps=a.steps, batch_size=a.batch_size, lr=a.lr,
            r=a.lora_r, formats=tuple(a.formats.split(",")),
            contexts=tuple(a.contexts.split(",")), seed=a.seed, threads=a.threads), show)
    except LongspeechError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"done in {manifest['seconds']:.0f} s; loss {manifest['loss_first']} -> "
          f"{manifest['loss_last']}")
    for name, sha in manifest["files"].items():
        print(f"{sha}  {a.out}/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
