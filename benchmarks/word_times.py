"""How far Whisper's word times are from the truth, per engine, voice family and position.

Truth: synthetic recordings (longspeech.synth, word spans from the TTS engines' own phone
timing) and real speech with word alignments shipped in public packages (see
benchmarks/data/realspeech_word_times.json: pocketsphinx's forced alignments of five LibriVox
sentences, CMU ARCTIC slt a0009 phone labels, praatio's word TextGrids). Each recording is
chunked and decoded exactly as a transcription job does (VAD chunks, batches, hole
re-decodes); decoded words are matched to the reference words by text (difflib), and the
signed offsets predicted - true of starts and ends are summarised: median, IQR, and the share
of words whose start and end are both within 0.2 s (BLAB's word-localization criterion).

    .venv/bin/python benchmarks/word_times.py --minutes 3 --seeds 21 22 --engines ct2 transformers
    .venv/bin/python benchmarks/word_times.py --no-correction ...   # the raw DTW times

The median offsets of the uncorrected run on the synthetic recordings are the calibration
of longspeech.asr.word_times (see there for the numbers and their provenance).
"""

from __future__ import annotations

import argparse
import csv
import difflib
import json
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"
REAL_REFS = Path(__file__).parent / "data" / "realspeech_word_times.json"
REAL_AUDIO = Path(__file__).resolve().parents[1] / "tests" / "data" / "realspeech"
EDGE = 1.0          # a word this close (s) to its chunk's start or end is "near an edge"
PAUSE = 0.25        # silence (s) in the truth that makes a word phrase-initial or -final
_NORM = re.compile(r"[^a-z0-9']")


@dataclass(frozen=True)
class RefWord:
    word: str
    start: float
    end: float
    family: str          # "espeak", "flite" or "real"
    before: float = 9.0  # silence before the word in the truth (s)
    after: float = 9.0   # silence after it


@dataclass(frozen=True)
class HypWord:
    word: str
    start: float
    end: float
    chunk_start: float
    chunk_end: float


def norm(word: str) -> str:
    return _NORM.sub("", word.lower())


def with_pauses(words: list[RefWord]) -> list[RefWord]:
    out = []
    for i, w in enumerate(words):
        before = w.start - words[i - 1].end if i else 9.0
        after = words[i + 1].start - w.end if i + 1 < len(words) else 9.0
        out.append(replace(w, before=round(before, 3), after=round(after, 3)))
    return out


def match(ref: Sequence[RefWord], hyp: Sequence[HypWord]) -> list[tuple[RefWord, HypWord]]:
    """Pairs of reference and decoded words with the same text, in order (difflib blocks)."""
    a, b = [norm(w.word) for w in ref], [norm(w.word) for w in hyp]
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return [(ref[m.a + k], hyp[m.b + k]) for m in sm.get_matching_blocks()
            for k in range(m.size)]


def summary(pairs: Sequence[tuple[RefWord, HypWord]]) -> dict:
    if not pairs:
        return {"n": 0}
    ds = np.array([h.start - r.start for r, h in pairs])
    de = np.array([h.end - r.end for r, h in pairs])

    def stats(x: np.ndarray) -> dict:
        q1, med, q3 = np.percentile(x, [25, 50, 75])
        return {"median": round(float(med), 3), "iqr": [round(float(q1), 3), round(float(q3), 3)],
                "mean_abs": round(float(np.mean(np.abs(x))), 3)}

    ok = (np.abs(ds) <= 0.2) & (np.abs(de) <= 0.2)
    return {"n": len(pairs), "start": stats(ds), "end": stats(de),
            "within_0.2s": round(100 * float(ok.mean()), 1)}


def breakdown(pairs: Sequence[tuple[RefWord, HypWord]]) -> dict:
    def near_edge(h: HypWord) -> bool:
        return min(h.start - h.chunk_start, h.chunk_end - h.end) < EDGE

    groups = {
        "all": pairs,
        "espeak": [p for p in pairs if p[0].family == "espeak"],
        "flite": [p for p in pairs if p[0].family == "flite"],
        "real": [p for p in pairs if p[0].family == "real"],
        "near_chunk_edge": [p for p in pairs if near_edge(p[1])],
        "inside_chunk": [p for p in pairs if not near_edge(p[1])],
        "after_pause": [p for p in pairs if p[0].before >= PAUSE],
        "before_pause": [p for p in pairs if p[0].after >= PAUSE],
        "inside_phrase": [p for p in pairs if p[0].before < PAUSE and p[0].after < PAUSE],
    }
    return {k: summary(v) for k, v in groups.items() if v}


# -- references ------------------------------------------------------------------------------

def synthetic(out: Path, minutes: float, seed: int, speakers: int,
              snr_db: float | None = None) -> tuple[Path, list[RefWord]]:
    from longspeech.synth import RecordingSpec, write_recording

    stem = f"wt_{seed}_{minutes:g}min_{speakers}spk" + (f"_snr{snr_db:g}" if snr_db else "")
    meta = out / f"{stem}.json"
    if not meta.exists():
        write_recording(RecordingSpec(seed=seed, duration=minutes * 60, speakers=speakers,
                                      snr_db=snr_db), out, stem)
    info = json.loads(meta.read_text())
    family = {k: v["engine"] for k, v in info["speakers"].items()}
    with open(out / info["files"]["words"], newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    words = [RefWord(r["word"], float(r["start"]), float(r["end"]), family[r["speaker"]])
             for r in rows]
    return out / info["files"]["audio"], with_pauses(words)


def real_references(path: Path = REAL_REFS) -> list[tuple[Path, list[RefWord]]]:
    data = json.loads(path.read_text())
    out = []
    for item in data["clips"]:
        audio = REAL_AUDIO / item["audio"]
        words = [RefWord(w, s, e, "real") for w, s, e in item["words"]]
        out.append((audio, with_pauses(words)))
    return out


# -- decoding --------------------------------------------------------------------------------

def decode(path: Path, engine, opts) -> list[HypWord]:
    """Words of a recording decoded as a transcription job does, with their chunk's span."""
    from longspeech.audio import iter_chunks
    from longspeech.pipelines.transcribe import decode_batch

    chunks = list(iter_chunks(path, vad_options=opts.vad, max_chunk=opts.max_chunk,
                              max_gap=opts.max_gap))
    spans = {c.chunk.index: (c.chunk.start, c.chunk.end) for c in chunks}
    out: list[HypWord] = []
    bs = opts.asr.batch_size
    for i in range(0, len(chunks), bs):
        batch = chunks[i:i + bs]
        for segs in decode_batch(engine, batch, "en", opts.min_gap):
            for s in segs:
                cs, ce = spans[s.chunk_index]
                out.extend(HypWord(w.word, w.start, w.end, cs, ce) for w in s.words)
    return out


def run(engine_name: str, items: Iterable[tuple[Path, list[RefWord]]],
        correction: bool) -> tuple[list[tuple[RefWord, HypWord]], float]:
    from longspeech.asr import AsrOptions, load_engine
    from longspeech.pipelines.transcribe import TranscribeOptions

    opts = TranscribeOptions(asr=AsrOptions(engine=engine_name,
                                            word_time_correction=correction))
    engine = load_engine(opts.asr)
    pairs: list[tuple[RefWord, HypWord]] = []
    t0 = time.perf_counter()
    for path, ref in items:
        pairs += match(ref, decode(path, engine, opts))
    return pairs, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--seeds", type=int, nargs="+", default=[21, 22])
    ap.add_argument("--speakers", type=int, default=5,
                    help="5 = three Flite and two espeak-ng voices (the default voice list)")
    ap.add_argument("--snr", type=float, default=None, help="add white noise at this SNR (dB)")
    ap.add_argument("--engines", nargs="+", default=["ct2", "transformers"])
    ap.add_argument("--no-correction", action="store_true",
                    help="raw cross-attention DTW times (the calibration run)")
    ap.add_argument("--no-real", action="store_true")
    ap.add_argument("--work", type=Path, default=Path("/tmp/longspeech_word_times"))
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    args.work.mkdir(parents=True, exist_ok=True)
    synth = [synthetic(args.work, args.minutes, s, args.speakers, args.snr) for s in args.seeds]
    real = [] if args.no_real else real_references()
    correction = not args.no_correction
    result: dict = {"minutes": args.minutes, "seeds": args.seeds, "speakers": args.speakers,
                    "snr_db": args.snr,
                    "correction": correction, "synthetic_words": sum(len(r) for _, r in synth),
                    "real_words": sum(len(r) for _, r in real), "engines": {}}
    for name in args.engines:
        pairs, secs = run(name, synth, correction)
        real_pairs, _ = run(name, real, correction) if real else ([], 0.0)
        result["engines"][name] = {"decode_s": round(secs, 1), "synthetic": breakdown(pairs),
                                   "real": breakdown(real_pairs) if real_pairs else {}}
        print(json.dumps({name: result["engines"][name]}, indent=1), flush=True)
    name = "word_times" + ("" if correction else "_raw") + (f"_snr{args.snr:g}" if args.snr else "")
    out = args.out or RESULTS / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
