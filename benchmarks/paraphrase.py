"""Questions about a recording in people's own words: each kind of structure question asked
in many phrasings over diarized transcripts, each answer checked against what the
transcript's own data gives (its speakers, segment times and words).

Phrasings per kind, in sets: "tune" (the classifier's examples were written with these in
view and its choices were checked on them); "seen1" and "seen2" (each written as a report set
in other styles: commands, informal, longer; each was run once as the report, scoring 87.5%
and 93.8% of structure questions, and then tuned on, so they are tuning sets now); "report"
(written before the run that reported it, after the last choice; no choice was made from its
results). Fact questions are scored on being sent to retrieval and the LLM, whose answers the
QA benchmark (qa_structure.py) scores.

People are referred to as the transcript does (SPEAKER_01, or an enrolled name: half the
recordings have their labels renamed as enrolment would), as "speaker 1", and by role ("the
host", "me") with the role given as `ask --role` gives it.

    .venv/bin/python benchmarks/paraphrase.py --work /tmp/para
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "benchmarks"))

PHRASINGS: dict[str, dict[str, tuple[str, ...]]] = {
    "count": {
        "tune": ("How many speakers are there?", "How many people are talking?",
                 "how many voices can you hear", "Number of participants?",
                 "How many different people speak in this recording?", "Count the speakers.",
                 "How many folks were on the call?", "How many people took part in the meeting?"),
        "seen1": ("How many people are in this conversation?",
                   "what's the headcount on this call", "Tell me the number of speakers.",
                   "How many individuals can be heard?", "how many ppl were talking",
                   "Is this two people or more? How many?", "Give me the speaker count.",
                   "How many distinct voices are there in the meeting?"),
        "seen2": ("Roughly how many people were in the room?",
                   "Could you count how many voices there are?", "number of speakers pls",
                   "How many people does this recording feature?",
                   "I need to know how many participants spoke.",
                   "Were there three speakers or more? Give the number.",
                   "how many different persons talk here",
                   "What's the number of people on this recording?"),
        "report": ("How many speakers can I hear?", "Can you tell how many people there are?",
                   "total number of voices?", "How many were speaking in this audio?",
                   "Speakers: how many?", "I wonder how many people joined the discussion.",
                   "How many people have a say in this recording?",
                   "what number of people talk"),
    },
    "talk_most": {
        "tune": ("Who talks the most?", "Which speaker speaks the longest?",
                 "Who dominated the conversation?", "Who spoke the most?",
                 "Who had the most airtime?", "Which person talked for the longest time?",
                 "who did most of the talking", "Who held the floor the longest?"),
        "seen1": ("Who was the most talkative person?",
                   "Which participant spoke more than anyone else?",
                   "tell me who hogged the conversation", "Who said the most overall?",
                   "Which voice takes up most of the recording?",
                   "Who has the biggest share of speaking time?", "who talked longest",
                   "Name the speaker with the most talk time."),
        "seen2": ("Who spoke for the longest overall?", "Which of them talked most?",
                   "who talked the most in total", "Whose voice do we hear the most?",
                   "Which person did the bulk of the speaking?", "Who was the chattiest?",
                   "I'd like to know who spoke most.", "Who spent the most time talking?"),
        "report": ("Who spoke for most of the time?", "Which participant had the most to say?",
                   "who's the biggest talker", "Who takes up the most time speaking?",
                   "Who spoke the longest in total?", "Which one of them spoke the most?",
                   "Who led the conversation by speaking time?",
                   "Who has the largest amount of talk time?"),
    },
    "talk_least": {
        "tune": ("Who talks the least?", "Which speaker spoke the least?",
                 "Who was the quietest?", "Who barely said anything?",
                 "Who had the least airtime?", "Which person spoke for the shortest time?",
                 "who said the least", "Who contributed the least to the discussion?"),
        "seen1": ("Who hardly spoke at all?", "Which participant was least talkative?",
                   "tell me who was quietest in the meeting",
                   "Who had the smallest share of speaking time?",
                   "Which voice is heard the least?", "who talked the least overall",
                   "Name the speaker with the least talk time.",
                   "Who spoke less than everyone else?"),
        "seen2": ("Who spoke for the shortest time overall?", "Which of them talked least?",
                   "who talked the least in total", "Whose voice do we hear the least?",
                   "Which person said the fewest words?", "Who was the least chatty?",
                   "I'd like to know who spoke least.", "Who spent the least time talking?"),
        "report": ("Who spoke for the least amount of time?",
                   "Which participant had the least to say?", "who's the quietest one",
                   "Who takes up the least time speaking?", "Who spoke the shortest in total?",
                   "Which one of them spoke the least?", "Who said hardly anything?",
                   "Who has the smallest amount of talk time?"),
    },
    "talk_time": {
        "tune": ("How long did {P} talk?", "How much time did {P} spend speaking?",
                 "How many minutes did {P} speak?", "What is {P}'s total speaking time?",
                 "talk time of {P}?", "How long was {P} speaking for?",
                 "For how long does {P} speak?", "How much did {P} talk?"),
        "seen1": ("How much of the meeting was {P} talking?", "{P}'s speaking time, please.",
                   "tell me how long {P} spoke", "What's the total airtime for {P}?",
                   "How many seconds of speech does {P} have?", "Duration of {P}'s speech?",
                   "how long has {P} been talking in total", "Give me {P}'s talk time."),
        "seen2": ("How long is {P} on the mic?", "Total talk time for {P}?",
                   "how much did {P} speak overall", "I want {P}'s speaking duration.",
                   "How many minutes of talking does {P} have?",
                   "What was the speaking time of {P}?", "How long has {P} spoken?",
                   "Could you tell me how long {P} talked for?"),
        "report": ("How long does {P} talk for?", "{P} spoke for how long?",
                   "how much time is {P} speaking", "Tell me {P}'s total talk time.",
                   "How many minutes is {P} talking in total?", "Speaking time of {P}?",
                   "How long did {P} speak for overall?", "How much talking did {P} do?"),
    },
    "first_speaker": {
        "tune": ("Who speaks first?", "Who opens the meeting?", "Who spoke first?",
                 "Who started the conversation?", "Which speaker talks first?",
                 "Who kicked off the discussion?", "whose voice do we hear first",
                 "Who said the first words?"),
        "seen1": ("Who was the first person to speak?", "Which participant began the call?",
                   "tell me who opened the conversation", "Who gets things started?",
                   "Who is heard first in the recording?", "first speaker?",
                   "Who had the opening words?", "Who broke the ice at the start?"),
        "seen2": ("Who speaks at the very beginning?", "Which of them talks first?",
                   "who's the first voice", "Whose words open the recording?",
                   "Who starts the meeting off?", "I'd like to know who spoke first.",
                   "Which person speaks before anyone else?", "who was first to talk"),
        "report": ("Who said the first thing?", "Which participant spoke first?",
                   "who talks at the start", "Whose is the opening line?",
                   "Who begins speaking?", "Who speaks at the start of the recording?",
                   "Who was the opening speaker?", "The first voice belongs to whom?"),
    },
    "last_speaker": {
        "tune": ("Who speaks last?", "Who closes the meeting?", "Who spoke last?",
                 "Who had the last word?", "Which speaker talks last?",
                 "Who wrapped up the discussion?", "whose voice do we hear last",
                 "Who said the final words?"),
        "seen1": ("Who was the last person to speak?", "Which participant ended the call?",
                   "tell me who closed the conversation", "Who gets the final say?",
                   "Who is heard last in the recording?", "last speaker?",
                   "Who had the closing words?", "Who signed off at the end?"),
        "seen2": ("Who speaks at the very end?", "Which of them talks last?",
                   "who's the last voice", "Whose words close the recording?",
                   "Who ends the meeting?", "I'd like to know who spoke last.",
                   "Which person speaks after everyone else?", "who was last to talk"),
        "report": ("Who said the last thing?", "Which participant spoke last?",
                   "who talks at the end", "Whose is the closing line?",
                   "Who stops speaking last?", "Who speaks at the end of the recording?",
                   "Who was the closing speaker?", "The last voice belongs to whom?"),
    },
    "who_said": {
        "tune": ("Who said \"{Q}\"?", "Who mentioned {X}?", "Which speaker said \"{Q}\"?",
                 "Who brought up {X}?", "Who talked about {X}?", "who was it that said \"{Q}\"",
                 "Who asked about {X}?", "Which person said \"{Q}\"?"),
        "seen1": ("Who was the one who said \"{Q}\"?", "Which participant raised {X}?",
                   "tell me who said \"{Q}\"", "Whose line was \"{Q}\"?", "who spoke about {X}",
                   "Which speaker discussed {X}?", "Who made the remark \"{Q}\"?",
                   "\"{Q}\" - who said that?"),
        "seen2": ("Which of them said \"{Q}\"?", "Who's the speaker of \"{Q}\"?",
                   "who brought {X} up", "Tell me which speaker mentioned {X}.",
                   "Who was talking about {X}?", "Who said the words \"{Q}\"?",
                   "I'd like to know who said \"{Q}\".", "Which person mentioned {X}?"),
        "report": ("Who uttered \"{Q}\"?", "Who was it that mentioned {X}?",
                   "which speaker talked about {X}", "Who is the speaker who said \"{Q}\"?",
                   "\"{Q}\": who said it?", "Who said something about {X}?",
                   "Which of the speakers brought up {X}?", "Who says \"{Q}\"?"),
    },
    "when_said": {
        "tune": ("When did someone say \"{Q}\"?", "When was {X} mentioned?",
                 "At what point did they talk about {X}?", "When does someone say \"{Q}\"?",
                 "At what time was {X} discussed?", "when did they bring up {X}",
                 "When is \"{Q}\" said?", "At what moment did somebody mention {X}?"),
        "seen1": ("Find the moment where someone says \"{Q}\".", "Timestamp for \"{Q}\"?",
                   "where in the recording do they discuss {X}",
                   "How far into the meeting was {X} brought up?", "tell me when {X} came up",
                   "At which minute is \"{Q}\" said?", "When did the conversation turn to {X}?",
                   "Jump to where they talk about {X}."),
        "seen2": ("At what time does someone say \"{Q}\"?", "When exactly is {X} mentioned?",
                   "what time was {X} brought up", "Show me when someone says \"{Q}\".",
                   "When do they mention {X}?", "I'd like the timestamp where \"{Q}\" is said.",
                   "When does the topic of {X} come up?", "At what point is \"{Q}\" said?"),
        "report": ("When is {X} talked about?", "At what time did someone say \"{Q}\"?",
                   "when do they talk about {X}", "When does somebody say \"{Q}\"?",
                   "Where in the audio is {X} mentioned?", "At what point was {X} discussed?",
                   "\"{Q}\": when was that said?", "What time does someone mention {X}?"),
    },
    "what_said": {
        "tune": ("What did {P} say about {X}?", "What did {P} mention about {X}?",
                 "What was {P}'s view on {X}?", "What were {P}'s words about {X}?",
                 "What did {P} tell us about {X}?", "Summarise what {P} said about {X}.",
                 "What did {P} say regarding {X}?", "What did {P} have to say about {X}?"),
        "seen1": ("What does {P} think about {X}?", "Quote {P} on {X}.",
                   "tell me what {P} said regarding {X}", "What was {P}'s take on {X}?",
                   "Did {P} say anything about {X}?", "What were {P}'s comments on {X}?",
                   "{P} on {X}: what did they say?", "What points did {P} make about {X}?"),
        "seen2": ("What did {P} say on {X}?", "What were {P}'s remarks about {X}?",
                   "what did {P} mention regarding {X}", "Tell me {P}'s words on {X}.",
                   "What did {P} have to say on {X}?",
                   "I'd like to know what {P} said about {X}.",
                   "What did {P} say concerning {X}?", "What was {P}'s comment on {X}?"),
        "report": ("What did {P} say when talking about {X}?", "What did {P} say about the {X}?",
                   "what was {P} saying about {X}", "Tell me what {P} had to say about {X}.",
                   "What were {P}'s thoughts on {X}?", "What did {P} mention on {X}?",
                   "Give me {P}'s words about {X}.", "What did {P} tell the others about {X}?"),
    },
    "around": {
        "tune": ("What was said around minute {M}?", "What happened at {C}?",
                 "What did they talk about at minute {M}?", "What is being said at {C}?",
                 "what was discussed around {C}", "What did someone say near minute {M}?",
                 "What's said at the {M} minute mark?", "What was being discussed {M} minutes in?"),
        "seen1": ("Tell me what's going on at {C}.", "What are they saying at minute {M}?",
                   "Play back what was said around {C}.",
                   "what's the conversation about {M} minutes into the recording",
                   "At {C}, what is said?", "What was mentioned close to minute {M}?",
                   "Transcript around {C}?", "What were they discussing at the {M}-minute point?"),
        "seen2": ("What's being said at minute {M}?", "What do we hear at {C}?",
                   "what is said around the {M} minute mark", "Tell me what was said near {C}.",
                   "What's discussed around minute {M}?",
                   "I'd like to know what was said at {C}.",
                   "What was said roughly {M} minutes in?", "What is the conversation at {C}?"),
        "report": ("What is said at minute {M}?", "What can be heard at {C}?",
                   "what happens around minute {M}", "Tell me what is said around {C}.",
                   "What was the discussion at minute {M}?", "What gets said at {C}?",
                   "What's being talked about around {C}?",
                   "What is said {M} minutes into the meeting?"),
    },
    "topics": {
        "tune": ("What is this recording about?", "What were the main topics?",
                 "Summarise the meeting.", "What did they discuss?",
                 "Give me an overview of the conversation.", "what topics came up",
                 "What is the meeting about?", "What are the key points of this recording?"),
        "seen1": ("Can you sum up the conversation?", "What subjects were covered?",
                   "tl;dr of this call?", "Give me the gist of the recording.",
                   "Outline the main themes of the discussion.",
                   "what was the meeting mostly about", "List the topics talked about.",
                   "What's this podcast episode about?"),
        "seen2": ("What is the recording mainly about?", "Sum up this meeting for me.",
                   "what's the summary", "What are the main points discussed?",
                   "I'd like an overview of this recording.",
                   "Which topics does the meeting cover?",
                   "Briefly, what was this conversation about?", "Give me a summary of the call."),
        "report": ("What is this conversation about?", "What were the topics of the meeting?",
                   "summary please", "What's the meeting about in short?",
                   "What did the speakers talk about overall?", "Give me the main topics.",
                   "What was covered in this recording?", "Summarize the discussion for me."),
    },
    "fact": {
        "tune": ("Who bought the green bicycle?", "When is the budget report due?",
                 "Which warehouse is waiting for new forklifts?",
                 "How many crates moved last week?", "Who is booking the bands for the spring concert?",
                 "Who did the speaker talk to about the delay?",
                 "How much did the transmitter repair cost?", "Who will sign for the package?"),
        "seen1": ("Which city is the conference in?", "How many samples were contaminated?",
                   "who's booking the lecture theatre", "When is the licence renewal due?",
                   "What do the new microphones sound like?", "Where is the print shop?",
                   "How much do tickets cost for students?",
                   "Which day does the technician come back?"),
        "seen2": ("Who will read the methods section?", "What is stored in the cold room?",
                   "How many people does the lecture theatre hold?",
                   "Which city are the students travelling to?",
                   "Who runs the print shop near the station?",
                   "What time does the Porto office close?",
                   "Which bands are playing at the concert?", "How much did the board approve?"),
        "report": ("How many crates went through Rotterdam?", "Who is presenting to the investors?",
                   "Where is the hotel?", "Who is the editor?",
                   "When do the new engineers start?", "What broke in the freezer?",
                   "How much is the excess?", "Who will fix the archive search?"),
    },
}
# words a question is not about, and words that say what kind of question it is
from longspeech.qa.intent import FRAME_WORDS, features  # noqa: E402

NAMES = ("Maria", "Tomasz", "Priya", "Oliver")
_WORD = re.compile(r"[a-z']+")
STOP = frozenset("""the and that this with from have they will what when where which there their
would could should about after before because these those been were into your just than then
them very more some also only much many like well here over still need let's thanks everyone
""".split())


def build(d: Path, minutes: float) -> list[Path]:
    from qa_structure import HELD_OUT_TEXTS, OTHER_TEXTS, REPORT_TEXTS

    from longspeech.synth import RecordingSpec, write_recording

    specs = []
    for i in range(8):
        texts = ((), OTHER_TEXTS, HELD_OUT_TEXTS, REPORT_TEXTS)[i % 4]
        specs.append((f"para{i}", RecordingSpec(seed=970 + i, duration=minutes * 60,
                                                speakers=2 + i % 3, texts=texts)))
    return [Path(write_recording(spec, d, stem).audio) for stem, spec in specs]


def named(tr, i: int):
    """Half the transcripts with their labels renamed, as enrolment names speakers."""
    if i % 2 == 0:
        return tr
    labels = sorted({s.speaker for s in tr.segments if s.speaker})
    to = dict(zip(labels, NAMES))
    segs = [replace(s, speaker=to.get(s.speaker, s.speaker)) for s in tr.segments]
    return replace(tr, segments=segs, speakers=[to.get(x, x) for x in tr.speakers])


def facts(tr) -> dict:
    """What the transcript's own data says: speakers in order of first words, talk time,
    first and last speaker, and each segment's distinctive words."""
    segs = [s for s in tr.segments if s.text.strip()]
    talk: Counter = Counter()
    order: list[str] = []
    for s in segs:
        if s.speaker:
            talk[s.speaker] += s.end - s.start
            if s.speaker not in order:
                order.append(s.speaker)
    where: dict[str, set[int]] = defaultdict(set)
    for i, s in enumerate(segs):
        for w in _WORD.findall(s.text.lower()):
            where[w].add(i)
    spoken = [s for s in segs if s.speaker]
    return {"segs": segs, "talk": talk, "order": order, "where": where,
            "first": spoken[0].speaker, "last": spoken[-1].speaker}


def rare_word(f: dict, rng: random.Random, speaker: str | None = None) -> tuple[str, int] | None:
    """A word of 5+ letters said in one segment only (of `speaker`'s, when given)."""
    cands = sorted(w for w, at in f["where"].items() if len(at) == 1 and len(w) >= 5
                   and w not in STOP and w not in FRAME_WORDS and "'" not in w
                   and features(w) == w
                   and (speaker is None or f["segs"][next(iter(at))].speaker == speaker))
    if not cands:
        return None
    w = rng.choice(cands)
    return w, next(iter(f["where"][w]))


def person_ref(tr_speakers: list[str], who: str, style: int) -> tuple[str, dict]:
    """How a question names `who`, and the roles that make it resolvable."""
    if style == 1 and who.startswith("SPEAKER_"):
        return f"speaker {int(who.split('_')[1])}", {}
    if style == 2:
        return "the host", {"host": who}
    if style == 3:
        return "me", {"me": who}
    return who, {}


def instantiate(template: str, tr, f: dict, rng: random.Random, k: int) -> dict | None:
    """One question from a phrasing, with what makes its answer right."""
    speakers = f["order"]
    q: dict = {"roles": {}}
    if "{P}" in template:
        who = speakers[k % len(speakers)]
        ref, q["roles"] = person_ref(speakers, who, k % 4)
        if ref == "me":   # first person: "What did I say about X?"
            template = (template.replace("{P}'s", "my").replace("did {P}", "did I")
                        .replace("was {P}", "was I").replace("is {P}", "am I").replace("does {P}", "do I")
                        .replace("has {P}", "have I").replace("{P} on", "Me on")
                        .replace("Quote {P}", "Quote me").replace("for {P}", "for me")
                        .replace("of {P}", "of me").replace("{P}", "I"))
        q["who"] = who
        template = template.replace("{P}", ref)
    if "{X}" in template:
        got = rare_word(f, rng, q.get("who"))
        if got is None:
            return None
        q["x"], q["seg"] = got
        template = template.replace("{X}", got[0])
    if "{Q}" in template:
        seg_i = rng.randrange(len(f["segs"]))
        words = f["segs"][seg_i].text.strip().rstrip(".?!").split()
        if len(words) < 5:
            seg_i = max(range(len(f["segs"])), key=lambda i: len(f["segs"][i].text))
            words = f["segs"][seg_i].text.strip().rstrip(".?!").split()
        n = min(len(words), 6 + k % 3)
        q["seg"], q["quote"] = seg_i, " ".join(words[:n]).strip(",")
        template = template.replace("{Q}", q["quote"])
    if "{M}" in template or "{C}" in template:
        seg = f["segs"][rng.randrange(len(f["segs"]))]
        mid = (seg.start + seg.end) / 2
        if "{M}" in template:
            mid = float(max(1, round(mid / 60)) * 60)
            template = template.replace("{M}", str(int(mid // 60)))
        else:
            template = template.replace("{C}", f"{int(mid // 60)}:{int(mid % 60):02d}")
        q["t"] = mid
    q["q"] = template
    return q


def _clock(text: str) -> float | None:
    m = re.search(r"(?:(\d+):)?(\d+):(\d\d)", text)
    return None if not m else int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + int(m.group(3))


def right(kind: str, q: dict, a, f: dict) -> bool:
    """Whether the answer gives what the transcript's data gives."""
    text, segs = a.text, f["segs"]
    ev = [(e.start, e.speaker) for e in a.evidence]
    if kind == "fact":
        return a.model != "transcript data"
    if not a.evidence:
        return False
    if kind == "count":
        m = re.match(r"\s*(\d+)", text)
        return bool(m) and int(m.group(1)) == len(f["order"])
    if kind in ("talk_most", "talk_least"):
        ranked = sorted(f["talk"], key=lambda n: f["talk"][n], reverse=kind == "talk_most")
        return text.startswith(ranked[0] + " ")
    if kind == "talk_time":
        m = re.search(r"\((\d+) s\)", text) or re.search(r"([\d.]+) s\b", text)
        return (text.startswith(q["who"] + " ") and bool(m)
                and abs(float(m.group(1)) - f["talk"][q["who"]]) <= 1.0)
    if kind in ("first_speaker", "last_speaker"):
        return text.startswith(f["first" if kind == "first_speaker" else "last"] + " ")
    target = segs[q["seg"]] if "seg" in q else None
    if kind == "who_said":
        holders = {s.speaker for s in segs if q.get("quote", "\0").lower() in s.text.lower()}
        return text.startswith(f"{target.speaker}, ") or any(
            text.startswith(f"{h}, ") for h in holders)
    if kind == "when_said":
        t = _clock(text)
        starts = [s.start for s in segs if q.get("quote", "\0").lower() in s.text.lower()]
        return t is not None and any(int(x) == t for x in starts + [target.start])
    if kind == "what_said":
        return (target.start, target.speaker) in ev and q["x"] in text.lower()
    if kind == "around":
        at = [s for s in segs if s.start <= q["t"] <= s.end]
        return all((s.start, s.speaker) in ev for s in at) and bool(ev)
    if kind == "topics":
        said = {" ".join(s.text.split()) for s in segs}
        return text.startswith("Topics") and all(e.text in said for e in a.evidence)
    raise ValueError(kind)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--model", default="tiny.en")
    ap.add_argument("--work", type=Path, default=None,
                    help="keep the recordings and transcripts here and reuse those found")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" /
                    "paraphrase.json")
    a = ap.parse_args()
    from longspeech.qa.answer import AskOptions, answer_cascade
    from longspeech.qa.intent import parse_question
    from longspeech.types import Transcript

    with tempfile.TemporaryDirectory() as tmp:
        d = a.work or Path(tmp)
        paths = build(d / "audio", a.minutes)
        out = d / f"out-{a.model}"
        if not all((out / f"{p.stem}.json").exists() for p in paths):
            proc = subprocess.run([str(BIN / "longspeech"), "transcribe", *map(str, paths),
                                   "-o", str(out), "-f", "json", "--diarize", "--model",
                                   a.model], capture_output=True, text=True)
            if proc.returncode != 0:
                raise SystemExit(proc.stderr[-2000:])
        trs = [named(Transcript.from_json((out / f"{p.stem}.json").read_text()), i)
               for i, p in enumerate(paths)]
    rows = []
    first_question_s = None
    for half in ("tune", "seen1", "seen2", "report"):
        rng = random.Random({"tune": 11, "seen1": 12, "seen2": 13, "report": 14}[half])
        for ri, tr in enumerate(trs):
            f = facts(tr)
            for kind, halves in PHRASINGS.items():
                for k, template in enumerate(halves[half]):
                    q = instantiate(template, tr, f, rng, k + ri)
                    if q is None:
                        continue
                    t0 = time.perf_counter()
                    parsed = parse_question(q["q"], f["order"], q["roles"])
                    if kind == "fact":
                        ans = None
                        got_kind = parsed.kind
                        ok = got_kind == "fact"
                        text, ev = "(sent to retrieval and the LLM)" if ok else "", []
                    else:
                        ans = answer_cascade(tr, q["q"], AskOptions(
                            roles=tuple(q["roles"].items())))
                        ok = right(kind, q, ans, f)
                        text, ev = ans.text, [[e.start, e.speaker] for e in ans.evidence]
                    dt = time.perf_counter() - t0
                    if first_question_s is None:
                        first_question_s = dt
                    rows.append({"half": half, "recording": tr.recording.id, "kind": kind,
                                 "question": q["q"], "classified": parsed.kind,
                                 "right": ok, "answer": text[:200],
                                 **({} if ok else {"evidence": ev}),
                                 "seconds": round(dt, 4)})
    table: dict = {}
    for r in rows:
        for key in (f"{r['half']} / {r['kind']}", f"{r['half']} / structure" if r["kind"] !=
                    "fact" else f"{r['half']} / fact (routed)"):
            t = table.setdefault(key, {"questions": 0, "right": 0, "classified_right": 0})
            t["questions"] += 1
            t["right"] += r["right"]
            t["classified_right"] += r["classified"] == r["kind"]
    for t in table.values():
        t["right_pct"] = round(100 * t["right"] / t["questions"], 1)
    secs = sorted(r["seconds"] for r in rows if r["kind"] != "fact")
    result = {"command": "benchmarks/paraphrase.py " + " ".join(sys.argv[1:]),
              "model": a.model, "recordings": len(trs),
              "questions": len(rows),
              "phrasings_per_kind": {k: {h: len(v[h]) for h in v} for k, v in PHRASINGS.items()},
              "first_question_seconds": round(first_question_s or 0.0, 3),
              "seconds_p50": round(statistics.median(secs), 4),
              "seconds_max": round(secs[-1], 4),
              "table": dict(sorted(table.items())), "rows": rows}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    head = json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=1)
    a.out.write_text(head[:-2] + ',\n "rows": [\n' +            # one line a question
                     ",\n".join(json.dumps(r) for r in rows) + "\n ]\n}\n")
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=1))


if __name__ == "__main__":
    main()
