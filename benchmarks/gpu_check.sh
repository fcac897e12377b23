#!/usr/bin/env bash
# The two GPU paths against the CPU on one machine, in a few minutes: a Whisper decode
# (CTranslate2, the transcription job as the CLI runs it) and the speech-LM answering path
# (encode + compress + answer, as `longspeech eval blab --system lslm` and `ask --mode lslm`
# run it). Prints wall times and whether the GPU gave the same words; writes
# benchmarks/results/gpu_check.json (or $OUT/gpu_check.json where $OUT is set).
#
#   bash benchmarks/gpu_check.sh            # after `make setup`; needs torch with CUDA
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
DEST=${OUT:-benchmarks/results}
mkdir -p "$DEST"
"$PY" - "$DEST/gpu_check.json" <<'EOF'
import json, platform, sys, time

try:
    import torch
    import longspeech  # noqa: F401
except ImportError as e:
    sys.exit(f"gpu_check: {e}; run `make setup` first (it installs the project and its models)")
if not torch.cuda.is_available():
    sys.exit("gpu_check: torch sees no GPU here (torch.cuda.is_available() is False); "
             "run this on a machine with a GPU and a CUDA build of torch")

from longspeech.api import transcribe
from longspeech.qa.answer import AskOptions, answer_lslm

AUDIO = "data/sample.flac"                       # 60 s, two voices, known words
QUESTION = "What is the first speaker talking about?"
rows = {}


def timed(fn, repeats=2):
    """Best of `repeats` after one warm-up call (model loading not counted)."""
    out = fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


for device in ("cpu", "cuda"):
    tr, secs = timed(lambda: transcribe(AUDIO, device=device))
    rows[f"whisper_decode_{device}"] = {"seconds": round(secs, 3), "text": tr.text}
    ans, secs = timed(lambda: answer_lslm(AUDIO, QUESTION, 750, AskOptions(device=device)))
    rows[f"speechlm_answer_{device}"] = {"seconds": round(secs, 3), "answer": ans.text,
                                         "speech_tokens": ans.speech_tokens}

result = {
    "gpu": torch.cuda.get_device_name(0), "torch": torch.__version__,
    "machine": platform.processor() or platform.machine(), "rows": rows,
    "decode_speedup": round(rows["whisper_decode_cpu"]["seconds"]
                            / rows["whisper_decode_cuda"]["seconds"], 2),
    "answer_speedup": round(rows["speechlm_answer_cpu"]["seconds"]
                            / rows["speechlm_answer_cuda"]["seconds"], 2),
    "same_words": rows["whisper_decode_cpu"]["text"] == rows["whisper_decode_cuda"]["text"],
    "same_answer": rows["speechlm_answer_cpu"]["answer"] == rows["speechlm_answer_cuda"]["answer"],
}
open(sys.argv[1], "w").write(json.dumps(result, indent=1) + "\n")
print(f"GPU: {result['gpu']} (torch {result['torch']})")
for name, row in rows.items():
    print(f"  {name:<24} {row['seconds']:8.3f} s")
print(f"  decode on CUDA: {result['decode_speedup']}x the CPU; same words: {result['same_words']}")
print(f"  answer on CUDA: {result['answer_speedup']}x the CPU; same answer: {result['same_answer']}")
EOF
