"""The embedded speech-language model (tiny.en encoder + projector + SmolLM2-135M) with
FastLongSpeech compression: ASR by window, latency with and without compression, spoken QA
on long recordings against the cascade and the AvgPool / random-selection baselines.

    .venv/bin/python benchmarks/lslm.py --out benchmarks/results

1. ASR through the LSLM at windows L: held-out runs of --asr-span sentences (8: about 30 s,
   ~700 frames at 25 Hz), so L = 750 leaves them whole and 400, 200, 100, ... compress them
   ~2x, 3.5x, 7x, ...; WER per L shows where compression starts to cost words.
2. Latency of one answer about a --latency-minutes recording: encoder states -> fusion to
   L=750 -> LLM, against the same LLM reading all states uncompressed; wall time and an
   analytic FLOPs estimate of the LLM prefill.
3. Spoken QA: synthetic recordings of --qa-minutes with facts spoken at random positions;
   accuracy (the answer's key words in the reply) of lslm with fusion / AvgPool / random
   selection at L=750, and of the cascade (tiny.en transcript with times and speakers ->
   SmolLM2), all with the same LLM.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import random
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from longspeech.compression import CompressionOptions
from longspeech.speechlm.training import SpeechDataOptions, facts, key_in_reply
from longspeech.speechlm.training.data import load_utterances
from longspeech.eval import word_error_rate
from longspeech.speechlm import TRANSCRIBE, load_speechlm
from longspeech.qa.cascade import answer_from_transcript


def asr_by_window(slm, encoder, windows: list[int], items: int, span: int) -> dict:
    held = load_utterances(SpeechDataOptions(sentences=max(40, 3 * items * span), facts=0,
                                             seed=1000, spans=(span,)), encoder)
    full = max(u.frames for u in held)
    held = [u for u in held if u.frames >= 0.75 * full][:items]  # whole runs, not clip tails
    comp = CompressionOptions(method="fusion", schedule="halving")
    longest = max(u.frames for u in held)
    rows: dict[str, dict] = {}
    uncompressed: list[str] | None = None
    for w in sorted(windows, reverse=True):
        t0 = time.perf_counter()
        if w >= longest and uncompressed is not None:
            hyps = uncompressed  # no clip is longer than L: the same input as the row above
        else:
            hyps = [slm.generate(u.states, TRANSCRIBE, w, comp,
                                 max_new_tokens=40 * span) for u in held]
        if w >= longest:
            uncompressed = hyps
        rows[str(w)] = {"wer": round(word_error_rate([u.text for u in held], hyps), 4),
                        "compressed_clips": sum(u.frames > w for u in held),
                        "mean_frames_in": round(float(np.mean([u.frames for u in held])), 1),
                        "mean_frames_out": round(float(np.mean([min(u.frames, w)
                                                                 for u in held])), 1),
                        "seconds": round(time.perf_counter() - t0, 1),
                        "examples": [{"ref": u.text, "hyp": h} for u, h in
                                     list(zip(held, hyps))[:3]]}
    return {"items": len(held), "sentences_per_clip": span, "longest_clip_frames": longest,
            "windows": rows}


def llm_prefill_flops(config, tokens: int) -> float:
    """Forward FLOPs of a Llama-style decoder reading `tokens` positions: 2 per weight per
    token for the attention and MLP projections, the causal attention itself (QK^T and AV:
    4 x layers x heads x head_dim x T^2 / 2), and the output layer at the last position."""
    h, layers, inter = config.hidden_size, config.num_hidden_layers, config.intermediate_size
    heads, kv = config.num_attention_heads, config.num_key_value_heads
    hd = getattr(config, "head_dim", None) or h // heads
    weights = layers * (2 * h * heads * hd + 2 * h * kv * hd + 3 * h * inter)
    attention = 4 * layers * heads * hd * tokens * tokens / 2
    return float(2 * weights * tokens + attention + 2 * h * config.vocab_size)


def encoder_flops(config, clips: int) -> float:
    """Forward FLOPs of a Whisper encoder over `clips` 30 s clips (1500 positions each): the
    two convolutions, 2 per weight per position in the layers, and full attention."""
    d, layers, ffn, mels = (config.d_model, config.encoder_layers, config.encoder_ffn_dim,
                            config.num_mel_bins)
    t = config.max_source_positions
    conv = 2 * (2 * t) * mels * d * 3 + 2 * t * d * d * 3
    per_layer = 2 * t * (4 * d * d + 2 * d * ffn) + 4 * t * t * d
    return float(clips * (conv + layers * per_layer))


def synth_long(out: Path, minutes: float, seed: int, n_facts: int):
    """A 2-voice synthetic recording with facts spliced in at random sentence boundaries.
    Returns (audio path, [(fact, time)], reference transcript)."""
    from longspeech.synth import DEFAULT_CACHE, RecordingSpec, make_recording
    from longspeech.types import Segment

    rec = make_recording(RecordingSpec(seed=seed, duration=minutes * 60, speakers=2))
    audio = rec.audio()
    rng = random.Random(seed)
    chosen = facts(2000 + seed, n_facts)
    ordered = sorted(rec.sentences, key=lambda s: s.end_sample)
    cuts = sorted(rng.sample(range(len(ordered) - 1), n_facts))
    pieces, placed, segs, pos, shift = [], [], [], 0, 0
    gap = np.zeros(8000, np.float32)
    fact_at = {c: f for c, f in zip(cuts, chosen)}
    for k, s in enumerate(ordered):
        segs.append(Segment(round((s.start_sample + shift) / 16000, 3),
                            round((s.end_sample + shift) / 16000, 3), s.text, [], s.speaker))
        if k in fact_at:
            cut = s.end_sample + 4000
            voice = rec.voices[s.speaker]
            r = DEFAULT_CACHE.get(voice, fact_at[k].sentence)
            pieces += [audio[pos:cut], gap, r.audio, gap]
            t = (cut + shift + len(gap)) / 16000
            placed.append((fact_at[k], round(t, 2)))
            segs.append(Segment(round(t + r.speech_start / 16000, 3),
                                round(t + r.speech_end / 16000, 3), r.text, [], s.speaker))
            shift += 2 * len(gap) + len(r.audio)
            pos = cut
    pieces.append(audio[pos:])
    path = out / f"qa_{minutes:g}min_seed{seed}.wav"
    sf.write(path, np.concatenate(pieces), 16000, subtype="PCM_16")
    return path, placed, segs


def spoken_qa(slm, loaded, minutes: list[float], n_facts: int, out: Path) -> dict:
    from longspeech.api import transcribe
    from longspeech.encoders import encode_file
    from longspeech.types import Recording, Transcript

    methods = ["fusion", "avgpool", "random", "mostsim"]
    score = {m: 0 for m in methods} | {"cascade_asr": 0, "cascade_reference": 0}
    rows, total = [], 0
    for i, m in enumerate(minutes):
        path, placed, ref_segs = synth_long(out, m, seed=100 + i, n_facts=n_facts)
        t0 = time.perf_counter()
        states = np.asarray(encode_file(loaded.encoder, path).states)
        enc_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        tr = transcribe(path)
        asr_s = time.perf_counter() - t0
        ref = Transcript(Recording(path.stem, str(path), m * 60, 16000, 1), "en", ref_segs,
                         sorted({s.speaker for s in ref_segs if s.speaker}), {})
        for fact, at in placed:
            qa = fact.qas[0]
            row = {"minutes": m, "fact": fact.sentence, "at_s": at, "question": qa.question,
                   "key": qa.key, "frames": len(states)}
            for meth in methods:
                reply = slm.generate(states, qa.question, 750,
                                     CompressionOptions(method=meth, schedule="halving"),
                                     max_new_tokens=24)
                ok = key_in_reply(qa.key, reply)
                score[meth] += ok
                row[meth] = {"reply": reply, "correct": ok}
            for name, t in (("cascade_asr", tr), ("cascade_reference", ref)):
                t1 = time.perf_counter()
                reply = answer_from_transcript(loaded.model.llm, t, qa.question, 24)
                ok = key_in_reply(qa.key, reply)
                score[name] += ok
                row[name] = {"reply": reply, "correct": ok,
                             "seconds": round(time.perf_counter() - t1, 1)}
            row["encode_seconds"], row["asr_seconds"] = round(enc_s, 1), round(asr_s, 1)
            rows.append(row)
            total += 1
    return {"questions": total, "accuracy": {k: round(v / total, 3) for k, v in score.items()},
            "items": rows}


def latency(slm, loaded, minutes: float, out: Path, uncompressed: bool) -> dict:
    from longspeech.encoders import encode_file
    from longspeech.synth import RecordingSpec, write_recording

    paths = write_recording(RecordingSpec(seed=7, duration=minutes * 60, speakers=2), out,
                            f"latency_{minutes:g}min")
    t0 = time.perf_counter()
    states = np.asarray(encode_file(loaded.encoder.with_options(cache=False),
                                    paths.audio).states)
    enc_s = time.perf_counter() - t0
    q = "What is this recording about?"
    cfg = slm.causal_lm.config
    res = {"minutes": minutes, "frames": len(states), "encode_seconds": round(enc_s, 1)}
    prompt = len(slm.prompt(q).prefix) + len(slm.prompt(q).suffix)

    def answer(window: int) -> tuple[float, float, int]:
        t0 = time.perf_counter()
        x, n = slm.compress([states], window, CompressionOptions(schedule="halving"))
        t1 = time.perf_counter()
        slm.generate_from(slm.project(x), n, q, max_new_tokens=8)
        return t1 - t0, time.perf_counter() - t1, int(n[0])

    comp_s, llm_s, kept = answer(750)
    res["compressed"] = {"window": 750, "tokens": kept + prompt,
                         "compress_seconds": round(comp_s, 2), "llm_seconds": round(llm_s, 1),
                         "llm_prefill_tflops": round(llm_prefill_flops(cfg, kept + prompt)
                                                     / 1e12, 3)}
    full = len(states) + prompt
    res["uncompressed"] = {"tokens": full,
                           "llm_prefill_tflops": round(llm_prefill_flops(cfg, full) / 1e12, 3)}
    if uncompressed:
        _, llm_full, _ = answer(len(states))
        res["uncompressed"]["llm_seconds"] = round(llm_full, 1)
        res["ratio_end_to_end"] = round((enc_s + comp_s + llm_s) / (enc_s + llm_full), 3)
        res["ratio_llm"] = round((comp_s + llm_s) / llm_full, 3)
    enc_tflops = encoder_flops(loaded.encoder.encoder.config,
                               math.ceil(minutes * 60 / 30)) / 1e12
    res["encoder_tflops"] = round(enc_tflops, 3)
    res["ratio_flops_llm"] = round(res["compressed"]["llm_prefill_tflops"]
                                   / res["uncompressed"]["llm_prefill_tflops"], 4)
    res["ratio_flops_end_to_end"] = round(
        (enc_tflops + res["compressed"]["llm_prefill_tflops"])
        / (enc_tflops + res["uncompressed"]["llm_prefill_tflops"]), 4)
    return res


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--out", default="benchmarks/results")
    p.add_argument("--model-dir", default=None)
    p.add_argument("--asr-items", type=int, default=12)
    p.add_argument("--asr-span", type=int, default=8,
                   help="held-out sentences per ASR clip (8: about 30 s, ~700 frames)")
    p.add_argument("--windows", default="750,400,200,100,50,25")
    p.add_argument("--latency-minutes", type=float, default=10.0)
    p.add_argument("--no-uncompressed", action="store_true",
                   help="skip timing the uncompressed LLM pass (FLOPs estimate only)")
    p.add_argument("--qa-minutes", default="2,5,10,30")
    p.add_argument("--facts", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--skip", default="", help="comma list of parts to skip: asr,latency,qa")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    out = Path(a.out)
    work = out / "audio" / "lslm"
    work.mkdir(parents=True, exist_ok=True)
    loaded = load_speechlm(a.model_dir)
    slm = loaded.model
    skip = set(filter(None, a.skip.split(",")))
    result: dict = {"machine": {"cpu_threads": a.threads, "platform": platform.platform()},
                    "model_dir": str(loaded.directory),
                    "training": {k: loaded.manifest.get(k, {}).get("metrics")
                                 for k in ("ctc", "lslm")}}
    path = out / "lslm.json"
    if path.exists():
        result = {**json.loads(path.read_text()), **result}

    def save() -> None:
        path.write_text(json.dumps(result, indent=1) + "\n")

    if "asr" not in skip:
        result["asr_by_window"] = asr_by_window(
            slm, loaded.encoder, [int(w) for w in a.windows.split(",")], a.asr_items,
            a.asr_span)
        save()
    if "latency" not in skip:
        result["latency"] = latency(slm, loaded, a.latency_minutes, work,
                                    not a.no_uncompressed)
        save()
    if "qa" not in skip:
        result["spoken_qa"] = spoken_qa(slm, loaded,
                                        [float(m) for m in a.qa_minutes.split(",")],
                                        a.facts, work)
        save()
    print(json.dumps({k: v for k, v in result.items() if k != "spoken_qa"}, indent=1)[:4000])
    if "spoken_qa" in result:
        print(json.dumps(result["spoken_qa"]["accuracy"]))


if __name__ == "__main__":
    main()
