"""Wall time of one batch job under RayRunner vs LocalRunner on this machine (goal: ratio
<= 1.10), and the same job on a simulated two-node cluster (ray.cluster_utils).

Every run is a fresh `longspeech transcribe` process, so Ray's start-up and the actors'
model loading are counted, as a user would see them. The runners alternate, repeated
`--repeats` times; the ratio is of the medians.

    .venv/bin/python benchmarks/ray_overhead.py --files 8 --minutes 3
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def make_corpus(d: Path, files: int, minutes: float) -> list[Path]:
    from longspeech.synth import RecordingSpec, write_recording

    return [Path(write_recording(RecordingSpec(seed=100 + i, duration=minutes * 60,
                                               speakers=2), d, f"talk{i}").audio)
            for i in range(files)]


def run(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def two_node_cmd(inputs: list[Path], out: Path) -> list[str]:
    """A driver that starts a two-node cluster in-process and runs the job on it."""
    code = (
        "import sys; from pathlib import Path\n"
        "from ray.cluster_utils import Cluster\n"
        "from longspeech.pipelines.job import run_job\n"
        "from longspeech.pipelines.runners import RayRunner\n"
        "from longspeech.pipelines.transcribe import TranscribeOptions\n"
        "c = Cluster(initialize_head=True, head_node_args={'num_cpus': 1})\n"
        "c.add_node(num_cpus=1)\n"
        "try:\n"
        "    opts = TranscribeOptions()\n"
        "    opts.asr.device = 'auto'  # as the CLI does\n"
        "    s = run_job([Path(p) for p in sys.argv[2:]], sys.argv[1], opts,\n"
        "                ('json',), runner=RayRunner(c.address, actors={'asr': 1}))\n"
        "finally:\n"
        "    c.shutdown()\n"
        "assert not s.failed\n")
    return [sys.executable, "-c", code, str(out), *map(str, inputs)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--out", type=Path, default=RESULTS / "ray_overhead.json")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ray_overhead_"))
    try:
        inputs = make_corpus(work / "audio", args.files, args.minutes)
        cli = [sys.executable, "-m", "longspeech.cli", "transcribe", *map(str, inputs),
               "-f", "json", "--no-resume"]
        times: dict[str, list[float]] = {"local": [], "ray": [], "ray_two_nodes": []}
        for r in range(args.repeats):
            times["local"].append(run(cli + ["-o", str(work / f"local{r}"), "--runner",
                                             "local"]))
            times["ray"].append(run(cli + ["-o", str(work / f"ray{r}"), "--runner", "ray"]))
            times["ray_two_nodes"].append(run(two_node_cmd(inputs, work / f"two{r}")))
        same = {run: all((work / "local0" / f"talk{i}.json").read_bytes()
                         == (work / f"{run}0" / f"talk{i}.json").read_bytes()
                         for i in range(args.files)) for run in ("ray", "two")}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    audio = args.files * args.minutes * 60
    result = {
        "files": args.files, "minutes_each": args.minutes, "repeats": args.repeats,
        "wall_s": times, "median_s": med,
        "x_realtime": {k: round(audio / v, 1) for k, v in med.items()},
        "ratio_ray_vs_local": round(med["ray"] / med["local"], 3),
        "ratio_two_nodes_vs_local": round(med["ray_two_nodes"] / med["local"], 3),
        "outputs_identical_to_local": same,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
