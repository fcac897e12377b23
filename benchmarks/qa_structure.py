"""Questions about a recording's structure, asked of `longspeech ask --mode cascade` on
diarized transcripts, scored against the synthetic recordings' exact ground truth.

Four sources: the project's generator (its sentence corpus and first voices), and three
sets of conversational lines written here (names, places, numbers), each spoken by voices of
its own: "other" (a logistics meeting; the answerer's retrieval rules were chosen looking at
its results), "held-out" (a radio station's meeting; looked at once, then two rules were
added: see benchmarks/README.md) and "report" (a research lab's meeting; written after every
choice was made and run once). Question types:
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

    .venv/bin/python benchmarks/qa_structure.py --files 4 --minutes 10 --work /tmp/qa
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


# A third source, held out: everything about the answerer was chosen on the two above, never
# on these texts (another meeting, other sentence shapes) or their voices.
HELD_OUT_TEXTS = (
    "Good afternoon, can everyone hear me all right?",
    "Loud and clear, go ahead whenever you are ready.",
    "First item, the volunteer drive brought in thirty-two new people.",
    "Most of them heard about us at the street festival in Bristol.",
    "Good, we should go back there next summer.",
    "Samira has agreed to train them on the mixing desk.",
    "The training sessions run every Thursday evening.",
    "Next, the transmitter on the hill failed twice this month.",
    "The engineer from Leeds replaced the power supply on Monday.",
    "That repair cost us nine hundred pounds.",
    "Is that covered by the insurance policy?",
    "Only partly, the excess is two hundred and fifty.",
    "Then we need to raise the money at the spring concert.",
    "The concert will be held in the church hall on Mill Street.",
    "Gabriel is booking three local bands for the evening.",
    "Tickets will cost twelve pounds, or eight for students.",
    "Let us print posters for the library and the cafes.",
    "I can ask my cousin, she runs a print shop near the station.",
    "Moving on to the schedule for the autumn season.",
    "The jazz programme moves from Sunday night to Saturday morning.",
    "Listeners asked for more local news at breakfast time.",
    "We could partner with the newspaper in Cardiff for that.",
    "Their editor, Fiona, already said she likes the idea.",
    "I would like a trial run of four weeks before we commit.",
    "Agreed, let us review it at the end of October.",
    "The website had eleven thousand visits last month.",
    "Most of that traffic came from the podcast pages.",
    "We still need someone to fix the broken archive search.",
    "Dmitri said he could look at it over the weekend.",
    "Please send him the login details by email, not in the chat.",
    "Our licence renewal is due on the fifteenth of January.",
    "The form is long, so let us start on it in December.",
    "One more thing, the studio door lock is sticking again.",
    "I will call the locksmith tomorrow morning.",
    "The new microphones arrived from a supplier in Glasgow.",
    "They sound much warmer than the old ones.",
    "Can we get two more for the interview room?",
    "Only if the concert raises enough money.",
    "Fair enough, that is everything on my list.",
    "Thanks all, same time next month.",
)

# The report source: written after every choice about the answerer was made, and run once.
REPORT_TEXTS = (
    "Okay, let's get started, we have a lot to cover today.",
    "The new centrifuge was delivered to building nine on Tuesday.",
    "It still needs to be calibrated before anyone uses it.",
    "Nadia will run the calibration with the vendor next week.",
    "Good, and what about the grant report?",
    "The draft is due at the funding office by the third of March.",
    "We spent about forty percent of the budget in the first year.",
    "Most of that went on reagents and two conference trips.",
    "Which conference are we sending the students to this year?",
    "The students will present their posters at the conference in Vienna.",
    "Flights there are cheaper if we book before the end of the month.",
    "Oliver found a hotel that gives a discount to academic groups.",
    "Please remember to keep all the receipts for the finance team.",
    "On the experiments, the second batch of samples was contaminated.",
    "We think the problem came from a cracked seal in the freezer.",
    "The freezer is under warranty until next autumn.",
    "I have asked the manufacturer in Stuttgart to send a technician.",
    "Meanwhile the samples are stored in the cold room downstairs.",
    "How bad is the damage to the schedule?",
    "We have to repeat roughly sixty samples, about three weeks of work.",
    "That pushes the paper submission back to the summer.",
    "Can we still make the deadline for the journal special issue?",
    "Only if the reviewers are quick, so let us not count on it.",
    "Another option is to post a preprint first and submit later.",
    "I like that, it gets the results out sooner.",
    "Our collaborator at the University of Toronto agreed to share her data.",
    "She sent a hard drive by courier, it should arrive on Friday.",
    "Somebody has to be in the building when it comes.",
    "Priscilla at the front desk will sign for the package.",
    "Then let us talk about the seminar series.",
    "The first speaker is a chemist from a company in Basel.",
    "Her talk is about enzymes that break down plastic.",
    "We need a bigger room, the last one was far too crowded.",
    "The lecture theatre holds one hundred and twenty people.",
    "I will book it for the whole term.",
    "Does anyone need help with their thesis chapters?",
    "I would appreciate comments on my methods section.",
    "Send it to me and I will read it over the weekend.",
    "Great, that is all for today.",
    "Thanks everyone, see you on Thursday.",
)

# Fact needles: (question, words any of which make the answer right, sentence).
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
HELD_OUT_NEEDLES = (
    ("How many new people joined through the volunteer drive?", ("32", "thirty two"), 2),
    ("At the street festival in which city did the new volunteers hear about the station?",
     ("bristol",), 3),
    ("Who will teach the new volunteers to use the mixing desk?", ("samira",), 5),
    ("Which city is the engineer who fixed the power supply from?", ("leeds",), 8),
    ("How much did the transmitter repair cost?", ("900", "nine hundred"), 9),
    ("Who is booking the bands for the spring concert?", ("gabriel",), 14),
    ("The newspaper of which city could the station partner with for local news?",
     ("cardiff",), 21),
    ("What is the name of the newspaper's editor?", ("fiona",), 22),
    ("How many visits did the website get last month?",
     ("11000", "11 000", "eleven thousand"), 25),
    ("Where is the supplier of the new microphones?", ("glasgow",), 34),
)
REPORT_NEEDLES = (
    ("Which building was the new centrifuge delivered to?", ("9", "nine"), 1),
    ("Who will run the calibration with the vendor?", ("nadia",), 3),
    ("What share of the budget was spent in the first year?", ("40", "forty"), 6),
    ("In which city will the students present their posters?", ("vienna",), 9),
    ("Who found a hotel that gives academic groups a discount?", ("oliver",), 11),
    ("Where is the manufacturer of the freezer?", ("stuttgart",), 16),
    ("How many samples must be repeated?", ("60", "sixty"), 19),
    ("Which university is the collaborator at?", ("toronto",), 25),
    ("Who will sign for the package?", ("priscilla",), 28),
    ("Which city is the first seminar speaker's company in?", ("basel",), 30),
)
SOURCES = {"other texts and voices": (OTHER_TEXTS, NEEDLES),
           "held-out texts and voices": (HELD_OUT_TEXTS, HELD_OUT_NEEDLES),
           "report texts and voices": (REPORT_TEXTS, REPORT_NEEDLES)}


def build(d: Path, files: int, minutes: float) -> list[tuple[str, Path, dict]]:
    from longspeech.synth import RecordingSpec, write_recording
    from longspeech.synth.voices import DEFAULT_VOICES, Voice

    other_voices = (Voice("espeak", "en-us+m7", (("rate", 145.0), ("pitch", 40.0))),
                    DEFAULT_VOICES[5], DEFAULT_VOICES[6], DEFAULT_VOICES[7],
                    Voice("espeak", "en+f4", (("rate", 155.0), ("pitch", 65.0))))
    held_out_voices = (Voice("espeak", "en-gb-scotland+m4", (("rate", 150.0), ("pitch", 45.0))),
                       Voice("flite", "kal", (("duration_stretch", 1.0),)),
                       Voice("espeak", "en-029+f5", (("rate", 150.0), ("pitch", 60.0))),
                       Voice("espeak", "en-us-nyc+m2", (("rate", 160.0),)),
                       Voice("espeak", "en-gb-x-gbclan+f1", (("rate", 145.0), ("pitch", 55.0))))
    report_voices = (Voice("espeak", "en-gb-x-gbcwmd+f3", (("rate", 150.0), ("pitch", 60.0))),
                     Voice("espeak", "en-us+m1", (("rate", 155.0), ("pitch", 50.0))),
                     Voice("espeak", "en-us+f1", (("rate", 150.0), ("pitch", 70.0))),
                     Voice("espeak", "en+m6", (("rate", 160.0), ("pitch", 35.0))),
                     Voice("espeak", "en-029+m3", (("rate", 145.0), ("pitch", 45.0))))
    out = []
    for i in range(files):
        n = 2 + i % 3
        for source, stem, spec in (
                ("generator", "gen", RecordingSpec(seed=920 + i, duration=minutes * 60,
                                                   speakers=n)),
                ("other texts and voices", "other", RecordingSpec(
                    seed=930 + i, duration=minutes * 60, speakers=n, texts=OTHER_TEXTS,
                    voices=other_voices[i % 2:i % 2 + n])),
                ("held-out texts and voices", "heldout", RecordingSpec(
                    seed=940 + i, duration=minutes * 60, speakers=n, texts=HELD_OUT_TEXTS,
                    voices=held_out_voices[i % 2:i % 2 + n])),
                ("report texts and voices", "report", RecordingSpec(
                    seed=950 + i, duration=minutes * 60, speakers=n, texts=REPORT_TEXTS,
                    voices=report_voices[i % 2:i % 2 + n]))):
            stem = f"{stem}{i}"
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


def questions(tr, meta, source: str, rng: random.Random) -> tuple[list[dict], Counter]:
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
    if source in SOURCES:
        texts, needles = SOURCES[source]
        for q, keys, k in needles:
            at = [x["start"] for x in sents if x["text"] == texts[k]]
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
    ap.add_argument("--model", default="tiny.en", help="the ASR model of the transcripts")
    ap.add_argument("--modes", default="cascade,lslm",
                    help="modes asked the fact needles (the others are cascade only)")
    ap.add_argument("--work", type=Path, default=None,
                    help="keep the recordings and transcripts here and reuse those found")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" /
                    "qa_structure.json")
    a = ap.parse_args()
    from longspeech.api import ask
    from longspeech.types import Transcript

    rng = random.Random(5)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        d = a.work or Path(tmp)
        recs = build(d / "audio", a.files, a.minutes)
        out = d / f"out-{a.model}"
        english = [] if a.model.endswith(".en") else ["--language", "en"]
        t0 = time.perf_counter()
        if not all((out / f"{p.stem}.json").exists() for _, p, _ in recs):
            proc = subprocess.run([str(BIN / "longspeech"), "transcribe",
                                   *(str(p) for _, p, _ in recs), "-o", str(out), "-f", "json",
                                   "--diarize", "--no-resume", "--model", a.model, *english],
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                raise SystemExit(proc.stderr[-2000:])
        transcribe_s = time.perf_counter() - t0
        for source, path, meta in recs:
            tr = Transcript.from_json((out / f"{path.stem}.json").read_text())
            labels = label_map(tr, meta)
            qs, talk = questions(tr, meta, source, rng)
            for q in qs:
                modes = tuple(a.modes.split(",")) if q["type"] == "needle" else ("cascade",)
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
              "model": a.model,
              "recordings": len({r["recording"] for r in rows}), "questions": len(rows),
              "transcribe_diarize_seconds": round(transcribe_s, 1), "table": table,
              "rows": rows}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()
