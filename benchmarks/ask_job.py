"""`longspeech ask --batch` as a job: the same questions about synthetic meetings answered on
the local and the Ray runner, each a fresh CLI process (start-up and model loading counted).
Reports wall time per runner and mode, the Ray/local ratio, and whether answers.json is
byte-identical across runners.

    .venv/bin/python benchmarks/ask_job.py --files 4 --minutes 10 --modes lslm,cascade
Results: benchmarks/results/ask_job.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
QUESTIONS = ("How many people are speaking?", "What is the first topic discussed?",
             "What is said at the end of the recording?")


def make_items(d: Path, files: int, minutes: float) -> Path:
    from longspeech.synth import RecordingSpec, write_recording

    audio = [Path(write_recording(RecordingSpec(seed=300 + i, duration=minutes * 60,
                                                speakers=2 + i % 3), d, f"meeting{i}").audio)
             for i in range(files)]
    items = [{"path": str(p), "question": q} for p in audio for q in QUESTIONS]
    src = d / "items.json"
    src.write_text(json.dumps(items, indent=1))
    return src


def ask(src: Path, out: Path, mode: str, runner: str) -> float:
    cmd = [sys.executable, "-m", "longspeech.cli", "ask", "--batch", str(src), "-o", str(out),
           "--mode", mode, "--runner", runner]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--modes", default="lslm,cascade")
    ap.add_argument("--out", type=Path, default=RESULTS / "ask_job.json")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ask-job-") as tmp:
        d = Path(tmp)
        src = make_items(d, a.files, a.minutes)
        rows = []
        for mode in a.modes.split(","):
            walls = {r: ask(src, d / f"{mode}_{r}", mode, r) for r in ("local", "ray")}
            same = ((d / f"{mode}_local" / "answers.json").read_bytes()
                    == (d / f"{mode}_ray" / "answers.json").read_bytes())
            answers = json.loads((d / f"{mode}_local" / "answers.json").read_text())
            rows.append({"mode": mode, "local_s": round(walls["local"], 1),
                         "ray_s": round(walls["ray"], 1),
                         "ray_over_local": round(walls["ray"] / walls["local"], 2),
                         "answers_identical": same,
                         "answered": sum(r["answer"] is not None for r in answers),
                         "questions": len(answers)})
            print(json.dumps(rows[-1]), flush=True)
    result = {"files": a.files, "minutes": a.minutes, "questions_per_file": len(QUESTIONS),
              "rows": rows}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
