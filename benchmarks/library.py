"""The library of recordings: questions across a collection answered right, and an index of
1,000 hours searched fast.

Correctness: two collections of 12 multi-speaker recordings each, spoken by the synthesiser,
transcribed and diarized by the job (two voices enrolled by name, so the same person is named
in every recording; the third voice keeps its label), with topics placed in known
recordings, by known speakers, at known times: some in several recordings, some in one.

- "tune": voices 1-4 of the built-in list, dated file names, clean audio, one set of
  sentence templates and question phrasings. The question rules were written against it.
- "report": voices 5-8, undated episode names, noise at 20 dB SNR, other topics, other
  templates and other phrasings; run once after the last choice.

Scored, every item counted: "which recordings mention X" exact set (all topics, and those
whose words the transcripts hold everywhere they were said and nowhere else); the right
recording at rank 1 for single-recording topics (search, and a content question answered
by the LLM); "how many recordings" exact; first / last mention by an enrolled speaker (the
right recording, within 30 s); who talks most about a topic; and whether every evidence
line of a "which" answer is within 30 s of where the topic was said.

Scale: transcripts of 1,000 hour-long recordings made from the synthesiser's sentences
directly (no audio): build time, file size, search and ask latency (p50 / p95).

    .venv/bin/python benchmarks/library.py --work /tmp/library --out benchmarks/results/library.json
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from longspeech import Library
from longspeech.diarization import DiarizationOptions
from longspeech.diarization.enrolment import parse_known_speakers
from longspeech.library import update
from longspeech.library.search import spellings
from longspeech.outputs import write_outputs
from longspeech.pipelines.job import run_job
from longspeech.pipelines.transcribe import TranscribeOptions
from longspeech.synth import DEFAULT_VOICES, RecordingSpec, make_recording, sentences, write_recording
from longspeech.types import Recording, Segment, Transcript

ROOT = Path(__file__).resolve().parents[1]
RECORDINGS = 12
NEAR = 30.0         # seconds: evidence this close to where the topic was said is right


@dataclass(frozen=True)
class CollectionSpec:
    seed: int
    voices: tuple            # four voices: two enrolled, two anonymous
    names: tuple[str, str]   # the enrolled voices' names
    snr_db: float | None
    stems: tuple[str, ...]
    shared: tuple[str, ...]  # topics said in several recordings
    single: tuple[str, ...]  # topics said in one
    templates: tuple[str, ...]
    ask: dict[str, str]      # question phrasings, {T} the topic, {S} a speaker


SETS = {
    "tune": CollectionSpec(
        seed=4100, voices=DEFAULT_VOICES[:4], names=("Ann", "Bob"), snr_db=None,
        stems=tuple(f"2024-0{1 + i // 6}-{10 + 2 * (i % 6):02d}_meeting" for i in range(RECORDINGS)),
        shared=("harbour strike", "solar panels", "pension fund", "server migration"),
        single=("coffee machine", "lighthouse", "glacier", "orchestra", "marathon", "telescope"),
        templates=("I think the {T} needs more attention this week.",
                   "Let us come back to the {T} before we finish.",
                   "The report on the {T} is almost ready.",
                   "Everyone agreed that the {T} was a priority."),
        ask={"which": "Which recordings mention the {T}?",
             "count": "In how many meetings did the {T} come up?",
             "first": "When did {S} first mention the {T}?",
             "last": "When did {S} last mention the {T}?",
             "most": "Who talks most about the {T}?",
             "fact": "What was said about the {T}?"}),
    "report": CollectionSpec(
        seed=5200, voices=DEFAULT_VOICES[4:8], names=("Eve", "Finn"), snr_db=20.0,
        stems=tuple(f"episode-{chr(97 + i)}" for i in range(RECORDINGS)),
        shared=("volcano", "mortgage rates", "vaccine trial", "tractor"),
        single=("submarine", "satellite", "avalanche", "carnival", "lottery", "tornado"),
        templates=("Honestly, the {T} surprised all of us.",
                   "My neighbour keeps asking me about the {T}.",
                   "We should do a whole show on the {T} one day.",
                   "Nobody expected the {T} to be so popular."),
        ask={"which": "In which episodes did we talk about the {T}?",
             "count": "How many episodes discuss the {T}?",
             "first": "Where did {S} bring up the {T} for the first time?",
             "last": "When was the last time {S} mentioned the {T}?",
             "most": "Who talked the most about the {T}?",
             "fact": "Tell me about the {T}."}),
}


@dataclass
class Placed:
    topic: str
    stem: str
    speaker: str            # the enrolled name, or the voice's anonymous tag
    start: float = 0.0


@dataclass
class Collection:
    audio: list[Path] = field(default_factory=list)
    placed: list[Placed] = field(default_factory=list)
    known: list[str] = field(default_factory=list)


def _plan(spec: CollectionSpec) -> dict[str, list[tuple[str, str]]]:
    """Each recording's topics and who says them: a shared topic in 3 or 4 recordings, said
    mostly by the first enrolled voice (so who talks most about it is known), a single topic
    in one recording."""
    rng = random.Random(spec.seed)
    plan: dict[str, list[tuple[str, str]]] = {s: [] for s in spec.stems}
    for k, topic in enumerate(spec.shared):
        stems = rng.sample(spec.stems, 3 + k % 2)
        for j, stem in enumerate(sorted(stems, key=spec.stems.index)):
            who = spec.names[0] if j != 1 else spec.names[1]
            plan[stem].append((topic, who))
    for k, topic in enumerate(spec.single):
        plan[spec.stems[(2 * k + 1) % RECORDINGS]].append((topic, spec.names[k % 2]))
    return plan


def build(spec: CollectionSpec, work: Path) -> Collection:
    audio_dir = work / "audio"
    col = Collection()
    for j, name in enumerate(spec.names):       # enrolment clips: other sentences
        clip = write_recording(make_recording(RecordingSpec(
            seed=spec.seed + 90 + j, duration=12, speakers=1, voices=(spec.voices[j],))),
            audio_dir, f"enrol_{name}")
        col.known.append(f"{name}={clip.audio}")
    for i, (stem, topics) in enumerate(_plan(spec).items()):
        rng = random.Random(spec.seed * 100 + i)
        voices = (spec.voices[0], spec.voices[1], spec.voices[2 + i % 2])
        filler = sentences(spec.seed * 100 + i, 9, max_words=14)
        lines: list[tuple[int, str]] = [(n % 3, s) for n, s in enumerate(filler)]
        for topic, who in topics:
            text = rng.choice(spec.templates).format(T=topic)
            lines.insert(rng.randrange(len(lines) + 1), (spec.names.index(who), text))
        rec = make_recording(RecordingSpec(seed=spec.seed + i, duration=30 + 5.5 * len(lines),
                                           speakers=3, voices=voices, script=tuple(lines),
                                           gap=(0.6, 1.2), snr_db=spec.snr_db))
        paths = write_recording(rec, audio_dir, stem)
        col.audio.append(Path(paths.audio))
        for topic, who in topics:
            start = next(s.start for s in rec.sentences if topic in s.text)
            col.placed.append(Placed(topic, stem, who, start))
    return col


def _near(hit, placed: list[Placed]) -> bool:
    return any(p.stem == hit.recording and abs(p.start - hit.start) <= NEAR for p in placed)


def _words_held(lib_out: Path, topic: str, stems: set[str], all_stems: list[str]) -> bool:
    """The topic's words are in the transcript of every recording it was said in, and the
    whole topic in no other (in either English spelling)."""
    words = topic.lower().split()
    for stem in all_stems:
        text = json.loads((lib_out / f"{stem}.json").read_text())
        said = " ".join(s["text"] for s in text["segments"]).lower()
        has = all(any(re.search(rf"\b{re.escape(f)}", said) for f in spellings(w))
                  for w in words)
        if has != (stem in stems):
            return False
    return True


def score(spec: CollectionSpec, col: Collection, out: Path) -> dict:
    """Every item counted; each score also over the topics whose words the transcripts hold
    where they were said and nowhere else (ASR's misses set apart)."""
    lib = Library(out)
    rows: dict[str, list[tuple[bool, bool]]] = {k: [] for k in (
        "which_exact", "count_exact", "rank1_search", "rank1_ask", "first_right",
        "last_right", "most_right", "evidence_near")}
    held_topics = []
    detail = []
    for topic in spec.shared + spec.single:
        placed = [p for p in col.placed if p.topic == topic]
        stems = {p.stem for p in placed}
        held = _words_held(out, topic, stems, list(spec.stems))
        if held:
            held_topics.append(topic)
        a = lib.ask(spec.ask["which"].format(T=topic))
        rows["which_exact"].append((set(a.recordings) == stems, held))
        rows["evidence_near"] += [(_near(h, placed), held) for h in a.evidence]
        c = lib.ask(spec.ask["count"].format(T=topic))
        rows["count_exact"].append((c.count == len(stems), held))
        row = {"topic": topic, "recordings": sorted(stems), "which": a.recordings,
               "count": c.count, "words_held": held}
        if len(stems) == 1:
            hits = lib.search(topic)
            rows["rank1_search"].append((bool(hits) and hits[0].recording == placed[0].stem,
                                         held))
            f = lib.ask(spec.ask["fact"].format(T=topic))
            rows["rank1_ask"].append((f.recordings[:1] == [placed[0].stem], held))
            row["fact_answer"] = f.text
        else:
            name = spec.names[0]
            said = sorted((p for p in placed if p.speaker == name),
                          key=lambda p: spec.stems.index(p.stem))
            for kind, want in (("first", said[0]), ("last", said[-1])):
                got = lib.ask(spec.ask[kind].format(T=topic, S=name))
                ok = bool(got.evidence) and got.evidence[0].recording == want.stem \
                    and abs(got.evidence[0].start - want.start) <= NEAR
                rows[f"{kind}_right"].append((ok, held))
                row[kind] = got.text
            m = lib.ask(spec.ask["most"].format(T=topic))
            rows["most_right"].append((m.text.startswith(f"{name} talks most"), held))
            row["most"] = m.text
        detail.append(row)
    lib.close()

    def share(oks: list[bool]) -> dict:
        return {"right": sum(oks), "of": len(oks),
                "share": round(sum(oks) / len(oks), 3) if oks else None}

    summary = {k: {"all": share([ok for ok, _ in v]),
                   "words_held": share([ok for ok, h in v if h])} for k, v in rows.items()}
    return {"scores": summary, "topics_with_words_held": held_topics, "detail": detail}


def run_set(name: str, work: Path) -> dict:
    spec = SETS[name]
    d = work / name
    col = build(spec, d)
    out = d / "out"
    t0 = time.perf_counter()
    summary = run_job(col.audio, out, TranscribeOptions(), ("json", "txt"), report=True,
                      diarization=DiarizationOptions(known=parse_known_speakers(col.known)))
    job_s = time.perf_counter() - t0
    failed = [f.input for f in summary.failed]
    result = score(spec, col, out)
    audio_s = sum(f.duration or 0 for f in summary.files)
    return {"set": name, "recordings": len(col.audio), "audio_seconds": round(audio_s, 1),
            "job_seconds": round(job_s, 1), "failed": failed, **result}


# -- scale ---------------------------------------------------------------------------------

def _percentiles(xs: list[float]) -> dict[str, float]:
    xs = sorted(xs)
    return {"p50_ms": round(1000 * statistics.median(xs), 2),
            "p95_ms": round(1000 * xs[int(0.95 * (len(xs) - 1))], 2), "n": len(xs)}


def scale(work: Path, hours: int, seg_seconds: float = 4.0) -> dict:
    out = work / "scale"
    per_hour = int(3600 / seg_seconds)
    t0 = time.perf_counter()
    names = ("Ann", "Bob", "Cara", "Dan", "SPEAKER_00", "SPEAKER_01")
    if not (out / "rec0999.json").exists() or hours != 1000:
        for i in range(hours):
            rng = random.Random(i)
            texts = sentences(70_000 + i, per_hour, max_words=14)
            who = rng.sample(names, 3)
            segs = [Segment(k * seg_seconds, (k + 1) * seg_seconds - 0.3, t,
                            speaker=who[rng.randrange(3)]) for k, t in enumerate(texts)]
            stem = f"rec{i:04d}"
            write_outputs(Transcript(Recording(stem, f"/podcasts/{stem}.mp3", 3600.0, 16000, 1),
                                     "en", segs, speakers=sorted(set(who))), out, stem, ["json"])
    write_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    update(out, force=True)
    build_s = time.perf_counter() - t0
    size = (out / "library.sqlite").stat().st_size
    t0 = time.perf_counter()
    lib = Library(out)
    open_s = time.perf_counter() - t0
    rng = random.Random(7)
    pool = [w for s in sentences(99, 300, max_words=14) for w in re.findall(r"[a-z]{5,}", s.lower())]
    queries = {
        "one word": [rng.choice(pool) for _ in range(100)],
        "two words": [f"{rng.choice(pool)} {rng.choice(pool)}" for _ in range(100)],
        "phrase": ['"' + " ".join(s.lower().rstrip(".").split()[1:4]) + '"'
                   for s in sentences(123, 100, max_words=14)],
        "word + speaker": [rng.choice(pool) for _ in range(100)],
    }
    search = {}
    for kind, qs in queries.items():
        times = []
        for q in qs:
            t = time.perf_counter()
            lib.search(q, speaker="Ann" if kind == "word + speaker" else None)
            times.append(time.perf_counter() - t)
        search[kind] = _percentiles(times)
    ask_q = [f"Which recordings mention the {rng.choice(pool)}?" for _ in range(15)]
    ask_q += [f"How many recordings talk about {rng.choice(pool)}?" for _ in range(15)]
    ask_q += [f"When did Ann last mention the {rng.choice(pool)}?" for _ in range(10)]
    ask_q += [f"Who talks most about the {rng.choice(pool)}?" for _ in range(10)]
    fact_q = [f"Who borrowed the {rng.choice(pool)}?" for _ in range(5)]
    times = []
    for q in ask_q:
        t = time.perf_counter()
        lib.ask(q)
        times.append(time.perf_counter() - t)
    lib.ask(fact_q[0])          # the LLM's load is not a question's latency
    fact_times = []
    for q in fact_q:
        t = time.perf_counter()
        lib.ask(q)
        fact_times.append(time.perf_counter() - t)
    lib.close()
    return {"hours": hours, "segments": hours * per_hour, "write_transcripts_s": round(write_s, 1),
            "build_s": round(build_s, 1), "file_mb": round(size / 1e6, 1),
            "open_s": round(open_s, 3), "search": search,
            "ask_structure": _percentiles(times), "ask_content_llm": _percentiles(fact_times)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/library-bench"))
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/library.json")
    ap.add_argument("--sets", default="tune,report")
    ap.add_argument("--hours", type=int, default=1000, help="scale part (0: skip)")
    ap.add_argument("--label", default="", help="store each set's results as SET LABEL "
                    "(a rerun beside the first run)")
    args = ap.parse_args()
    results: dict = {"command": "benchmarks/library.py", "sets": {}}
    if args.out.exists():
        results = json.loads(args.out.read_text())
    for name in [s for s in args.sets.split(",") if s]:
        key = f"{name} {args.label}".strip()
        results["sets"][key] = run_set(name, args.work)
        print(json.dumps({key: results["sets"][key]["scores"]}, indent=1), flush=True)
    if args.hours:
        results["scale"] = scale(args.work, args.hours)
        print(json.dumps(results["scale"], indent=1), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
