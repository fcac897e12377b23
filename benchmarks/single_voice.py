"""One real voice should come out as one speaker: speaker counts on long single-voice
recordings made of real telephone prompts.

Two voices, each recorded over many sessions (pace, level and microphone vary as they do
within one real speaker), from Debian packages downloaded with `apt-get download` into
--cache (not kept in the repository):
  - asterisk-core-sounds-en-wav 1.6.1-1: Allison Smith's English prompts (568 clips, 8 kHz,
    recorded 2003-2010, CC-BY-SA-3.0), used to choose DiarizationOptions.merge_similarity;
  - asterisk-prompt-fr-armelle 20070613-2.2: Armelle Desjardins' French prompts (329 GSM
    clips, BSD-style licence), held out.
Each voice's clips are joined in file-name order with 0.5 s of silence (30.2 and 18.0
minutes), and cut into consecutive pieces of 30 s, 1, 2 and 5 minutes; every piece and the
whole recording are diarized with the embedded backend at each --merge value.

    .venv/bin/python benchmarks/single_voice.py --merge 0.9 0.85 \\
        --out benchmarks/results/single_voice.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

PACKAGES = {"allison": ("asterisk-core-sounds-en-wav", "*.wav", "tuning"),
            "armelle": ("asterisk-prompt-fr-armelle", "*.gsm", "held out")}
PIECES = {"allison": [30] * 10 + [60] * 5 + [120] * 3 + [300] * 2,
          "armelle": [30] * 6 + [60] * 4 + [120] * 2 + [300]}
SR = 16000


def _read(path: Path, cache: Path) -> np.ndarray:
    if path.suffix == ".gsm":       # soundfile cannot read raw GSM; sox can
        wav = cache / "_clip.wav"
        subprocess.run(["sox", str(path), "-r", str(SR), str(wav)], check=True)
        path = wav
    x, sr = sf.read(path, dtype="float32", always_2d=True)
    x = x.mean(axis=1)
    return soxr.resample(x, sr, SR) if sr != SR else x


def recording(voice: str, cache: Path) -> Path:
    """The voice's clips joined into one 16 kHz FLAC (downloaded and built once)."""
    out = cache / f"{voice}.flac"
    if out.exists():
        return out
    package, pattern, _ = PACKAGES[voice]
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", package], cwd=cache, check=True,
                   capture_output=True)
    deb = next(cache.glob(f"{package}_*.deb"))
    tree = cache / package
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tree)], check=True)
    gap = np.zeros(SR // 2, np.float32)
    parts = [p for f in sorted(tree.rglob(pattern)) for p in (_read(f, cache), gap)]
    sf.write(out, np.concatenate(parts), SR)
    return out


def pieces(voice: str, whole: Path, cache: Path) -> list[Path]:
    x, _ = sf.read(whole, dtype="float32")
    out, at = [], 0
    for i, seconds in enumerate(PIECES[voice]):
        p = cache / "pieces" / f"{voice}_{i:02d}_{seconds}s.flac"
        p.parent.mkdir(parents=True, exist_ok=True)
        if not p.exists():
            sf.write(p, x[at * SR:(at + seconds) * SR], SR)
        out.append(p)
        at += seconds
    return out


def main() -> None:
    from longspeech.diarization import DiarizationOptions
    from longspeech.diarization.embedded import EmbeddedBackend

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--merge", type=float, nargs="+", default=[0.85],
                    help="DiarizationOptions.merge_similarity values to compare")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/longspeech_single_voice"))
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/single_voice.json"))
    a = ap.parse_args()
    backend = EmbeddedBackend()
    result: dict = {"command": "benchmarks/single_voice.py --merge "
                               + " ".join(f"{m:g}" for m in a.merge), "runs": []}
    for voice, (_, _, role) in PACKAGES.items():
        whole = recording(voice, a.cache)
        files = pieces(voice, whole, a.cache) + [whole]
        for merge in a.merge:
            rows = []
            for f in files:
                t0 = time.perf_counter()
                ann = backend.diarize(str(f), DiarizationOptions(merge_similarity=merge))
                shares = sorted((float(ann.label_duration(x)) for x in ann.labels()),
                                reverse=True)
                rows.append({"file": f.name, "seconds": round(sf.info(f).duration, 1),
                             "speakers": len(shares),
                             "phantom_share": round(1 - shares[0] / sum(shares), 3)
                             if shares else 0.0,
                             "diarize_s": round(time.perf_counter() - t0, 1)})
            one = sum(r["speakers"] == 1 for r in rows)
            result["runs"].append({"voice": voice, "role": role, "merge_similarity": merge,
                                   "one_speaker": one, "recordings": len(rows),
                                   "rows": rows})
            print(f"{voice} ({role}) merge {merge:g}: one speaker on {one}/{len(rows)}; "
                  f"whole recording: {rows[-1]['speakers']} speaker(s)", flush=True)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
