"""BLAB `pipeline` system on two sets built by different generators, official scoring.

  tune    the synthesiser's BLAB-style meetings (longspeech.eval.blab_synthetic, the
          advertisement styles detection was tuned on, person names asked for);
  report  scripted podcasts (benchmarks/blab_podcast.py): other voices, other texts,
          people / organisations / places, advertisements read by an announcer in styles
          never seen while tuning, pink noise. Nothing was chosen on it.

Both numbers per task: the official scorer's and every item counted (unanswered = wrong).
Goals on the report set: advertisements F1 >= 60, named entities F1 >= 70, word
localisation F1 >= 90, speaker count and duration >= 90%.

    .venv/bin/python benchmarks/blab_sets.py --sets tune,report
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

RESULTS = Path(__file__).parent / "results"
REPORT_TASKS = ("word_localization", "advertisement_localization",
                "named_entity_localization", "speaker_number_estimation", "entire_duration")
GOALS = {"advertisement_localization": 60, "named_entity_localization": 70,
         "word_localization": 90, "speaker_number_estimation": 90, "entire_duration": 90}


def build(name: str, work: Path, n: int, minutes: float) -> tuple[dict, Path]:
    from longspeech.eval.blab import load_annotations
    from longspeech.eval.blab_synthetic import TUNED_STYLES, make_synthetic_blab

    data = work / name
    if name == "tune":
        files = make_synthetic_blab(data, n, minutes, 700, REPORT_TASKS, styles=TUNED_STYLES)
    else:
        from blab_podcast import make_podcast_set

        files = make_podcast_set(data, list(range(900, 900 + n)), minutes)
    return {t: load_annotations(files[t]) for t in REPORT_TASKS}, data / "audio"


def main() -> None:
    from longspeech.eval.blab import headline
    from longspeech.eval.blab_run import BlabRunOptions, run_blab
    from longspeech.pipelines.runners import LocalRunner

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default="tune,report")
    ap.add_argument("--items", type=int, default=4, help="recordings per set")
    ap.add_argument("--minutes", type=float, default=6.0)
    ap.add_argument("--model", default="tiny.en", help="the pipeline system's Whisper model")
    ap.add_argument("--work", type=Path, default=Path("/tmp/longspeech_blab_sets"))
    ap.add_argument("--out", type=Path, default=RESULTS / "blab_sets.json")
    args = ap.parse_args()

    out = json.loads(args.out.read_text()) if args.out.exists() else {}
    for name in args.sets.split(","):
        t0 = time.perf_counter()
        items, audio = build(name, args.work, args.items, args.minutes)
        res = run_blab(items, audio, args.work / f"run_{name}_{args.model}",
                       BlabRunOptions(system="pipeline", runner=LocalRunner(),
                                      model=args.model))
        table = {t: {"official": round(headline(t, s["official"]), 1),
                     "all_items": round(headline(t, s["all_items"]), 1),
                     "goal": GOALS[t], "items": s["items"]}
                 for t, s in res.scores.items()}
        out[f"{name} {args.model}"] = {"recordings": args.items, "minutes": args.minutes,
                                       "model": args.model,
                     "seconds": round(time.perf_counter() - t0, 1), "table": table,
                     "scores": res.scores, "failed": res.failed}
        print(name, json.dumps(table, indent=1), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
