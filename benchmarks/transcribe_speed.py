"""The default `longspeech transcribe FILES...` vs faster-whisper's BatchedInferencePipeline,
and the runners against each other: wall time, WER, and whether the outputs are the same bytes.

Every system runs as a fresh process on the same files in the same run, so imports, model
loading and (for Ray) start-up count as a user sees them; speed is reported as a ratio to the
faster-whisper baseline. Files: synthetic multi-voice meetings (seeds not used anywhere else)
plus the real English clips in tests/data/realspeech joined into one recording. Afterwards
the Ray run is repeated with every core kept busy, and its outputs are compared byte for byte.
The encoder-only and decoder-only throughput of the model bound what any system can do here.

    .venv/bin/python benchmarks/transcribe_speed.py --files 4 --minutes 10 --out benchmarks/results
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from longspeech.wer import word_error_rate

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "tests" / "data" / "realspeech" / "clips_en"
BIN = Path(sys.executable).parent

FASTER_WHISPER = """
import json, sys
from faster_whisper import BatchedInferencePipeline, WhisperModel
from longspeech.models import ct2_dir
model = WhisperModel(str(ct2_dir("tiny.en")), device="cpu", compute_type="int8")
pipe = BatchedInferencePipeline(model)
out = {}
for path in sys.argv[2:]:
    segs, _ = pipe.transcribe(path, batch_size=8, beam_size=5, word_timestamps=True)
    out[path] = " ".join(s.text.strip() for s in segs)
open(sys.argv[1], "w").write(json.dumps(out))
"""


def make_corpus(d: Path, files: int, minutes: float) -> list[tuple[Path, str]]:
    from longspeech.synth import RecordingSpec, write_recording

    corpus = []
    for i in range(files):
        paths = write_recording(RecordingSpec(seed=700 + i, duration=minutes * 60,
                                              speakers=2 + i % 4), d, f"meeting{i}")
        corpus.append((Path(paths.audio), Path(paths.text).read_text()))
    rows = [json.loads(x) for x in (REAL / "manifest.jsonl").read_text().splitlines()]
    rows = [r for r in rows if r.get("lang", "en") == "en"]
    parts = [sf.read(REAL / r["audio"], dtype="float32")[0] for r in rows]
    gap = np.zeros(16000, dtype=np.float32)
    sf.write(d / "real_en.flac", np.concatenate([np.concatenate([p, gap]) for p in parts]),
             16000)
    corpus.append((d / "real_en.flac", " ".join(r["text"] for r in rows)))
    return corpus


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[:4]} failed:\n{proc.stderr[-2000:]}")
    return time.perf_counter() - t0


def longspeech_run(inputs: list[Path], out: Path, *extra: str) -> float:
    return timed([str(BIN / "longspeech"), "transcribe", *map(str, inputs), "-o", str(out),
                  "-f", "json,txt", "--no-resume", *extra])


def texts_of(out: Path, inputs: list[Path]) -> list[str]:
    return [(out / f"{p.stem}.txt").read_text() for p in inputs]


def same_bytes(a: Path, b: Path, inputs: list[Path]) -> bool:
    """Transcript JSON equal apart from the provenance's run facts (none differ today)."""
    return all((a / f"{p.stem}.json").read_bytes() == (b / f"{p.stem}.json").read_bytes()
               for p in inputs)


def model_limits(audio: Path, batch: int = 8, repeats: int = 3) -> dict[str, float]:
    """x realtime of tiny.en's encoder alone and of its decoder alone (beam 5, on the
    encoder states of the first `batch` full 30-s windows of `audio`), int8, batch 8, as the
    engines run them: what one pass per window of audio costs at best."""
    import ctranslate2
    from faster_whisper import WhisperModel
    from faster_whisper.audio import decode_audio, pad_or_trim

    from longspeech.models import ct2_dir

    model = WhisperModel(str(ct2_dir("tiny.en")), device="cpu", compute_type="int8",
                         cpu_threads=min(4, os.cpu_count() or 1))
    x = decode_audio(str(audio))
    window = 30 * 16000
    feats = np.stack([pad_or_trim(model.feature_extractor(x[i * window:(i + 1) * window])
                                  [..., :-1]) for i in range(batch)])
    view = ctranslate2.StorageView.from_array(feats)
    prompt = [model.hf_tokenizer.token_to_id(t) for t in
              ("<|startoftranscript|>", "<|notimestamps|>")]
    t_enc, t_dec = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        enc = model.model.encode(view, to_cpu=False)
        t_enc.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        model.model.generate(enc, [prompt] * batch, beam_size=5)
        t_dec.append(time.perf_counter() - t0)
    audio = 30.0 * batch
    return {"encoder_x_realtime": round(audio / min(t_enc), 1),
            "decoder_x_realtime": round(audio / min(t_dec), 1),
            "encoder_plus_decoder_x_realtime": round(audio / (min(t_enc) + min(t_dec)), 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="transcribe_speed_"))
    try:
        corpus = make_corpus(work / "audio", a.files, a.minutes)
        inputs = [p for p, _ in corpus]
        refs = [t for _, t in corpus]
        audio_s = sum(sf.info(str(p)).duration for p in inputs)
        rows: dict[str, dict] = {}

        fw_json = work / "fw.json"
        wall = timed([sys.executable, "-c", FASTER_WHISPER, str(fw_json), *map(str, inputs)])
        hyps = json.loads(fw_json.read_text())
        rows["faster-whisper batched (int8, beam 5, batch 8, words)"] = {
            "wall_s": wall, "wer": word_error_rate(refs, [hyps[str(p)] for p in inputs])}
        runs = {"longspeech transcribe FILES... (default)": ("default", ()),
                "longspeech --runner local": ("local", ("--runner", "local")),
                "longspeech --runner ray": ("ray", ("--runner", "ray"))}
        for name, (key, extra) in runs.items():
            wall = longspeech_run(inputs, work / key, *extra)
            rows[name] = {"wall_s": wall, "wer": word_error_rate(refs, texts_of(work / key,
                                                                                 inputs))}
        base = rows["faster-whisper batched (int8, beam 5, batch 8, words)"]["wall_s"]
        for r in rows.values():
            r["speed_vs_faster_whisper"] = round(base / r["wall_s"], 2)
            r["x_realtime"] = round(audio_s / r["wall_s"], 1)
            r["wall_s"] = round(r["wall_s"], 1)
            r["wer"] = round(100 * r["wer"], 2)
        rows["longspeech --runner ray"]["overhead_vs_local"] = round(
            rows["longspeech --runner ray"]["wall_s"] / rows["longspeech --runner local"]["wall_s"]
            - 1, 3)

        # One busy process per core at the same priority as the run: every thread of the
        # job competes for the cores, so any timing-dependent choice would show.
        burners = [subprocess.Popen([sys.executable, "-c", "while 1: pass"])
                   for _ in range(os.cpu_count() or 2)]
        try:
            loaded_s = longspeech_run(inputs, work / "ray_loaded", "--runner", "ray")
        finally:
            for b in burners:
                b.kill()
        identical = {"default == local": same_bytes(work / "default", work / "local", inputs),
                     "local == ray": same_bytes(work / "local", work / "ray", inputs),
                     "ray (idle) == ray (all cores busy)": same_bytes(work / "ray",
                                                                      work / "ray_loaded", inputs)}
        result = {"command": " ".join(["benchmarks/transcribe_speed.py", *sys.argv[1:]]),
                  "files": [f"{p.name} ({sf.info(str(p)).duration:.0f} s)" for p in inputs],
                  "audio_seconds": round(audio_s, 1), "cpu_count": os.cpu_count(),
                  "rows": rows, "byte_identical": identical,
                  "ray_all_cores_busy_wall_s": round(loaded_s, 1),
                  "tiny_en_limits": model_limits(inputs[0])}
        a.out.mkdir(parents=True, exist_ok=True)
        (a.out / "transcribe_speed.json").write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
