"""WER against speed: longspeech's operating points and faster-whisper's, on two sets built
differently, every system a fresh process on the same files in the same run.

- "tune": two synthetic 10-minute meetings (built-in voices 1-4, clean) and the real English
  clips of tests/data/realspeech joined into one file. Operating points are chosen here.
- "report": two synthetic 8-minute meetings in other voices (5-8) at 20 dB SNR, and two
  5-minute files of real recorded prompts (Asterisk's Allison voice; `apt-get download`,
  as benchmarks/correction_real.py does, into --cache). Reported, not tuned on.

Points: tiny.en and base; beam 5 and 1; the gap guard on and off; the temperature
fallback on and off (faster-whisper's batched pipeline has none); batch 8 and 16.
faster-whisper: BatchedInferencePipeline, int8, batch 8, word timestamps, beam 5 (its
default) and beam 1. Speed is faster-whisper's beam-5 wall time over the point's.

    .venv/bin/python benchmarks/pareto.py --sets tune,report --out benchmarks/results/pareto.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from longspeech.wer import word_error_rate

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
REAL = ROOT / "tests" / "data" / "realspeech" / "clips_en"
sys.path.insert(0, str(ROOT / "benchmarks"))

FASTER_WHISPER = """
import json, sys
from faster_whisper import BatchedInferencePipeline, WhisperModel
from longspeech.models import ct2_dir
model = WhisperModel(str(ct2_dir(sys.argv[2])), device="cpu", compute_type="int8")
pipe = BatchedInferencePipeline(model)
out = {}
for path in sys.argv[4:]:
    segs, _ = pipe.transcribe(path, batch_size=8, beam_size=int(sys.argv[3]), word_timestamps=True)
    out[path] = " ".join(s.text.strip() for s in segs)
open(sys.argv[1], "w").write(json.dumps(out))
"""

# name -> (model, transcribe flags); None flags: faster-whisper at that beam
POINTS: dict[str, tuple[str, tuple[str, ...] | int]] = {
    "faster-whisper tiny.en beam 5 (its default)": ("tiny.en", 5),
    "faster-whisper tiny.en beam 1": ("tiny.en", 1),
    "longspeech tiny.en beam 5 (default)": ("tiny.en", ()),
    "longspeech tiny.en beam 1": ("tiny.en", ("--beam-size", "1")),
    "longspeech tiny.en beam 5, no gap guard": ("tiny.en", ("--no-gap-guard",)),
    "longspeech tiny.en beam 1, no gap guard": ("tiny.en", ("--beam-size", "1",
                                                            "--no-gap-guard")),
    "longspeech tiny.en beam 1, batch 16": ("tiny.en", ("--beam-size", "1",
                                                        "--batch-size", "16")),
    "longspeech tiny.en beam 5, no fallback": ("tiny.en", (
        "--temperature-increment-on-fallback", "0")),
    "longspeech tiny.en beam 1, no fallback": ("tiny.en", (
        "--beam-size", "1", "--temperature-increment-on-fallback", "0")),
    "longspeech base beam 5": ("base", ("--language", "en")),
    "longspeech base beam 1": ("base", ("--language", "en", "--beam-size", "1")),
    "faster-whisper base beam 5": ("base", 5),
}


def _joined(parts: list[np.ndarray], path: Path) -> Path:
    gap = np.zeros(16000, dtype=np.float32)
    sf.write(path, np.concatenate([np.concatenate([p, gap]) for p in parts]), 16000)
    return path


def tune_set(d: Path) -> list[tuple[Path, str]]:
    from longspeech.synth import RecordingSpec, write_recording

    out = []
    for i in range(2):
        paths = write_recording(RecordingSpec(seed=7100 + i, duration=600, speakers=3 + i), d,
                                f"tune_meeting{i}")
        out.append((Path(paths.audio), Path(paths.text).read_text()))
    rows = [json.loads(x) for x in (REAL / "manifest.jsonl").read_text().splitlines()]
    rows = [r for r in rows if r.get("lang", "en") == "en"]
    audio = _joined([sf.read(REAL / r["audio"], dtype="float32")[0] for r in rows],
                    d / "tune_real.flac")
    out.append((audio, " ".join(r["text"] for r in rows)))
    return out


def report_set(d: Path, cache: Path) -> list[tuple[Path, str]]:
    from correction_real import prompt_files

    from longspeech.synth import DEFAULT_VOICES, RecordingSpec, write_recording

    out = []
    for i in range(2):
        n = 2 + i
        paths = write_recording(RecordingSpec(seed=8100 + i, duration=480, speakers=n,
                                              voices=DEFAULT_VOICES[4:4 + n], snr_db=20.0),
                                d, f"report_meeting{i}")
        out.append((Path(paths.audio), Path(paths.text).read_text()))
    out += prompt_files(cache, 5.0, 2)
    return out


def run_point(model: str, how: tuple[str, ...] | int, inputs: list[Path],
              work: Path) -> tuple[float, list[str]]:
    t0 = time.perf_counter()
    if isinstance(how, int):
        result = work / "fw.json"
        cmd = [sys.executable, "-c", FASTER_WHISPER, str(result), model, str(how),
               *map(str, inputs)]
    else:
        out = work / "ls"
        cmd = [str(BIN / "longspeech"), "transcribe", *map(str, inputs), "-o", str(out),
               "-f", "txt", "--no-resume", "--model", model, *how]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[:5]} failed:\n{proc.stderr[-2000:]}")
    if isinstance(how, int):
        hyps = json.loads(result.read_text())
        return wall, [hyps[str(p)] for p in inputs]
    return wall, [(out / f"{p.stem}.txt").read_text() for p in inputs]


def pareto(rows: dict[str, dict]) -> None:
    """Mark the points no other point beats on both WER and speed."""
    for name, r in rows.items():
        r["pareto"] = not any(o["wer"] <= r["wer"] and o["speed"] >= r["speed"]
                              and (o["wer"], o["speed"]) != (r["wer"], r["speed"])
                              for k, o in rows.items() if k != name)


def run_set(name: str, corpus: list[tuple[Path, str]], work: Path) -> dict:
    inputs, refs = [p for p, _ in corpus], [t for _, t in corpus]
    audio_s = sum(sf.info(str(p)).duration for p in inputs)
    rows: dict[str, dict] = {}
    for point, (model, how) in POINTS.items():
        wall, hyps = run_point(model, how, inputs, work)
        rows[point] = {"wall_s": round(wall, 1), "wer": round(100 * word_error_rate(refs, hyps), 2),
                       "x_realtime": round(audio_s / wall, 1)}
        print(name, point, rows[point], flush=True)
    base = rows["faster-whisper tiny.en beam 5 (its default)"]["wall_s"]
    for r in rows.values():
        r["speed"] = round(base / r["wall_s"], 2)
    pareto(rows)
    return {"files": [f"{p.name} ({sf.info(str(p)).duration:.0f} s)" for p in inputs],
            "audio_seconds": round(audio_s, 1), "rows": rows}


def plot(result: dict, path: Path) -> Path:
    """WER against speed, one panel per set; faster-whisper's points in grey."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets = [s for s in ("tune", "report") if s in result]
    fig, axes = plt.subplots(1, len(sets), figsize=(6 * len(sets), 4.5), squeeze=False)
    for ax, name in zip(axes[0], sets):
        for point, r in result[name]["rows"].items():
            fw = point.startswith("faster-whisper")
            ax.scatter(r["speed"], r["wer"], c="grey" if fw else "tab:blue",
                       marker="s" if fw else "o", edgecolors="black" if r["pareto"] else "none")
            ax.annotate(point.replace("longspeech ", "").replace("faster-whisper", "fw"),
                        (r["speed"], r["wer"]), fontsize=6, xytext=(3, 3),
                        textcoords="offset points")
        ax.set(title=f"{name} set", xlabel="speed vs faster-whisper tiny.en beam 5",
               ylabel="WER %")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default="tune,report")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/asterisk"))
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/pareto.json")
    ap.add_argument("--plot-only", action="store_true", help="redraw the plot from --out")
    a = ap.parse_args()
    result = json.loads(a.out.read_text()) if a.out.exists() else {}
    if a.plot_only:
        print(plot(result, a.out.with_suffix(".png")))
        return
    result["command"] = "benchmarks/pareto.py"
    with tempfile.TemporaryDirectory(prefix="pareto_") as d:
        work = Path(d)
        for name in a.sets.split(","):
            corpus = (tune_set(work / "audio") if name == "tune"
                      else report_set(work / "audio", a.cache))
            result[name] = run_set(name, corpus, work)
    a.out.write_text(json.dumps(result, indent=1) + "\n")
    plot(result, a.out.with_suffix(".png"))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
