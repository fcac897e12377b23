"""LLM full-text correction with acoustic verification: does it help, and does the check matter?

Three kinds of transcript, each corrected by the LLM (Chain-of-Correction prompts), then scored
against the synthetic recording's exact reference:

  clean     tiny.en on clean synthetic speech (few errors): correction must not raise WER
            by more than 0.2 points.
  noisy     tiny.en on the same kind of speech with white noise (RecordingSpec(snr_db=...)).
  injected  the reference itself, with its own word times, made lower case without
            punctuation, with near-homophone substitutions (weather -> whether, ...);
            numbers stay spelled out, so ITN has work to do.

Verified and unverified use the same LLM replies: the verified run is correct_transcript; the
unverified one applies the same replies' edits with verification off, so the difference is the
check alone. Metrics: WER (Whisper normaliser + jiwer), punctuation F1 (mark after each aligned
word), ITN rate (reference numbers written with digits), and edit counts.

    .venv/bin/python benchmarks/correction.py --seconds 20
"""

from __future__ import annotations

import argparse
import copy
import difflib
import json
import os
import platform
import random
import re
import tempfile
import time
from pathlib import Path

HOMOPHONES = {
    "weather": "whether", "four": "for", "two": "to", "eight": "ate", "their": "there",
    "there": "their", "know": "no", "new": "knew", "meet": "meat", "write": "right",
    "hour": "our", "hours": "ours", "one": "won", "by": "buy", "buy": "by", "week": "weak",
    "made": "maid", "sea": "see", "would": "wood", "heard": "herd", "red": "read",
    "road": "rode", "sun": "son", "plane": "plain", "tail": "tale", "where": "wear",
    "to": "too", "for": "four", "were": "where", "tables": "fables", "boats": "votes",
    "horses": "courses", "report": "support", "letters": "ladders", "bank": "tank",
    "keys": "peas", "bridge": "fridge", "phone": "foam", "box": "fox", "lamp": "camp",
    "cold": "gold", "bright": "right", "cheap": "sheep", "lost": "last", "sent": "send",
}
_PUNCT = re.compile(r"[.,?!;:]+$")


# -- data ---------------------------------------------------------------------------------------

def synth(out: Path, seconds: float, seed: int, snr_db: float | None, stem: str):
    from longspeech.synth import RecordingSpec, make_recording, write_recording

    rec = make_recording(RecordingSpec(seed=seed, duration=seconds, speakers=2, snr_db=snr_db))
    paths = write_recording(rec, out, stem)
    return rec, Path(paths.audio)


def asr(path: Path):
    from longspeech import api

    return api.transcribe(path)


def injected(rec, path: Path, rate: float, seed: int):
    """The reference as a transcript with word times, corrupted as an ASR might be."""
    from longspeech.types import Recording, Segment, Transcript, Word

    rng = random.Random(seed)
    segments, subs = [], 0
    for s in sorted(rec.sentences, key=lambda s: s.start_sample):
        words = []
        for w in s.words():
            t = w.word.lower().strip(".,?!;:")
            if t in HOMOPHONES and rng.random() < rate:
                t, subs = HOMOPHONES[t], subs + 1
            words.append(Word(" " + t, w.start, w.end, 0.9, w.speaker))
        segments.append(Segment(s.start, s.end, "".join(w.word for w in words).strip(), words,
                                speaker=s.speaker))
    rec_meta = Recording(path.stem, str(path), rec.duration, 16000, 1)
    return Transcript(rec_meta, "en", segments), subs


# -- metrics --------------------------------------------------------------------------------------

def _key(t: str) -> str:
    return re.sub(r"^\W+|\W+$", "", t).lower()


def punctuation_f1(ref: str, hyp: str) -> float:
    """F1 of (word, following mark) over words aligned on their keys; marks . , ? ! only."""
    rt, ht = ref.split(), hyp.split()
    ops = difflib.SequenceMatcher(None, [_key(t) for t in rt], [_key(t) for t in ht],
                                  autojunk=False).get_opcodes()
    tp = fp = fn = 0
    for tag, i1, i2, j1, j2 in ops:
        if tag != "equal":
            continue
        for a, b in zip(rt[i1:i2], ht[j1:j2]):
            ma = (_PUNCT.search(a) or [""])[0][:1]
            mb = (_PUNCT.search(b) or [""])[0][:1]
            tp += bool(ma) and ma == mb
            fp += bool(mb) and ma != mb
            fn += bool(ma) and ma != mb
    return 1.0 if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)


def itn_rate(ref: str, hyp: str) -> float | None:
    """Reference numbers (digits after normalising) that the raw hypothesis writes in digits."""
    from longspeech.wer import normalize

    want = [t for t in normalize(ref).split() if re.search(r"\d", t)]
    if not want:
        return None
    have = [re.sub(r"\D", "", t) for t in hyp.split() if re.search(r"\d", t)]
    hits = 0
    for w in want:
        d = re.sub(r"\D", "", w)
        if d in have:
            have.remove(d)
            hits += 1
    return hits / len(want)


def scores(ref: str, tr) -> dict:
    from longspeech.wer import word_error_rate

    hyp = tr.text
    return {"wer": round(100 * word_error_rate(ref, hyp), 2),
            "punct_f1": round(punctuation_f1(ref, hyp), 3),
            "itn_rate": None if (r := itn_rate(ref, hyp)) is None else round(r, 3)}


def edit_counts(tr) -> dict:
    recs = tr.provenance.get("corrections", [])
    out: dict = {"proposed": len(recs), "accepted": sum(r["accepted"] for r in recs)}
    for typ in ("spelling", "punctuation", "itn", "other"):
        mine = [r for r in recs if r["type"] == typ]
        if mine:
            out[typ] = f"{sum(r['accepted'] for r in mine)}/{len(mine)}"
    reasons: dict[str, int] = {}
    for r in recs:
        if not r["accepted"]:
            k = r["reason"].split(":")[0].split(" ")[0:3]
            reasons[" ".join(k)] = reasons.get(" ".join(k), 0) + 1
    out["rejected_by"] = reasons
    return out


def calibration(ref: str, tr, fixed) -> list[dict]:
    """Each acoustically checked edit: its score delta, and what it alone does to the WER."""
    from longspeech.correction import CorrectionOptions, Proposal, apply_pairs
    from longspeech.wer import word_error_rate

    base = word_error_rate(ref, tr.text)
    loose = CorrectionOptions(verify=False, budget=1.0)
    out = []
    for r in fixed.provenance["corrections"]:
        if r["score_delta"] is None:
            continue
        one = apply_pairs(tr, [Proposal(r["original"], r["corrected"])], None, loose,
                          segments=[r["segment"]])
        applied = any(x["accepted"] for x in one.provenance["corrections"])
        change = round(100 * (word_error_rate(ref, one.text) - base), 2) if applied else None
        # None: the edit cannot be replayed alone (an insertion has no original words)
        out.append({"original": r["original"], "corrected": r["corrected"],
                    "score_delta": r["score_delta"], "accepted": r["accepted"],
                    "wer_change_points": change})
    return out


# -- runs -----------------------------------------------------------------------------------------

def unverified(tr, replies: list[str], opts):
    """The same replies' edits applied with verification off."""
    from dataclasses import replace

    from longspeech.correction import apply_proposals, plan_turns, proposals_from_reply

    loose = replace(opts, verify=False)
    out = copy.deepcopy(tr)
    records = []
    for turn, reply in zip(plan_turns(tr.segments, opts), replies):
        segs = [out.segments[i] for i in turn]
        props = proposals_from_reply(reply, segs, opts.format) or []
        new, recs = apply_proposals(segs, turn[0], props, loose, lambda i: None)
        for i, s in zip(turn, new):
            out.segments[i] = s
        records += [r.to_dict() for r in recs]
    out.provenance = {"corrections": records}
    return out


def run_case(name: str, ref: str, tr, audio: Path, fmt: str, args) -> dict:
    from longspeech.correction import CorrectionOptions, correct_transcript

    opts = CorrectionOptions(format=fmt, keep_replies=True, **{
        k: getattr(args, k) for k in ("threshold", "budget", "segment_sentences", "turn_batch")
        if getattr(args, k) is not None})
    t0 = time.perf_counter()
    fixed = correct_transcript(tr, audio, opts)
    seconds = time.perf_counter() - t0
    replies = fixed.provenance["correction"]["replies"]
    loose = unverified(tr, replies, opts)
    row = {
        "case": name, "format": fmt, "audio_seconds": round(tr.recording.duration, 1),
        "words": len(ref.split()), "turns": fixed.provenance["correction"]["turns"],
        "correction_seconds": round(seconds, 1),
        "before": scores(ref, tr),
        "unverified": scores(ref, loose) | {"edits": edit_counts(loose)},
        "verified": scores(ref, fixed) | {"edits": edit_counts(fixed)},
        "unreadable_replies": fixed.provenance["correction"]["unreadable_replies"],
        "checked_edits": calibration(ref, tr, fixed),
        "examples": [r for r in fixed.provenance["corrections"]][:12],
    }
    print(f"{name:9s} {fmt:5s} WER {row['before']['wer']:6.2f} -> unverified "
          f"{row['unverified']['wer']:6.2f}, verified {row['verified']['wer']:6.2f} | punct F1 "
          f"{row['before']['punct_f1']:.3f} -> {row['unverified']['punct_f1']:.3f} / "
          f"{row['verified']['punct_f1']:.3f} | edits {row['verified']['edits']['accepted']}/"
          f"{row['verified']['edits']['proposed']} | {seconds:.0f} s", flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="audio per case")
    ap.add_argument("--formats", default="text,pairs")
    ap.add_argument("--cases", default="clean,noisy,injected")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--snr", type=float, default=0.0, help="SNR (dB) of the noisy case")
    ap.add_argument("--sub-rate", type=float, default=0.5,
                    help="chance a word with a near-homophone is swapped (injected case)")
    ap.add_argument("--threshold", type=float, help="default: CorrectionOptions'")
    ap.add_argument("--budget", type=float, help="default: CorrectionOptions'")
    ap.add_argument("--segment-sentences", type=int, help="default: CorrectionOptions'")
    ap.add_argument("--turn-batch", type=int, help="default: CorrectionOptions'")
    ap.add_argument("--out", default="benchmarks/results/correction.json")
    args = ap.parse_args()
    os.environ.setdefault("LONGSPEECH_CACHE", str(Path(".pytest_cache/longspeech-cache")))
    cases = args.cases.split(",")
    rows = []
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        data = {}
        if "clean" in cases or "injected" in cases:
            rec, path = synth(Path(tmp), args.seconds, args.seed, None, "clean")
            ref = " ".join(s.text for s in sorted(rec.sentences, key=lambda s: s.start_sample))
            if "clean" in cases:
                data["clean"] = (ref, asr(path), path, {})
            if "injected" in cases:
                tr, subs = injected(rec, path, args.sub_rate, args.seed)
                data["injected"] = (ref, tr, path, {"substitutions": subs})
        if "noisy" in cases:
            rec, path = synth(Path(tmp), args.seconds, args.seed + 1, args.snr, "noisy")
            ref = " ".join(s.text for s in sorted(rec.sentences, key=lambda s: s.start_sample))
            data["noisy"] = (ref, asr(path), path, {"snr_db": args.snr})
        for name in cases:
            ref, tr, path, extra = data[name]
            for fmt in args.formats.split(","):
                rows.append(run_case(name, ref, tr, path, fmt, args) | extra)
    from dataclasses import asdict

    from longspeech.correction import CorrectionOptions

    clean = [r for r in rows if r["case"] == "clean"]
    result = {
        "command": "benchmarks/correction.py " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()
            if k != "out" and v is not None),
        "options": asdict(CorrectionOptions()) | {
            k: v for k, v in vars(args).items()
            if k in ("threshold", "budget", "segment_sentences", "turn_batch")
            and v is not None},
        "llm": "smollm2 (SmolLM2-135M-Instruct, greedy)", "verifier": "tiny.en",
        "machine": {"cpus": os.cpu_count(), "load_avg": [round(x, 2) for x in os.getloadavg()],
                    "python": platform.python_version()},
        "total_seconds": round(time.perf_counter() - t_start, 1),
        "clean_wer_not_raised": (all(r["verified"]["wer"] <= r["before"]["wer"] + 0.2
                                     for r in clean) if clean else None),
        "rows": rows,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"clean WER not raised (tolerance 0.2 points): {result['clean_wer_not_raised']}; "
          f"wrote {out} in {result['total_seconds']:.0f} s")


if __name__ == "__main__":
    main()
