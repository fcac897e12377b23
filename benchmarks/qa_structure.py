"""Questions about a recording's structure, asked of `longspeech ask --mode cascade` on
diarized transcripts, scored against the synthetic recordings' exact ground truth.

Two sources built differently: the project's generator (its sentence corpus and first
voices) and recordings of other texts (conversational lines written here, with names, places
and numbers) spoken by other voices. Nothing was tuned on either. Question types:
  count       "How many speakers are there?"                 right: the true count
  talk_time   "How long did SPEAKER_01 talk?"                 right: within 10% (or 5 s) of the
                                                              true talk time of the voice that
                                                              label mostly covers
  who_said    "Who said '<8 words of a sentence>'?"           right: the label's voice said it
  when        "When did someone say '<words>'?"               right: within 30 s of its start
  around      "What was said around minute M?"                right: the answer holds half the
                                                              words of the sentence spoken then
  needle      fact questions on the other texts               right: the answer holds the fact's
                                                              word (a name, place or number);
                                                              also counted among the questions
                                                              whose transcript holds that word
Evidence: right when a quoted span starts within 30 s of the fact (who_said, when, around,
needle). Needles are asked of the speech-LM too (--mode lslm).

    .venv/bin/python benchmarks/qa_structure.py --files 3 --minutes 10
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

OTHER_TEXTS = (
    "Hi everyone, thanks for joining the call this morning.",
    "Priya, could you walk us through the shipping numbers first?",
    "Sure, we moved four hundred crates through Rotterdam last week.",
    "That is more than we planned for the whole month.",
    "The warehouse in Lyon is still waiting for its new forklifts.",
    "I spoke with Tomasz about the delay on Tuesday afternoon.",
    "He thinks the parts will arrive before the twentieth.",
    "Can we get a written promise from the supplier on that?",
    "I will ask legal to draft a short letter today.",
    "Moving on, the marketing budget needs a decision.",
    "We asked for eighty thousand euros for the spring campaign.",
    "The board approved sixty, so something has to give.",
    "Let us cut the radio spots and keep the podcast sponsorship.",
    "Our listeners in Dublin responded well to the last episode.",
    "Did anyone check the survey results from the trade fair?",
    "Yes, most visitors asked about the battery warranty.",
    "Then the warranty page on our site needs a rewrite.",
    "Marcus can take that, he wrote the original version.",
    "Please keep it under five hundred words this time.",
    "One more thing, the office in Porto closes on Friday at noon.",
    "Remember to book your train tickets for the offsite in March.",
    "The hotel near the river has rooms for thirty people.",
    "I would rather we met somewhere with better coffee.",
    "Fair point, I will look for a place in the old town.",
    "Who is presenting the quarterly review to the investors?",
    "Helena offered to do it, with help from the finance team.",
    "The slides should be ready by the end of next week.",
    "Let us also invite the new engineers from the Krakow office.",
    "They start on Monday and could use a friendly welcome.",
    "I booked the small meeting room for their first morning.",
    "Is the printer on the third floor working again?",
    "No, the technician comes back on Thursday with a new drum.",
    "We should think about replacing it rather than fixing it.",
    "Send me two or three quotes and I will approve one.",
    "The customer in Oslo asked for a discount on the second order.",
    "We can offer seven percent if they pay within thirty days.",
    "That sounds reasonable, let me know how they respond.",
    "I have to leave at half past eleven for a dentist appointment.",
    "No problem, we can share the notes with you afterwards.",
    "Thanks everyone, let us meet again at the same time next week.",
)


# Fact needles in OTHER_TEXTS: (question, words any of which make the answer right, sentence).
NEEDLES = (
    ("Which port did the crates move through last week?", ("rotterdam",), 2),
    ("How many crates moved last week?", ("400", "four hundred"), 2),
    ("Which warehouse is waiting for new forklifts?", ("lyon",), 4),
    ("Who did the speaker talk to about the delay?", ("tomasz",), 5),
    ("How much money did the board approve for the campaign?", ("60", "sixty"), 11),
    ("Where did listeners respond well to the last episode?", ("dublin",), 13),
    ("Which office closes on Friday at noon?", ("porto",), 19),
    ("Who will present the quarterly review to the investors?", ("helena",), 25),
    ("Which customer asked for a discount on the second order?", ("oslo",), 34),
    ("What discount can be offered if they pay within thirty days?", ("7", "seven"), 35),
)


def build(d: Path, files: int, minutes: float) -> list[tuple[str, Path, dict]]:
    from longspeech.synth import RecordingSpec, write_recording
    from longspeech.synth.voices import DEFAULT_VOICES, Voice

    other_voices = (Voice("espeak", "en-us+m7", (("rate", 145.0), ("pitch", 40.0))),
                    DEFAULT_VOICES[5], DEFAULT_VOICES[6], DEFAULT_VOICES[7],
                    Voice("espeak", "en+f4", (("rate", 155.0), ("pitch", 65.0))))
    out = []
    for i in range(files):
        n = 2 + i % 3
        for source, spec in (
                ("generator", RecordingSpec(seed=920 + i, duration=minutes * 60, speakers=n)),
                ("other texts and voices", RecordingSpec(
                    seed=930 + i, duration=minutes * 60, speakers=n, texts=OTHER_TEXTS,
                    voices=other_voices[i % 2:i % 2 + n]))):
            stem = f"{'gen' if source == 'generator' else 'other'}{i}"
            paths = write_recording(spec, d, stem)
            out.append((source, Path(paths.audio), json.loads(Path(paths.metadata).read_text())))
    return out


def label_map(tr, meta) -> dict[str, str]:
    """Each diarized label -> the true speaker its segments overlap most."""
    overlap: dict[str, Counter] = defaultdict(Counter)
    for s in tr.segments:
        for t in meta["turns"]:
            o = min(s.end, t["end"]) - max(s.start, t["start"])
            if o > 0 and s.speaker:
                overlap[s.speaker][t["speaker"]] += o
    return {k: c.most_common(1)[0][0] for k, c in overlap.items()}


def questions(tr, meta, rng: random.Random) -> tuple[list[dict], Counter]:
    """The questions for one recording, each with what makes its answer right."""
    sents = meta["sentences"]
    # one question per distinct sentence; a sentence spoken more than once may be found at
    # any of its times and by any of its speakers
    said: dict[str, list[dict]] = defaultdict(list)
    for s in sents:
        said[s["text"]].append(s)
    texts = sorted(said)
    rng.shuffle(texts)
    truth_talk = Counter()
    for s in sents:
        truth_talk[s["speaker"]] += s["end"] - s["start"]
    labels = sorted({s.speaker for s in tr.segments if s.speaker})
    qs = [{"type": "count", "q": "How many speakers are there?",
           "truth": len(meta["speakers"])}]
    for lab in labels[:3]:
        qs.append({"type": "talk_time", "q": f"How long did {lab} talk?", "label": lab})
    for t in texts[:3]:
        words = t.rstrip(".?!").split()
        qs.append({"type": "who_said", "q": f"Who said \"{' '.join(words[:8])}\"?",
                   "truth": {x["speaker"] for x in said[t]},
                   "ats": [x["start"] for x in said[t]], "at": said[t][0]["start"]})
    for t in texts[3:6]:
        words = t.rstrip(".?!").split()
        qs.append({"type": "when", "q": f"When did someone say \"{' '.join(words[1:9])}\"?",
                   "ats": [x["start"] for x in said[t]], "at": said[t][0]["start"]})
    for t in texts[6:8]:
        s = said[t][0]
        m = int(s["start"] // 60) + 1
        at = next((x for x in sents if x["start"] <= m * 60 <= x["end"]), None)
        if at is not None:
            qs.append({"type": "around", "q": f"What was said around minute {m}?",
                       "truth": at["text"], "at": at["start"]})
    if meta["spec"]["texts"]:
        for q, keys, k in NEEDLES:
            at = [x["start"] for x in sents if x["text"] == OTHER_TEXTS[k]]
            if at:
                qs.append({"type": "needle", "q": q, "keys": keys, "ats": at, "at": at[0]})
    return qs, truth_talk


def _norm(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def _clock_seconds(text: str) -> float | None:
    m = re.search(r"(?:(\d+):)?(\d+):(\d\d)", text)
    if not m:
        return None
    return int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + int(m.group(3))


def score(q: dict, answer, labels: dict[str, str], talk: Counter) -> tuple[bool, bool | None]:
    text = answer.text
    near = (None if "at" not in q else
            any(abs(e.start - t) <= 30 for e in answer.evidence for t in q.get("ats", [q["at"]])))
    kind = q["type"]
    if kind == "count":
        m = re.match(r"\s*(\d+)", text)
        return bool(m) and int(m.group(1)) == q["truth"], near
    if kind == "talk_time":
        m = re.search(r"\((\d+) s\)", text) or re.search(r"([\d.]+) s\b", text)
        truth = talk[labels.get(q["label"], "")]
        got = float(m.group(1)) if m else -1.0
        return abs(got - truth) <= max(5.0, 0.1 * truth), near
    if kind == "who_said":
        said = re.match(r"\s*(\S+?),", text)
        return bool(said) and labels.get(said.group(1)) in q["truth"], near
    if kind == "when":
        t = _clock_seconds(text)
        return t is not None and any(abs(t - a) <= 30 for a in q["ats"]), near
    if kind == "needle":
        got = " ".join(_norm(text))
        return any(re.search(rf"\b{k}\b", got) for k in q["keys"]), near
    words = _norm(q["truth"])
    got = set(_norm(text))
    return sum(w in got for w in words) >= len(words) / 2, near


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=3, help="recordings per source")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" /
                    "qa_structure.json")
    a = ap.parse_args()
    from longspeech.api import ask
    from longspeech.types import Transcript

    rng = random.Random(5)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        recs = build(d / "audio", a.files, a.minutes)
        t0 = time.perf_counter()
        proc = subprocess.run([str(BIN / "longspeech"), "transcribe", *(str(p) for _, p, _ in recs),
                               "-o", str(d / "out"), "-f", "json", "--diarize", "--no-resume"],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(proc.stderr[-2000:])
        transcribe_s = time.perf_counter() - t0
        for source, path, meta in recs:
            tr = Transcript.from_json((d / "out" / f"{path.stem}.json").read_text())
            labels = label_map(tr, meta)
            qs, talk = questions(tr, meta, rng)
            for q in qs:
                modes = ("cascade", "lslm") if q["type"] == "needle" else ("cascade",)
                for mode in modes:
                    ans = (ask(None, q["q"], mode="cascade", transcript=tr) if mode == "cascade"
                           else ask(path, q["q"], mode="lslm"))
                    right, near = score(q, ans, labels, talk)
                    heard = (None if q["type"] != "needle" else
                             any(re.search(rf"\b{k}\b", " ".join(_norm(tr.text)))
                                 for k in q["keys"]))
                    rows.append({"source": source, "recording": path.stem, "mode": mode,
                                 "in_transcript": heard,
                                 "type": q["type"], "question": q["q"], "answer": ans.text,
                                 "right": right, "evidence_near": near if mode == "cascade"
                                 else None, "seconds": round(ans.seconds, 3)})
    table: dict = {}
    for r in rows:
        for key in ((r["source"], r["mode"], r["type"]), (r["source"], r["mode"], "all")):
            t = table.setdefault(" / ".join(key), {"questions": 0, "right": 0, "with_evidence": 0,
                                                   "evidence_near": 0})
            t["questions"] += 1
            t["right"] += r["right"]
            if r.get("in_transcript"):
                t["in_transcript"] = t.get("in_transcript", 0) + 1
                t["right_in_transcript"] = t.get("right_in_transcript", 0) + r["right"]
            if r["evidence_near"] is not None:
                t["with_evidence"] += 1
                t["evidence_near"] += r["evidence_near"]
    for t in table.values():
        t["right_pct"] = round(100 * t["right"] / t["questions"], 1)
        t["evidence_near_pct"] = (round(100 * t["evidence_near"] / t["with_evidence"], 1)
                                  if t["with_evidence"] else None)
    result = {"command": "benchmarks/qa_structure.py " + " ".join(sys.argv[1:]),
              "recordings": len({r["recording"] for r in rows}), "questions": len(rows),
              "transcribe_diarize_seconds": round(transcribe_s, 1), "table": table,
              "rows": rows}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()
