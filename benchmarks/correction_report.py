"""The stock-prompted corrector against the fine-tuned one, per format and context, on speech
whose texts and voices no choice was made on.

Sets (each a few recordings of 2-3 voices, spoken by the synthesiser, recognised by tiny.en,
clean and with white noise at 20 and 10 dB):
  report  the research-lab and radio-station meetings of the QA benchmark, spoken by its
          report voices: no training text, no training voice (the corrector's data is the
          generator's corpus spoken by the eight default voices);
  tune    the generator's corpus (other seeds than training) by default voices.
Systems: "stock" (SmolLM2 with the worked example) and "finetuned" (SmolLM2 + the adapter
of --correction-model, no example), each in format text and pairs, context full and segment.
Metrics: WER (Whisper normaliser + jiwer), punctuation F1, ITN rate (correction.py), edits
accepted, and the job's cost: (transcription + correction) / transcription.

    .venv/bin/python benchmarks/correction_report.py --correction-model DIR --set report
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def recordings(which: str, d: Path, seconds: float, count: int) -> list[tuple[Path, str, str]]:
    """(audio, reference, condition) for each recording of the set."""
    from qa_structure import HELD_OUT_TEXTS, REPORT_TEXTS

    from longspeech.synth import DEFAULT_VOICES, RecordingSpec, Voice, make_recording, \
        sentences, write_recording

    report_voices = (Voice("espeak", "en-gb-x-gbcwmd+f3", (("rate", 150.0), ("pitch", 60.0))),
                     Voice("espeak", "en-us+m1", (("rate", 155.0), ("pitch", 50.0))),
                     Voice("espeak", "en-029+m3", (("rate", 145.0), ("pitch", 45.0))),
                     Voice("espeak", "en-us-nyc+m2", (("rate", 160.0),)),
                     Voice("flite", "kal", (("duration_stretch", 1.0),)))
    out = []
    for i in range(count):
        for snr in (None, 20.0, 10.0):
            if which == "report":
                texts = (REPORT_TEXTS, HELD_OUT_TEXTS)[i % 2]
                voices = report_voices[i % 3:i % 3 + 2]
            else:
                texts = tuple(sentences(7000 + i, 40))
                voices = DEFAULT_VOICES[i % 6:i % 6 + 2]
            spec = RecordingSpec(seed=60 + i, duration=seconds, speakers=2, texts=texts,
                                 voices=voices, snr_db=snr)
            rec = make_recording(spec)
            stem = f"{which}{i}_{'clean' if snr is None else f'snr{snr:g}'}"
            paths = write_recording(rec, d, stem)
            ref = " ".join(s.text for s in sorted(rec.sentences, key=lambda s: s.start_sample))
            out.append((Path(paths.audio), ref, "clean" if snr is None else f"{snr:g} dB"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--correction-model", type=Path, required=True)
    ap.add_argument("--set", choices=("report", "tune"), default="report")
    ap.add_argument("--recordings", type=int, default=2, help="per noise condition")
    ap.add_argument("--seconds", type=float, default=75.0)
    ap.add_argument("--systems", default="stock,finetuned")
    ap.add_argument("--formats", default="text,pairs")
    ap.add_argument("--contexts", default="full,segment")
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    from correction import itn_rate, punctuation_f1

    from longspeech.api import transcribe
    from longspeech.correction import CorrectionOptions, correct_transcript
    from longspeech.wer import word_error_rate

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = recordings(a.set, Path(tmp), a.seconds, a.recordings)
        for path, ref, cond in data:
            t0 = time.perf_counter()
            tr = transcribe(path)
            plain = time.perf_counter() - t0
            base = {"recording": path.stem, "condition": cond, "transcribe_seconds": plain,
                    "reference": ref}
            rows.append({**base, "system": "none", "text": tr.text})
            for system in a.systems.split(","):
                for fmt in a.formats.split(","):
                    for ctx in a.contexts.split(","):
                        opts = CorrectionOptions(
                            format=fmt, context=ctx,
                            adapter=str(a.correction_model) if system == "finetuned" else None)
                        t0 = time.perf_counter()
                        fixed = correct_transcript(tr, path, opts)
                        recs = fixed.provenance["corrections"]
                        rows.append({**base, "system": system, "format": fmt, "context": ctx,
                                     "text": fixed.text,
                                     "correct_seconds": time.perf_counter() - t0,
                                     "accepted": [(r["original"], r["corrected"], r["type"])
                                                  for r in recs if r["accepted"]],
                                     "proposed": len(recs)})
                        print(f"{path.stem:18s} {system:9s} {fmt:5s} {ctx:7s} accepted "
                              f"{len(rows[-1]['accepted'])}/{len(recs)}", flush=True)
    table = {}
    keys = sorted({(r["system"], r.get("format", "-"), r.get("context", "-")) for r in rows})
    for cond in ("clean", "20 dB", "10 dB", "all"):
        for key in keys:
            sel = [r for r in rows if (r["system"], r.get("format", "-"), r.get("context", "-"))
                   == key and (cond == "all" or r["condition"] == cond)]
            if not sel:
                continue
            itn = [x for x in (itn_rate(r["reference"], r["text"]) for r in sel) if x is not None]
            table[f"{cond} / {' '.join(key)}"] = {
                "wer": round(100 * word_error_rate([r["reference"] for r in sel],
                                                   [r["text"] for r in sel]), 2),
                "punct_f1": round(sum(punctuation_f1(r["reference"], r["text"]) for r in sel)
                                  / len(sel), 3),
                "itn_rate": round(sum(itn) / len(itn), 3) if itn else None,
                "accepted": sum(len(r.get("accepted", [])) for r in sel),
                "job_cost": round(sum(r["transcribe_seconds"] + r.get("correct_seconds", 0.0)
                                      for r in sel) / sum(r["transcribe_seconds"] for r in sel),
                                  2)}
    out = a.out or ROOT / "benchmarks" / "results" / f"correction_report_{a.set}.json"
    result = {"command": "benchmarks/correction_report.py " + " ".join(sys.argv[1:]),
              "set": a.set, "recordings": len(data), "table": table, "rows": rows}
    out.write_text(json.dumps(result, indent=1) + "\n")
    for k, v in table.items():
        print(f"{k:40s} {v}")


if __name__ == "__main__":
    main()
