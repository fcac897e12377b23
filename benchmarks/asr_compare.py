"""WER and speed of longspeech (both engines) vs faster-whisper's BatchedInferencePipeline.

Same tiny.en weights, same machine, same run; speed is reported as a ratio to the baseline
(audio seconds per wall second, longspeech / faster-whisper), so machine noise cancels.

    .venv/bin/python benchmarks/asr_compare.py --minutes 10 --speakers 3 --out benchmarks/results
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import soundfile as sf

from longspeech.asr import AsrOptions, load_engine
from longspeech.eval import word_error_rate
from longspeech.models import ct2_dir
from longspeech.pipelines.transcribe import TranscribeOptions, transcribe_file


def synth_meeting(out: Path, minutes: float, speakers: int, seed: int) -> tuple[Path, str]:
    from longspeech.synth import RecordingSpec, write_recording

    paths = write_recording(RecordingSpec(seed=seed, duration=minutes * 60, speakers=speakers),
                            out, f"meeting_{minutes:g}min_{speakers}spk")
    return Path(paths.audio), Path(paths.text).read_text()


def run_longspeech(audio: Path, engine: str, batch_size: int) -> tuple[str, float]:
    opts = TranscribeOptions(asr=AsrOptions(engine=engine, batch_size=batch_size))
    eng = load_engine(opts.asr)
    t0 = time.perf_counter()
    tr = transcribe_file(audio, eng, opts)
    return tr.text, time.perf_counter() - t0


def run_faster_whisper(audio: Path, batch_size: int, word_timestamps: bool) -> tuple[str, float]:
    from faster_whisper import BatchedInferencePipeline, WhisperModel, decode_audio

    model = WhisperModel(str(ct2_dir("tiny.en")), device="cpu", compute_type="int8")
    pipe = BatchedInferencePipeline(model)
    t0 = time.perf_counter()
    x = decode_audio(str(audio))
    segs, _ = pipe.transcribe(x, batch_size=batch_size, beam_size=5,
                              word_timestamps=word_timestamps)
    text = " ".join(s.text.strip() for s in segs)
    return text, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--speakers", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--engines", default="ct2,transformers")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    audio, ref = synth_meeting(a.out / "audio", a.minutes, a.speakers, a.seed)
    dur = sf.info(str(audio)).duration
    rows = {}
    for name, fn in [("faster-whisper batched (words)", lambda: run_faster_whisper(audio, a.batch_size, True)),
                     ("faster-whisper batched (no words)", lambda: run_faster_whisper(audio, a.batch_size, False))] + \
                    [(f"longspeech {e}", (lambda e=e: run_longspeech(audio, e, a.batch_size)))
                     for e in a.engines.split(",")]:
        text, secs = fn()
        rows[name] = {"wer": round(100 * word_error_rate(ref, text), 2), "wall_s": round(secs, 1),
                      "x_realtime": round(dur / secs, 1)}
        print(name, rows[name], flush=True)
    base = rows["faster-whisper batched (words)"]["x_realtime"]
    for r in rows.values():
        r["speed_ratio_vs_fw_words"] = round(r["x_realtime"] / base, 2)
    result = {"audio_seconds": round(dur, 1), "speakers": a.speakers, "rows": rows}
    (a.out / f"asr_compare_{a.minutes:g}min.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
