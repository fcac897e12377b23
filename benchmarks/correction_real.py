"""LLM correction on real speech: is WER ever higher after `--correct`, and which edits does
the verifier accept?

Real recorded English with exact references, none of it synthesised:
  - prompts: Allison Smith's telephone prompts (Debian asterisk-core-sounds-en-wav 1.6.1-1,
    CC-BY-SA-3.0; texts from asterisk-core-sounds-en's core-sounds-en.txt), downloaded with
    `apt-get download` into --cache (not kept in the repository); the clips that have a
    spoken text, joined in file-name order with 0.5 s of silence, cut into files of --minutes;
  - clips: the real clips of tests/data/realspeech/clips_en (LibriVox, JFK, CMU ARCTIC...),
    each a file of its own.
Each file is transcribed by tiny.en (`longspeech transcribe` defaults) and corrected with
CorrectionOptions (the stock prompt, or --correction-model's adapter; --context); WER before
and after per file, with every accepted edit listed.
`--label` names the run, so runs of two versions of the code can be put side by side.

    .venv/bin/python benchmarks/correction_real.py --files 3 --cache /tmp/asterisk
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

ROOT = Path(__file__).resolve().parents[1]
CLIPS = ROOT / "tests" / "data" / "realspeech" / "clips_en"
SR = 16000


def _download(package: str, cache: Path) -> Path:
    tree = cache / package
    if not tree.exists():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(["apt-get", "download", package], cwd=cache, check=True,
                       capture_output=True)
        deb = next(cache.glob(f"{package}_*.deb"))
        subprocess.run(["dpkg-deb", "-x", str(deb), str(tree)], check=True)
    return tree


def prompt_texts(cache: Path) -> dict[str, str]:
    """Prompt name (path under the language folder, no suffix) -> its spoken text."""
    tree = _download("asterisk-core-sounds-en", cache)
    txt = next(tree.rglob("core-sounds-en.txt.gz"))
    out = {}
    for line in gzip.open(txt, "rt", encoding="utf-8", errors="replace"):
        name, sep, text = line.partition(":")
        text = text.strip()
        if not sep or line.startswith(";") or not text or "[" in text:
            continue       # comments, and "[ascending tones]" or "[this is a beep]"
        out[name.strip()] = text
    return out


def prompt_files(cache: Path, minutes: float, files: int) -> list[tuple[Path, str]]:
    """The joined prompt recordings and their references."""
    texts = prompt_texts(cache)
    tree = _download("asterisk-core-sounds-en-wav", cache)
    root = next(tree.rglob("en_US_f_Allison"))
    out: list[tuple[Path, str]] = []
    parts: list[np.ndarray] = []
    refs: list[str] = []
    gap = np.zeros(SR // 2, np.float32)
    for wav in sorted(root.rglob("*.wav")):
        name = wav.relative_to(root).with_suffix("").as_posix()
        if name not in texts:
            continue
        x, sr = sf.read(wav, dtype="float32", always_2d=True)
        x = x.mean(axis=1)
        parts += [soxr.resample(x, sr, SR) if sr != SR else x, gap]
        refs.append(texts[name])
        if sum(len(p) for p in parts) >= minutes * 60 * SR:
            path = cache / f"prompts_{len(out):02d}.flac"
            if not path.exists():
                sf.write(path, np.concatenate(parts), SR)
            out.append((path, " ".join(refs)))
            parts, refs = [], []
            if len(out) == files:
                break
    return out


def clip_files() -> list[tuple[Path, str]]:
    rows = [json.loads(line) for line in (CLIPS / "manifest.jsonl").read_text().splitlines()]
    return [(CLIPS / r["audio"], r["text"]) for r in rows if r.get("lang", "en") == "en"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=3, help="prompt files")
    ap.add_argument("--minutes", type=float, default=5.0, help="length of each prompt file")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/asterisk"))
    ap.add_argument("--label", default="current")
    ap.add_argument("--correction-model", default=None,
                    help="an adapter directory, or embedded (default: the stock prompt)")
    ap.add_argument("--context", default="full", help="full or segment")
    ap.add_argument("--out", type=Path,
                    default=ROOT / "benchmarks" / "results" / "correction_real.json")
    a = ap.parse_args()
    from longspeech.api import transcribe
    from longspeech.correction import CorrectionOptions, correct_transcript
    from longspeech.wer import word_error_rate

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from correction import punctuation_f1

    data = [("prompts", p, r) for p, r in prompt_files(a.cache, a.minutes, a.files)]
    data += [("clips", p, r) for p, r in clip_files()]
    rows = []
    for source, path, ref in data:
        t0 = time.perf_counter()
        tr = transcribe(path)
        plain_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        fixed = correct_transcript(tr, path, CorrectionOptions(adapter=a.correction_model,
                                                               context=a.context))
        correct_s = time.perf_counter() - t0
        before, after = word_error_rate(ref, tr.text), word_error_rate(ref, fixed.text)
        accepted = [{k: c[k] for k in ("original", "corrected", "type", "reason")}
                    for c in fixed.provenance["corrections"] if c["accepted"]]
        rows.append({"source": source, "file": path.name,
                     "audio_seconds": round(tr.recording.duration, 1),
                     "wer_before": round(100 * before, 2), "wer_after": round(100 * after, 2),
                     "punct_f1_before": round(punctuation_f1(ref, tr.text), 3),
                     "punct_f1_after": round(punctuation_f1(ref, fixed.text), 3),
                     "transcribe_seconds": round(plain_s, 1),
                     "correct_seconds": round(correct_s, 1),
                     "proposed": len(fixed.provenance["corrections"]), "accepted": accepted})
        print(f"{path.name[:48]:48s} WER {100 * before:6.2f} -> {100 * after:6.2f} "
              f"accepted {len(accepted)}/{len(fixed.provenance['corrections'])} "
              f"({correct_s:.0f} s)", flush=True)
    refs = [r for _, _, r in data]
    result = {"command": "benchmarks/correction_real.py " + " ".join(sys.argv[1:]),
              "label": a.label,
              "files": len(rows), "never_higher": all(r["wer_after"] <= r["wer_before"]
                                                      for r in rows),
              "higher_on": [r["file"] for r in rows if r["wer_after"] > r["wer_before"]],
              "audio_seconds": round(sum(r["audio_seconds"] for r in rows), 1),
              "words": sum(len(re.findall(r"\S+", r)) for r in refs), "rows": rows}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=1))


if __name__ == "__main__":
    main()
