"""BLAB's eight tasks on synthetic BLAB-style recordings, `pipeline` system, official scoring.

Recordings of several lengths (--items seeds each) share one annotation set, so the report
shows score against duration. Transcription runs as a job on the chosen runner. Word
localization asks for ten words of at most three occurrences each per recording (10-30 words
to find), so its F1 is noisy: compare it over several recordings (the larger run below).
Advertisement styles rotate over the recordings; --styles keeps to the styles advertisement
detection was tuned on, or to the held-back ones it was not.

    .venv/bin/python benchmarks/blab_synthetic.py --minutes 10 15 20 --runner local
    .venv/bin/python benchmarks/blab_synthetic.py --minutes 10 12 15 20 25 30 --seed 600 \
        --out benchmarks/results/blab_synthetic_large.json
    .venv/bin/python benchmarks/blab_synthetic.py --minutes 10 --items 4 --seed 700 \
        --styles tuned --out benchmarks/results/blab_ads_tuned.json
    .venv/bin/python benchmarks/blab_synthetic.py --minutes 10 --items 6 --seed 800 \
        --styles held-back --out benchmarks/results/blab_ads_held_back.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    from longspeech.eval.blab import load_annotations
    from longspeech.eval.blab_run import BlabRunOptions, run_blab
    from longspeech.eval.blab import TASKS
    from longspeech.eval.blab_synthetic import (AD_STYLES, HELD_BACK_STYLES, TUNED_STYLES,
                                                make_synthetic_blab)
    from longspeech.pipelines.runners import LocalRunner, RayRunner

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, nargs="+", default=[10, 15, 20])
    ap.add_argument("--seed", type=int, default=500)
    ap.add_argument("--items", type=int, default=1, help="recordings per length")
    ap.add_argument("--runner", choices=("local", "ray"), default="local")
    ap.add_argument("--styles", choices=("all", "tuned", "held-back"), default="all",
                    help="advertisement styles: the ones detection was tuned on, the held-back "
                         "ones (report only), or all")
    ap.add_argument("--work", type=Path, default=Path("/tmp/longspeech_blab_bench"))
    ap.add_argument("--out", type=Path, default=RESULTS / "blab_synthetic.json")
    args = ap.parse_args()

    styles = {"all": tuple(AD_STYLES), "tuned": TUNED_STYLES,
              "held-back": HELD_BACK_STYLES}[args.styles]
    data = args.work / "data"
    t0 = time.perf_counter()
    items: dict[str, list] = {t: [] for t in TASKS}
    seeds = []
    for i, minutes in enumerate(args.minutes):
        first = args.seed + i * args.items
        seeds += range(first, first + args.items)
        files = make_synthetic_blab(data / f"{minutes:g}min", args.items, minutes, first,
                                    styles=styles)
        for t in TASKS:
            items[t] += load_annotations(files[t])
        # one audio directory for all lengths
        audio = data / "audio"
        audio.mkdir(parents=True, exist_ok=True)
        for f in (data / f"{minutes:g}min" / "audio").glob("*.flac"):
            target = audio / f.name
            if not target.exists():
                target.symlink_to(f.resolve())
    synth_s = time.perf_counter() - t0
    runner = RayRunner() if args.runner == "ray" else LocalRunner()
    t1 = time.perf_counter()
    res = run_blab(items, data / "audio", args.work / "run",
                   BlabRunOptions(system="pipeline", runner=runner))
    result = {
        "minutes": args.minutes, "items_per_length": args.items, "seeds": seeds,
        "runner": args.runner, "styles": styles, "synthesis_s": round(synth_s, 1),
        "answer_and_score_s": round(time.perf_counter() - t1, 1),
        "scores": res.scores, "per_item": res.per_item, "failed": res.failed,
        "report": str(args.work / "run" / "report.html"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(res.scores, indent=1))


if __name__ == "__main__":
    main()
