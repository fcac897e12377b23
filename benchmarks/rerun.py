"""A rerun of a job whose every step is saved (transcription, diarization, correction): how
long the command takes from start to exit, and which models it loaded (goal: <= 1.5 s, none).

Each run is a fresh `longspeech transcribe` process, timed from its start to its exit.

    .venv/bin/python benchmarks/rerun.py --out benchmarks/results/rerun.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(out: Path, audio: Path) -> tuple[float, dict]:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "longspeech.cli", "transcribe", str(audio), "-o",
                    str(out), "--diarize", "--correct"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    log = (out / ".longspeech" / "job.log").read_text().splitlines()
    return wall, json.loads(log[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--audio", type=Path, default=ROOT / "data" / "sample.flac")
    ap.add_argument("--reruns", type=int, default=5)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/rerun.json")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        first, done = run(Path(d), a.audio)
        walls, loaded = [], []
        for _ in range(a.reruns):
            wall, done = run(Path(d), a.audio)
            walls.append(round(wall, 2))
            loaded.append(done["models_loaded"])
    result = {"command": f"longspeech transcribe {a.audio.name} --diarize --correct",
              "first_run_s": round(first, 1), "rerun_s": walls,
              "rerun_median_s": statistics.median(walls), "models_loaded": loaded}
    a.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
