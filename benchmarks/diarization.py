"""Diarization accuracy, speed and memory on synthetic meetings (and real dialogues).

For each duration (default 10 and 60 minutes) and each speaker count (2-5) it writes
synthetic meetings (several seeds) with exact RTTM, diarizes each one in a fresh process
with the embedded backend, and scores it with pyannote.metrics:
  - DER with a 0.25 s collar (pyannote.metrics collar=0.25, i.e. 0.125 s either side of a
    reference boundary), also without collar and with the NIST md-eval collar of 0.25 s
    either side; JER with the same 0.25 s collar;
  - whether the speaker count is exact; x realtime; the child's peak RSS (os.wait4).
Then it compares peak RSS at --memory-minutes (10 vs 240 by default), and scores the real
Dutch dialogues in benchmarks/data/dialogues_nl (see its README).

    .venv/bin/python benchmarks/diarization.py --minutes 10 --seeds 3
    .venv/bin/python benchmarks/diarization.py --minutes 60 --seeds 1 --no-memory
    .venv/bin/python benchmarks/diarization.py --minutes --no-real      # memory only
Results: benchmarks/results/diarization.json (merged with earlier runs of other sections).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REAL_DIR = Path(__file__).resolve().parent / "data" / "dialogues_nl"
GOALS = {"der": 0.10, "count_exact": 0.80, "memory_ratio": 1.2}


# -- child: one diarization ------------------------------------------------------------------

def child(audio: str, rttm_out: str, options: str) -> None:
    """Diarize one file; write RTTM and print a JSON line with timings."""
    t0 = time.perf_counter()
    from longspeech.diarization import DiarizationOptions, annotation_to_rttm, load_backend

    opts = DiarizationOptions(**json.loads(options))
    backend = load_backend(opts)
    t1 = time.perf_counter()
    ann = backend.diarize(audio, opts)
    t2 = time.perf_counter()
    Path(rttm_out).write_text(annotation_to_rttm(ann))
    print(json.dumps({"load_s": t1 - t0, "diarize_s": t2 - t1,
                      "estimated": getattr(backend, "last_estimated_speakers", None)}))


def run_child(audio: Path, rttm_out: Path, options: dict) -> dict:
    """Run `child` in a fresh interpreter; returns its JSON plus its own peak RSS (MB, from
    os.wait4's resource usage of that one child) and wall seconds."""
    import tempfile

    cmd = [sys.executable, __file__, "--child", str(audio), str(rttm_out), json.dumps(options)]
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode:
        raise RuntimeError(f"diarization of {audio} failed:\n{stderr[-3000:]}")
    info = json.loads(stdout.strip().splitlines()[-1])
    info["wall_s"] = wall
    info["peak_rss_mb"] = usage.ru_maxrss / 1024   # Linux: kilobytes
    return info


# -- scoring ---------------------------------------------------------------------------------

def score(ref_rttm: Path, hyp_rttm: Path) -> dict:
    from pyannote.database.util import load_rttm
    from pyannote.metrics.diarization import DiarizationErrorRate, JaccardErrorRate

    ref = next(iter(load_rttm(str(ref_rttm)).values()))
    hyps = load_rttm(str(hyp_rttm))
    from pyannote.core import Annotation

    hyp = next(iter(hyps.values())) if hyps else Annotation()
    der = DiarizationErrorRate(collar=0.25)
    detail = der(ref, hyp, detailed=True)
    total = detail["total"]
    return {
        "der": detail["diarization error rate"],
        "der_no_collar": DiarizationErrorRate(collar=0.0)(ref, hyp),
        "der_nist_collar": DiarizationErrorRate(collar=0.5)(ref, hyp),
        "jer": JaccardErrorRate(collar=0.25)(ref, hyp),
        "missed": detail["missed detection"] / total,
        "false_alarm": detail["false alarm"] / total,
        "confusion": detail["confusion"] / total,
        "scored_s": total,
        "ref_speakers": len(ref.labels()),
        "hyp_speakers": len(hyp.labels()),
    }


def summarise(rows: list[dict]) -> dict:
    if not rows:
        return {}
    scored = sum(r["scored_s"] for r in rows)
    pooled = sum(r["der"] * r["scored_s"] for r in rows) / scored
    conf = sum(r["confusion"] * r["scored_s"] for r in rows) / scored
    exact = sum(r["ref_speakers"] == r["hyp_speakers"] for r in rows) / len(rows)
    xrt = sorted(r["x_realtime"] for r in rows)
    return {"recordings": len(rows), "der_pooled": round(pooled, 4),
            "confusion_pooled": round(conf, 4),
            "der_mean": round(sum(r["der"] for r in rows) / len(rows), 4),
            "der_max": round(max(r["der"] for r in rows), 4),
            "jer_mean": round(sum(r["jer"] for r in rows) / len(rows), 4),
            "count_exact": round(exact, 3),
            "x_realtime_median": round(xrt[len(xrt) // 2], 1)}


# -- sections ----------------------------------------------------------------------------------

def synth(audio_dir: Path, minutes: float, speakers: int, seed: int, hard: bool) -> Path:
    from longspeech.synth import RecordingSpec, write_recording

    stem = f"{'hard' if hard else 'meeting'}_{minutes:g}min_{speakers}spk_s{seed}"
    wav = audio_dir / f"{stem}.wav"
    if not (wav.is_file() and (audio_dir / f"{stem}.rttm").is_file()):
        extra = dict(snr_db=15.0, noise="pink", overlap=True, long_silence_prob=0.1) if hard else {}
        write_recording(RecordingSpec(seed=seed, duration=minutes * 60, speakers=speakers,
                                      **extra), audio_dir, stem)
    return wav


def accuracy_section(a: argparse.Namespace, minutes: float, hard: bool) -> dict:
    rows = []
    for speakers in a.speakers:
        for seed in range(1, a.seeds + 1):
            wav = synth(a.audio_dir, minutes, speakers, seed + (100 if hard else 0), hard)
            hyp = a.out / "tmp" / "diarization_rttm" / (wav.stem + ".rttm")
            hyp.parent.mkdir(parents=True, exist_ok=True)
            info = run_child(wav, hyp, a.options)
            row = {"file": wav.name, "minutes": minutes, "speakers": speakers, "seed": seed,
                   **score(wav.with_suffix(".rttm"), hyp),
                   "diarize_s": round(info["diarize_s"], 2), "load_s": round(info["load_s"], 2),
                   "x_realtime": round(minutes * 60 / info["diarize_s"], 1)}
            rows.append({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return {"summary": summarise(rows), "recordings": rows}


def memory_section(a: argparse.Namespace) -> dict:
    """Peak RSS of a short and a long 3-voice meeting, each diarized in its own process."""
    out = {}
    for minutes in a.memory_minutes:
        wav = synth(a.audio_dir, minutes, 3, 1, False)
        hyp = a.out / "tmp" / "diarization_rttm" / (wav.stem + ".rttm")
        hyp.parent.mkdir(parents=True, exist_ok=True)
        info = run_child(wav, hyp, a.options)
        sc = score(wav.with_suffix(".rttm"), hyp)
        out[f"{minutes:g}min"] = {"minutes": minutes, "peak_rss_mb": round(info["peak_rss_mb"], 1),
                                  "diarize_s": round(info["diarize_s"], 1),
                                  "x_realtime": round(minutes * 60 / info["diarize_s"], 1),
                                  "der": round(sc["der"], 4),
                                  "hyp_speakers": sc["hyp_speakers"]}
        print(json.dumps(out[f"{minutes:g}min"]), file=sys.stderr, flush=True)
    lo, hi = (out[f"{m:g}min"]["peak_rss_mb"] for m in (min(a.memory_minutes),
                                                        max(a.memory_minutes)))
    out["ratio_long_over_short"] = round(hi / lo, 3)
    return out


def _duration(path: Path) -> float:
    import soundfile as sf

    return float(sf.info(str(path)).duration)


def real_section(a: argparse.Namespace) -> dict:
    rows = []
    for flac in sorted(REAL_DIR.glob("*.flac")):
        hyp = a.out / "tmp" / "diarization_rttm" / f"real_{flac.stem}.rttm"
        hyp.parent.mkdir(parents=True, exist_ok=True)
        info = run_child(flac, hyp, a.options)
        sc = score(flac.with_suffix(".rttm"), hyp)
        rows.append({"file": flac.name, **{k: round(v, 4) if isinstance(v, float) else v
                                          for k, v in sc.items()},
                     "x_realtime": round(_duration(flac) / info["diarize_s"], 1)})
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return {"note": "real voices (Dutch voice acting, 2 speakers); the reference turns span "
                    "each clip's silent fade-out, so missed speech is overstated: read "
                    "confusion_pooled for speaker errors",
            "summary": summarise(rows), "recordings": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, nargs="*", default=[10.0, 60.0],
                    help="durations of the accuracy sections (none: skip them)")
    ap.add_argument("--speakers", type=int, nargs="+", default=[2, 3, 4, 5])
    ap.add_argument("--seeds", type=int, default=2, help="recordings per duration and count")
    ap.add_argument("--hard", action="store_true",
                    help="also pink noise at 15 dB SNR, overlapping turns, long silences")
    ap.add_argument("--memory-minutes", type=float, nargs=2, default=[10.0, 240.0])
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--no-real", action="store_true")
    ap.add_argument("--options", type=json.loads, default={},
                    help='DiarizationOptions as JSON, e.g. \'{"clustering": "agglomerative"}\'')
    ap.add_argument("--audio-dir", type=Path, default=Path("benchmarks/results/audio"))
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    result_path = a.out / "diarization.json"
    result = json.loads(result_path.read_text()) if result_path.is_file() else {}
    result.update({"goals": GOALS, "options": a.options, "cpu_count": os.cpu_count(),
                   "der_definition": "pyannote.metrics DiarizationErrorRate(collar=0.25): "
                                     "0.125 s either side of reference boundaries; overlap "
                                     "scored"})
    for minutes in a.minutes:
        result[f"synthetic_{minutes:g}min"] = accuracy_section(a, minutes, hard=False)
        if a.hard:
            result[f"synthetic_hard_{minutes:g}min"] = accuracy_section(a, minutes, hard=True)
        result_path.write_text(json.dumps(result, indent=1) + "\n")
    if not a.no_real:
        result["real_dialogues_nl"] = real_section(a)
        result_path.write_text(json.dumps(result, indent=1) + "\n")
    if not a.no_memory:
        result["memory"] = memory_section(a)
    result_path.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v.get("summary", v) if isinstance(v, dict) else v
                      for k, v in result.items()}, indent=1))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
    else:
        main()
