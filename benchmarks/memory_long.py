"""Peak RSS of `longspeech transcribe` on a long recording vs a short one (goal: ratio <= 1.2).

Each run is a fresh process; its peak RSS is read from the kernel (ru_maxrss of the child).

    .venv/bin/python benchmarks/memory_long.py --short-minutes 10 --long-minutes 240
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path


def synth(out: Path, minutes: float, seed: int) -> Path:
    from longspeech.synth import RecordingSpec, write_recording

    paths = write_recording(RecordingSpec(seed=seed, duration=minutes * 60, speakers=3),
                            out, f"meeting_{minutes:g}min")
    return Path(paths.audio)


def peak_rss_mb(audio: Path, out: Path, engine: str) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of one transcription in a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "longspeech.cli", "transcribe", str(audio), "-o",
                    str(out), "-f", "json", "--engine", engine], check=True,
                   stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the max over all children so far: run the long file last.
    return max(peak, before) / 1024, wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short-minutes", type=float, default=10)
    ap.add_argument("--long-minutes", type=float, default=240)
    ap.add_argument("--engine", default="ct2")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    a = ap.parse_args()
    audio_dir = a.out / "audio"
    short = synth(audio_dir, a.short_minutes, 1)
    long = synth(audio_dir, a.long_minutes, 2)
    rss_short, wall_short = peak_rss_mb(short, a.out / "mem_out", a.engine)
    rss_long, wall_long = peak_rss_mb(long, a.out / "mem_out", a.engine)
    result = {"engine": a.engine,
              "short": {"minutes": a.short_minutes, "peak_rss_mb": round(rss_short, 1),
                        "wall_s": round(wall_short, 1)},
              "long": {"minutes": a.long_minutes, "peak_rss_mb": round(rss_long, 1),
                       "wall_s": round(wall_long, 1)},
              "ratio_long_over_short": round(rss_long / rss_short, 3)}
    (a.out / "memory_long.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
