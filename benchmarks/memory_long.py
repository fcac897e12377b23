"""Peak RSS of the default `longspeech transcribe FILE` on recordings of several lengths
(goal: 4 hours <= 1.2x 10 minutes).

Each run is a fresh process; its own peak RSS is read from the kernel (os.wait4's rusage of
that child alone).

    .venv/bin/python benchmarks/memory_long.py --minutes 10,60,240
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path


def synth(out: Path, minutes: float, seed: int) -> Path:
    from longspeech.synth import RecordingSpec, write_recording

    paths = write_recording(RecordingSpec(seed=seed, duration=minutes * 60, speakers=3),
                            out, f"meeting_{minutes:g}min")
    return Path(paths.audio)


def peak_rss_mb(audio: Path, out: Path, extra: list[str]) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of one transcription in a child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "longspeech.cli", "transcribe", str(audio),
                             "-o", str(out), "--no-resume", *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"transcribe {audio} failed ({proc.returncode})")
    return usage.ru_maxrss / 1024, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", default="10,60,240", help="comma list; the first is the base")
    ap.add_argument("--extra", default="", help="more transcribe flags, e.g. '--engine ct2'")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    ap.add_argument("--audio", type=Path, default=Path("/tmp/longspeech-memory-audio"))
    a = ap.parse_args()
    rows = []
    for i, minutes in enumerate(float(m) for m in a.minutes.split(",")):
        audio = synth(a.audio, minutes, 1 + i)
        rss, wall = peak_rss_mb(audio, a.out / "mem_out", a.extra.split())
        rows.append({"minutes": minutes, "peak_rss_mb": round(rss, 1), "wall_s": round(wall, 1)})
        print(json.dumps(rows[-1]), flush=True)
    base = rows[0]["peak_rss_mb"]
    for r in rows:
        r["ratio_to_first"] = round(r["peak_rss_mb"] / base, 3)
    result = {"command": f"longspeech transcribe FILE {a.extra}".strip(), "runs": rows}
    (a.out / "memory_long.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
