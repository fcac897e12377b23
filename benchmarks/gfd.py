"""GFD (Whisper + LLM byte-level fusion) vs plain beam search on speech dense with rare names.

Two sets of recordings, built differently:

  tune    sentences of a cloud-operations meeting (Kubernetes, Siobhan, ...), the 8 built-in
          espeak/flite voices, pink noise: the settings of the fusion were chosen on this set;
  report  sentences of a clinic-and-travel team (Okafor, Thessaloniki, metformin, ...), other
          voices (hibari's neural "heart" voice at three speeds, flite's 8 kHz "kal", none of
          them in the built-in set), white noise, and a glossary prompt worded differently.

Each clip is decoded clean and at the SNRs asked for, the noisy ones with several noise seeds,
by every system with the same beam rules (tiny.en in transformers, 5 beams, top-5 candidates):

  plain           the beam search ranked by Whisper alone (r = 0)
  gfd_paper       r = 0.2 as the paper (no margin, no terms, no guard), glossary prompt
  gfd             the defaults (acoustic margin 0.03, segment guard 0.2), no prompt
  gfd_glossary    the defaults with the glossary prompt: its rare words are offered to the
                  search (term margin 5, glossary margin 0.1)

Every clip is transcribed as the engine transcribes a chunk of a recording: the search, then
the guards (a looping or too unlikely text is decoded again with temperature fallback,
silence is dropped) and word alignment. Reported per condition (mean over noise seeds): WER
(Whisper normaliser + jiwer), recall of the rare terms, time with ratios to plain, and which
decoder made each segment (gfd, plain when the segment guard kept it, fallback). Goals: no system worse than plain by more than 0.5 WER points in
any condition; >= 10 % relative WER reduction with the glossary; time <= 1.5x plain.

    .venv/bin/python benchmarks/gfd.py --set report --seeds 3 --out benchmarks/results
    .venv/bin/python benchmarks/gfd.py --set tune --seeds 1 --conditions clean,snr10,snr5 \\
        --variant "m1:acoustic_margin=1" --variant "m3:acoustic_margin=3"
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import time
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
import soxr
import torch

from longspeech.asr import AsrOptions
from longspeech.audio import AudioChunk
from longspeech.asr.gfd_engine import GfdEngine
from longspeech.eval import normalize, word_error_rate
from longspeech.fusion import FusionOptions
from longspeech.synth.noise import NoiseStream
from longspeech.synth.render import render_sentence
from longspeech.synth.voices import DEFAULT_VOICES, Voice
from longspeech.types import Chunk


@dataclass(frozen=True)
class ClipSet:
    sentences: tuple[str, ...]
    terms: tuple[str, ...]
    glossary: str
    voices: tuple[str | Voice, ...]      # "hibari:<speed>" or a built-in engine's voice
    noise: str


TUNE_TERMS = ("Kubernetes", "PostgreSQL", "Terraform", "Grafana", "Prometheus", "Ansible",
              "Kafka", "Nginx", "Redis", "Elasticsearch", "Jenkins", "Siobhan", "Nguyen",
              "Dijkstra", "Okonkwo", "Saoirse")
REPORT_TERMS = ("Okafor", "Wojciechowski", "Thessaloniki", "Rachmaninoff", "Nakamura",
                "Jupyter", "Reykjavik", "Salesforce", "metformin", "ibuprofen", "Kowalczyk",
                "Xiaoling", "Tbilisi")

SETS = {
    "tune": ClipSet(
        sentences=(
            "We deployed the billing service on Kubernetes last week.",
            "The customer data is stored in PostgreSQL on the main server.",
            "Siobhan wrote the Terraform module for the new network.",
            "Open the Grafana dashboard to check the latency.",
            "Prometheus sends an alert when the disk is almost full.",
            "Ansible runs the deployment scripts every night.",
            "The events are streamed through Kafka to the warehouse.",
            "Nguyen moved the Nginx proxy to a bigger machine.",
            "We cache the session tokens in Redis for one hour.",
            "The search index lives in Elasticsearch and grows quickly.",
            "Jenkins failed the build because a test timed out.",
            "Dijkstra's algorithm finds the shortest route between the sites.",
            "Okonkwo will review the Kubernetes upgrade plan on Monday.",
            "Saoirse asked whether Redis can replace the old queue.",
            "The Grafana alerts now go straight to Siobhan's phone.",
            "Before the release, Nguyen checks the PostgreSQL backups."),
        terms=TUNE_TERMS,
        glossary="Glossary of names and terms in this meeting: " + ", ".join(TUNE_TERMS) + ".",
        voices=DEFAULT_VOICES, noise="pink"),
    "report": ClipSet(
        sentences=(
            "Doctor Okafor moved the clinic meeting to Thursday afternoon.",
            "Wojciechowski booked the flights to Thessaloniki for the conference.",
            "The orchestra will play Rachmaninoff at the opening concert.",
            "Nakamura sent the Jupyter notebook with the new results.",
            "Our team in Reykjavik tracks every order in Salesforce.",
            "The patient takes metformin twice a day with food.",
            "Kowalczyk said the ibuprofen order arrives on Monday.",
            "Xiaoling is presenting the survey from Tbilisi next week.",
            "Please ask Okafor whether the Salesforce licence was renewed.",
            "The Thessaloniki office opens at nine in the morning.",
            "Nakamura and Kowalczyk share the night shift this month.",
            "Reykjavik was colder than Tbilisi during the whole trip.",
            "Xiaoling found a bug in the Jupyter server last night.",
            "Wojciechowski plays Rachmaninoff on the old piano.",
            "The nurse wrote metformin and ibuprofen on the chart.",
            "Kowalczyk drove from Thessaloniki to the airport."),
        terms=REPORT_TERMS,
        glossary="People, places and products mentioned: " + "; ".join(REPORT_TERMS) + ".",
        voices=("hibari:1.0", Voice("flite", "kal"), "hibari:0.9", "hibari:1.1"),
        noise="white"),
}
CONDITIONS = {"clean": None, "snr20": 20.0, "snr10": 10.0, "snr5": 5.0, "snr0": 0.0}
GOAL_POINTS = 0.5        # WER points a system may lose against plain in any condition


def render(voice: str | Voice, text: str) -> np.ndarray:
    if isinstance(voice, Voice):
        return render_sentence(voice, text).audio
    from hibari import SAMPLE_RATE, Hibari

    speed = float(voice.split(":")[1])
    x = Hibari()(text, speed=speed, seed=0)
    y = soxr.resample(x.astype(np.float64), SAMPLE_RATE, 16000, quality="HQ")
    return (y * 0.05 / max(1e-6, float(np.sqrt(np.mean(y ** 2))))).astype(np.float32)


def clips(s: ClipSet, n: int) -> list[tuple[str, np.ndarray]]:
    """n sentences, each spoken by the next voice of the set, 0.3 s of silence around."""
    pad = np.zeros(4800, np.float32)
    return [(s.sentences[i % len(s.sentences)],
             np.concatenate([pad, render(s.voices[i % len(s.voices)],
                                         s.sentences[i % len(s.sentences)]), pad]))
            for i in range(n)]


def add_noise(x: np.ndarray, kind: str, snr_db: float | None, seed: int) -> np.ndarray:
    if snr_db is None:
        return x
    speech = x[np.abs(x) > 1e-4]
    rms = float(np.sqrt(np.mean(speech.astype(np.float64) ** 2)))
    y = x + NoiseStream(kind, seed).next(len(x)) * rms / 10 ** (snr_db / 20)
    return np.clip(y, -1, 1).astype(np.float32)


def term_hits(terms: tuple[str, ...], ref: str, hyp: str) -> tuple[int, int]:
    """(terms of ref found in hyp, terms in ref), compared after Whisper's normaliser."""
    h = f" {normalize(hyp)} "
    found = total = 0
    for t in terms:
        n = len(re.findall(rf"\b{t}\b", ref))
        if n:
            total += n
            found += min(n, h.count(f" {normalize(t)} "))
    return found, total


def transcribe_clip(engine: GfdEngine, x: np.ndarray) -> tuple[str, list[str]]:
    """The clip as the engine transcribes a chunk of a recording, with its guards (temperature
    fallback for a looping or unlikely text, silence): its text and which decoder made each
    segment (gfd, plain when the segment guard kept the plain search, fallback)."""
    segs = engine.transcribe_batch([AudioChunk(Chunk("clip", 0, 0.0, len(x) / 16000), x)],
                                   "en")[0]
    return " ".join(s.text.strip() for s in segs).strip(), [s.decoder or "" for s in segs]


def parse_variant(spec: str) -> tuple[str, dict, bool]:
    """"name[+glossary]:key=value,..." -> (name, FusionOptions overrides, glossary?)."""
    name, _, body = spec.partition(":")
    known = {f.name: f.type for f in fields(FusionOptions)}
    over = {}
    for item in filter(None, body.split(",")):
        key, _, value = item.partition("=")
        if key not in known:
            raise SystemExit(f"unknown fusion option {key!r}")
        over[key] = None if value == "none" else int(value) if key == "term_limit" \
            else float(value)
    return name.removesuffix("+glossary"), over, name.endswith("+glossary")


PAPER = {"acoustic_margin": None, "term_margin": None, "guard": None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", choices=sorted(SETS), default="report")
    ap.add_argument("--clips", type=int, default=16)
    ap.add_argument("--seeds", type=int, default=3, help="noise renderings per noisy condition")
    ap.add_argument("--conditions", default="clean,snr20,snr10,snr5")
    ap.add_argument("--llm-dtype", default="auto", help="auto (int8 on the CPU), float32 or int8")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    ap.add_argument("--variant", action="append", default=[],
                    help="extra system NAME[+glossary]:option=value,... (replaces the "
                    "default systems but plain)")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cset = SETS[args.set]
    conditions = [c for c in args.conditions.split(",") if c]
    if args.variant:
        table = {n: (o, g) for n, o, g in map(parse_variant, args.variant)}
    else:
        table = {"gfd_paper": (PAPER, True), "gfd": ({}, False), "gfd_glossary": ({}, True)}

    t0 = time.perf_counter()
    data = clips(cset, args.clips)
    render_s = time.perf_counter() - t0
    base = GfdEngine(AsrOptions(engine="gfd", fusion=FusionOptions(
        weight=0.2, llm_dtype=args.llm_dtype)))
    asr = base.asr()

    def engine(over: dict, glossary: bool) -> GfdEngine:
        f = FusionOptions(**{**over, "llm_dtype": args.llm_dtype,
                             "prompt": cset.glossary if glossary else ""})
        e = GfdEngine(AsrOptions(engine="gfd", fusion=replace(f, weight=0.0)), asr=asr)
        e.fusion = f
        # one LLM and int8 copy for all systems, a prompt cache for each (as each engine of
        # a user has): a shared one would read the prompt again wherever systems alternate
        e.scorer = base.scorer.sibling() if f.weight > 0 else None
        return e

    decoders = {"plain": engine({"weight": 0.0}, False)}
    decoders.update({n: engine(o, g) for n, (o, g) in table.items()})
    decoders["gfd" if "gfd" in decoders else next(iter(table))].decode(data[0][1][:16000])

    results: dict[str, dict] = {}
    examples = []
    refs = [t for t, _ in data]
    for cond in conditions:
        seeds = [0] if CONDITIONS[cond] is None else list(range(args.seeds))
        per_seed: dict[str, list[dict]] = {s: [] for s in decoders}
        for seed in seeds:
            hyps: dict[str, list[str]] = {s: [] for s in decoders}
            secs = {s: 0.0 for s in decoders}
            decided: dict[str, dict[str, int]] = {s: {} for s in decoders}
            for i, (text, x) in enumerate(data):
                y = add_noise(x, cset.noise, CONDITIONS[cond], 1000 * seed + i)
                for name, dec in decoders.items():
                    t = time.perf_counter()
                    text_, made = transcribe_clip(dec, y)
                    secs[name] += time.perf_counter() - t
                    hyps[name].append(text_)
                    for d in made:
                        decided[name][d] = decided[name].get(d, 0) + 1
                if len({hyps[s][-1] for s in decoders}) > 1 and len(examples) < 24:
                    examples.append({"condition": cond, "seed": seed, "ref": text,
                                     **{s: hyps[s][-1] for s in decoders}})
            for name in decoders:
                hits = [term_hits(cset.terms, r, h) for r, h in zip(refs, hyps[name])]
                per_seed[name].append({
                    "wer": word_error_rate(refs, hyps[name]),
                    "term_recall": sum(f for f, _ in hits) / max(1, sum(t for _, t in hits)),
                    "seconds": secs[name], "decoders": decided[name]})
        row = {}
        for name, runs in per_seed.items():
            row[name] = {k: round(float(np.mean([r[k] for r in runs])), 4)
                         for k in ("wer", "term_recall", "seconds")}
            row[name]["segments_by_decoder"] = {
                d: sum(r["decoders"].get(d, 0) for r in runs)
                for d in sorted({d for r in runs for d in r["decoders"]})}
            row[name]["wer_per_seed"] = [round(r["wer"], 4) for r in runs]
        for name in table:
            row[name]["wer_points_vs_plain"] = round(
                100 * (row[name]["wer"] - row["plain"]["wer"]), 2)
            row[name]["time_ratio"] = round(row[name]["seconds"] / row["plain"]["seconds"], 3)
        results[cond] = {"seeds": len(seeds), **row}

    summary = {}
    for name in decoders:
        wer = float(np.mean([results[c][name]["wer"] for c in conditions]))
        summary[name] = {
            "mean_wer": round(wer, 4),
            "mean_term_recall": round(float(np.mean(
                [results[c][name]["term_recall"] for c in conditions])), 4)}
        if name != "plain":
            plain = summary["plain"]["mean_wer"]
            summary[name]["rel_wer_reduction"] = round(1 - wer / plain, 4) if plain else None
            summary[name]["worst_points_vs_plain"] = max(
                results[c][name]["wer_points_vs_plain"] for c in conditions)
            summary[name]["time_ratio"] = round(
                sum(results[c][name]["seconds"] for c in conditions)
                / sum(results[c]["plain"]["seconds"] for c in conditions), 3)
    goals = {f"{n}: never worse than plain by > {GOAL_POINTS} points":
             summary[n]["worst_points_vs_plain"] <= GOAL_POINTS for n in table}
    if "gfd_glossary" in summary:
        goals["gfd_glossary: rel. WER reduction >= 10%"] = \
            summary["gfd_glossary"]["rel_wer_reduction"] >= 0.10
        goals["gfd_glossary: time <= 1.5x plain"] = summary["gfd_glossary"]["time_ratio"] <= 1.5
    report = {
        "benchmark": "gfd", "set": args.set,
        "command": "python benchmarks/gfd.py " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()
            if k not in ("out", "variant")) + "".join(f" --variant {v!r}" for v in args.variant),
        "asr": "tiny.en (transformers, float32)",
        "llm": f"smollm2 (SmolLM2-135M-Instruct), steps in {args.llm_dtype}",
        "systems": {"plain": {"weight": 0.0},
                    **{n: {**FusionOptions(**o).__dict__, "prompt": g}
                       for n, (o, g) in table.items()}},
        "clips": args.clips, "glossary_prompt": cset.glossary, "noise": cset.noise,
        "voices": [v if isinstance(v, str) else v.label for v in cset.voices],
        "conditions": results, "summary": summary, "goals": goals, "examples": examples,
        "machine": {"cpu_threads": torch.get_num_threads(), "platform": platform.platform(),
                    "torch": torch.__version__},
        "wall_seconds": round(time.perf_counter() - t0, 1), "render_seconds": round(render_s, 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / ("gfd.json" if args.set == "report" and not args.variant
                       else f"gfd_{args.set}.json")
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({"summary": summary, "goals": goals,
                      "wall_seconds": report["wall_seconds"]}, indent=2))


if __name__ == "__main__":
    main()
