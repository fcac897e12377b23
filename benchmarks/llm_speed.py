"""How fast the LLM stages run on this machine: correction and cascade answers, before
(transformers' generate() over the whole chat at every call), with the previous session (the
cache of what calls share reused, copied once per reply of a batch, one token a forward
pass) and now (the shared prompt's cache read by every reply without a copy, and tokens
copied from the prompt checked several per pass).

Correction runs on the transcript of a synthetic meeting (seed 910, used nowhere else):
x realtime of the correction alone (LLM loaded), the edits it proposes and accepts, and
whether turn_batch=1 keeps every decision of the old path. The job rows time
`longspeech transcribe` with and without --correct as fresh processes. Answers: the cascade's
latency per question on the transcript of a longer meeting (seed 911), and the speech-LM's
once the recording's encoder states are cached.

    .venv/bin/python benchmarks/llm_speed.py --minutes 3 --qa-minutes 60
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
WINDOW = 750           # speech vectors the speech-LM reads (the `ask` default)
# `longspeech transcribe --correct` with the previous session, as a fresh process.
PREVIOUS_JOB = """
import sys
sys.path.insert(0, %r)
from llm_speed import previous_session
from longspeech.cli import main
with previous_session():
    sys.argv = ["longspeech", "transcribe", sys.argv[1], "-o", sys.argv[2], "--no-resume",
                "--correct"]
    main()
""" % str(Path(__file__).resolve().parent)
QUESTIONS = ("Who talks about the budget?", "What did they decide about the report?",
             "Which city is mentioned?")


def transformers_reply(llm, messages, max_new_tokens: int) -> str:
    """The old path: transformers' generate() reads the whole chat at every call."""
    import torch

    tok = llm.tokenizer
    enc = tok.apply_chat_template(list(messages), add_generation_prompt=True,
                                  return_dict=True, return_tensors="pt")
    with torch.inference_mode():
        out = llm.model.generate(enc["input_ids"], attention_mask=enc["attention_mask"],
                                 max_new_tokens=max_new_tokens, do_sample=False,
                                 temperature=None, top_k=None, top_p=None,
                                 pad_token_id=tok.eos_token_id)
    return tok.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True).strip()


def old_many(llm, convs, budgets, repetition_penalty=None, complete=None):
    return [transformers_reply(llm, c, n) for c, n in zip(convs, budgets)]


def meeting(d: Path, seed: int, minutes: float, speakers: int) -> Path:
    from longspeech.synth import RecordingSpec, write_recording

    return Path(write_recording(RecordingSpec(seed=seed, duration=minutes * 60,
                                              speakers=speakers), d, f"meeting{seed}").audio)


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[:3]} failed:\n{proc.stderr[-2000:]}")
    return time.perf_counter() - t0


@contextlib.contextmanager
def previous_session():
    """The session as it was before the shared-prompt attention and the prompt-lookup
    drafts: the shared cache copied per reply, one token a forward pass."""
    import longspeech.llm.session as session
    import longspeech.llm.shared_prefix as shared_prefix

    saved = session.DRAFT_TOKENS, shared_prefix.supports
    session.DRAFT_TOKENS, shared_prefix.supports = 0, lambda model: False
    try:
        yield
    finally:
        session.DRAFT_TOKENS, shared_prefix.supports = saved


def correction_rows(tr, audio: Path) -> list[dict]:
    import longspeech.correction.correct as correct
    from longspeech.correction import CorrectionOptions, correct_transcript

    rows = []
    decisions = {}
    # (name, turn_batch, path, the run whose decisions it must repeat)
    runs = (("before: transformers generate() per turn", 1, "generate", None),
            ("session, turn_batch 1, cache copied, a token a pass", 1, "previous", 0),
            ("session, turn_batch 1, shared prompt + drafts", 1, "now", 0),
            ("session, turn_batch 8, cache copied, a token a pass", 8, "previous", None),
            ("session, turn_batch 8, shared prompt + drafts (default)", 8, "now", 3))
    for k, (name, batch, path, same_as) in enumerate(runs):
        saved = correct.generate_many
        if path == "generate":
            correct.generate_many = old_many
        try:
            with previous_session() if path == "previous" else contextlib.nullcontext():
                t0 = time.perf_counter()
                fixed = correct_transcript(tr, audio, replace(CorrectionOptions(),
                                                              turn_batch=batch))
                seconds = time.perf_counter() - t0
        finally:
            correct.generate_many = saved
        recs = [(r["segment"], r["original"], r["corrected"], r["accepted"])
                for r in fixed.provenance["corrections"]]
        decisions[k] = recs
        rows.append({"run": name, "seconds": round(seconds, 1),
                     "x_realtime": round(tr.recording.duration / seconds, 2),
                     "turns": fixed.provenance["correction"]["turns"],
                     "proposed": len(recs), "accepted": sum(r[3] for r in recs),
                     "same_decisions_as": None if same_as is None else runs[same_as][0],
                     "same_decisions": None if same_as is None else recs == decisions[same_as]})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def answer_rows(tr, audio: Path) -> list[dict]:
    import longspeech.qa.cascade as cascade
    from longspeech.llm import load_llm
    from longspeech.qa.answer import AskOptions, answer_cascade, answer_lslm

    load_llm("smollm2")
    rows = []
    saved = cascade.generate_many
    for name, path in (("cascade, before (transformers generate())", "generate"),
                       ("cascade, previous session", "previous"),
                       ("cascade, session (shared prompt + drafts)", "now")):
        if path == "generate":
            cascade.generate_many = old_many
        try:
            with previous_session() if path == "previous" else contextlib.nullcontext():
                for q in QUESTIONS:
                    a = answer_cascade(tr, q, AskOptions())
                    rows.append({"run": name, "question": q, "seconds": round(a.seconds, 2),
                                 "answer": a.text})
                    print(json.dumps(rows[-1]), flush=True)
        finally:
            cascade.generate_many = saved
    opts = AskOptions()
    answer_lslm(audio, QUESTIONS[0], WINDOW, opts)     # encodes and caches the states
    for q in QUESTIONS:
        a = answer_lslm(audio, q, WINDOW, opts)
        rows.append({"run": "speech-LM (encoder states cached)", "question": q,
                     "seconds": round(a.seconds, 2), "answer": a.text})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=3.0, help="the corrected meeting")
    ap.add_argument("--qa-minutes", type=float, default=60.0, help="the questioned meeting")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "llm_speed.json")
    a = ap.parse_args()
    from longspeech.api import transcribe

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        audio = meeting(d, 910, a.minutes, 3)
        plain = timed([str(BIN / "longspeech"), "transcribe", str(audio), "-o", str(d / "plain"),
                       "--no-resume"])
        corrected = timed([str(BIN / "longspeech"), "transcribe", str(audio), "-o",
                           str(d / "corr"), "--no-resume", "--correct"])
        with_previous = timed([sys.executable, "-c", PREVIOUS_JOB, str(audio), str(d / "prev")])
        job = {"plain_s": round(plain, 1), "with_correct_s": round(corrected, 1),
               "ratio": round(corrected / plain, 2),
               "with_correct_previous_session_s": round(with_previous, 1),
               "ratio_previous_session": round(with_previous / plain, 2)}
        print(json.dumps(job), flush=True)
        rows = correction_rows(transcribe(audio), audio)
        qa_audio = meeting(d, 911, a.qa_minutes, 4)
        answers = answer_rows(transcribe(qa_audio), qa_audio)
    result = {"command": "benchmarks/llm_speed.py " + " ".join(sys.argv[1:]),
              "cpus": os.cpu_count(), "corrected_minutes": a.minutes,
              "questioned_minutes": a.qa_minutes, "job": job, "correction": rows,
              "answers": answers}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
