"""FastLongSpeech front end: encoder memory on long audio, and compression speed.

1. Peak RSS (VmHWM) of encoding a short and a long synthetic recording to Whisper tiny.en states
   (each a fresh process, features streamed into the disk cache): the ratio shows whether
   memory grows with the recording.
2. Time to compress an hour of states to L = 750 frames: iterative fusion (with a CTC density
   head) against AvgPool measured in the same run, at 50 and 25 frames/s.

    .venv/bin/python benchmarks/compression_bench.py --short-minutes 2 --long-minutes 30
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def synth(out: Path, minutes: float, seed: int) -> Path:
    from longspeech.synth import RecordingSpec, write_recording

    paths = write_recording(RecordingSpec(seed=seed, duration=minutes * 60, speakers=2),
                            out, f"talk_{minutes:g}min")
    return Path(paths.audio)


def encode_child(audio: str, cache: str) -> None:
    from longspeech.encoders import EncoderOptions, WhisperStateEncoder, encode_file

    enc = WhisperStateEncoder(EncoderOptions(model="tiny.en", cache_dir=cache))
    t0 = time.perf_counter()
    out = encode_file(enc, audio)
    seconds = time.perf_counter() - t0
    # VmHWM is this process's own peak (ru_maxrss would include the parent's at fork time).
    status = Path("/proc/self/status").read_text().splitlines()
    hwm_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print(json.dumps({"frames": out.frames, "dim": int(out.states.shape[1]),
                      "seconds": round(seconds, 2), "peak_rss_mb": round(hwm_kb / 1024, 1)}))


def encode_in_child(audio: Path, cache: Path) -> dict:
    """Encode in a fresh process, which reports its own peak RSS."""
    res = subprocess.run([sys.executable, __file__, "--child", str(audio), str(cache)],
                         check=True, capture_output=True, text=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def compression_timings(frames: int, dim: int, window: int, repeats: int) -> dict:
    import torch

    from longspeech.compression import (CompressionOptions, CTCDensityHead, DensityHeadConfig,
                                        compress)

    torch.manual_seed(0)
    x = torch.randn(frames, dim).cumsum(0) * 0.05 + torch.randn(frames, dim)
    head = CTCDensityHead(DensityHeadConfig(d_enc=dim, d_model=576, vocab_size=1000)).eval()

    def best(fn) -> float:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            with torch.no_grad():
                fn()
            times.append(time.perf_counter() - t0)
        return min(times)

    fusion = best(lambda: compress(x, head.density, window))
    mostsim = best(lambda: compress(x, None, window, CompressionOptions(method="mostsim")))
    avgpool = best(lambda: compress(x, None, window, CompressionOptions(method="avgpool")))
    return {"frames": frames, "dim": dim, "window": window, "fusion_s": round(fusion, 3),
            "mostsim_s": round(mostsim, 3), "avgpool_s": round(avgpool, 4),
            "fusion_over_avgpool": round(fusion / avgpool, 1)}


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        encode_child(sys.argv[2], sys.argv[3])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short-minutes", type=float, default=2)
    ap.add_argument("--long-minutes", type=float, default=30)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    result: dict = {"compression": [compression_timings(180000, 384, 750, a.repeats),
                                    compression_timings(90000, 384, 750, a.repeats)]}
    with tempfile.TemporaryDirectory() as tmp:
        short = synth(Path(tmp), a.short_minutes, 1)
        long = synth(Path(tmp), a.long_minutes, 2)
        rows = {}
        for name, audio in (("short", short), ("long", long)):
            rows[name] = {"minutes": a.short_minutes if name == "short" else a.long_minutes,
                          **encode_in_child(audio, Path(tmp) / "cache")}
        rows["rss_ratio_long_over_short"] = round(
            rows["long"]["peak_rss_mb"] / rows["short"]["peak_rss_mb"], 2)
        result["encoder_memory"] = rows
    path = a.out / "compression_bench.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
