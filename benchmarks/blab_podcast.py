"""A second BLAB-style generator, built differently from longspeech.eval.blab_synthetic, for
reporting only: nothing in the answerers was chosen on it.

What differs from the tuning generator:
- a scripted podcast episode (a host and one to three guests talking in turns), not turns
  drawn from the synthesiser's meeting corpus; its own sentence templates and fillers;
- other voices: espeak-ng accents and variants (Scottish, Caribbean, Lancaster, West
  Midlands) and flite's 8 kHz "kal", none of them in the synthesiser's default set;
- named entities of three kinds (people, organisations, places: BLAB's "people,
  organizations, locations"), with full names, placed by the script and marked in the
  ground truth word by word as BLAB marks them ('#'); the question is BLAB's wording;
- advertisements read by an announcer heard nowhere else, in styles the detector never
  saw: direct response with a web address and a code, a testimonial, a pre-roll before
  the talk starts, a local-business spot; one or two per episode;
- pink noise at 25 dB SNR.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from longspeech.eval.blab_synthetic import (annotation_item, marked_words, word_question,
                                            word_targets)
from longspeech.files import atomic_write_text
from longspeech.synth import RecordingSpec, make_recording, write_recording
from longspeech.synth.voices import Voice

PEOPLE = ("Maria Lopez", "Kwame Mensah", "Ingrid Solberg", "Rahul Mehta", "Fiona Gallagher",
          "Tomasz Nowak", "Aiko Tanaka", "Brendan Walsh", "Leila Haddad", "Jonas Becker",
          "Priya Raman", "Diego Herrera", "Hannah Kim", "Marcus Reed", "Elena Petrova",
          "Samuel Okoro", "Chloe Martin", "Ahmed Farouk")
ORGS = ("Microsoft", "the World Health Organization", "Oxford University", "Toyota",
        "the United Nations", "Greenpeace", "Amazon", "the BBC", "Harvard University",
        "Siemens", "the Red Cross", "Netflix", "NASA", "Reuters")
PLACES = ("Chicago", "Nairobi", "Norway", "Mumbai", "Dublin", "Warsaw", "Tokyo", "Boston",
          "Beirut", "Berlin", "Madrid", "Brazil", "Canada", "Lisbon", "Seattle")
TOPICS = ("remote work", "climate policy", "city planning", "public libraries",
          "food prices", "school lunches", "electric buses", "river cleanup",
          "night trains", "community radio")
# Lines with entities: {P} a person, {O} an organisation, {L} a place, {T} a topic.
TEMPLATES = (
    "Last spring I sat down with {P} in {L} to talk about {T}.",
    "{P} told me that {O} had moved most of its staff to {L}.",
    "When I was working for {O}, nobody wanted to discuss {T} at all.",
    "My cousin lives in {L} and she says {T} is all anyone talks about there.",
    "I read an interview where {P} argued that {T} will change everything.",
    "The study from {O} looked at {T} in {L} over about ten years.",
    "So you flew from {L} to {L} just for that meeting?",
    "{P} and {P} wrote a report on {T} that I keep coming back to.",
    "Did {O} ever answer your questions about {T}?",
    "I think {P} put it best when she said we should just listen more.",
    "There was a conference in {L} last year, and {O} sent almost forty people.",
    "Honestly, {L} surprised me, the people there really care about {T}.",
    "We invited {P} from {O} to join us, but the dates did not work out.",
    "Funding for {T} in {L} doubled after {O} got involved.",
    "I still remember the first time I visited {L} with {P}.",
)
FILLERS = (
    "That is a fair point, but I think the numbers tell a different story.",
    "Right, and that is exactly where it gets complicated.",
    "I am not sure I agree, to be honest with you.",
    "Let us come back to that in a minute.",
    "What surprised you most when you started looking into it?",
    "It took us months to see any change at all.",
    "People tend to forget how slowly these things move.",
    "Can you give our listeners an example?",
    "I would say it depends on who you ask.",
    "That makes sense, and it matches what our listeners wrote in.",
    "We tried a small version of it first, and it mostly worked.",
    "So what would you tell someone who is just getting started?",
    "There is no single answer, and anyone who says so is selling something.",
    "Good question, I had not thought about it that way.",
)
# Advertisement styles never used while tuning; each a list of alternatives.
ADS = {
    "direct": (
        ("Looking for a faster way to learn a language?",
         "Lingofox gives you ten minute lessons that fit into your lunch break.",
         "Go to lingofox dot com slash radio and enter code listen for two months free.",
         "That is lingofox dot com slash radio."),
        ("Your back will thank you.",
         "The Restwell office chair adjusts in seven ways and ships in two days.",
         "Order at restwell dot com with code sit twenty and save twenty dollars."),
    ),
    "testimonial": (
        ("I used to dread doing my taxes every year.",
         "Then a friend showed me Tallybird, and now it takes me one evening.",
         "Tallybird checks every form for you, and the basic plan is free.",
         "Try Tallybird today, you will wonder how you managed without it."),
        ("My dog is a picky eater, so I was skeptical.",
         "Since we switched to Barkley Fresh, she finishes every bowl.",
         "Barkley Fresh meals are cooked in small batches and delivered frozen.",
         "Get half off your first order at barkley fresh dot com."),
    ),
    "local": (
        ("Hungry after the game?",
         "Rosetti's Pizzeria on Main Street is open until midnight every day.",
         "Family deals start at fifteen dollars, and delivery is free nearby.",
         "Rosetti's Pizzeria, call five five five, two one two one."),
        ("Spring is here, and Hillcrest Garden Center has everything you need.",
         "Seeds, soil and tools at prices your neighbors already love.",
         "Visit us this weekend for our big spring sale."),
    ),
}
VOICES = (
    Voice("espeak", "en-gb-scotland+f4", (("rate", 158.0), ("pitch", 62.0))),
    Voice("espeak", "en-029+m7", (("rate", 145.0), ("pitch", 28.0))),
    Voice("flite", "kal", (("duration_stretch", 1.05),)),
    Voice("espeak", "en-gb-x-gbclan+f5", (("rate", 150.0), ("pitch", 75.0))),
)
ANNOUNCER = Voice("espeak", "en-gb-x-gbcwmd+m2", (("rate", 175.0), ("pitch", 45.0)))
NE_QUESTION = ("Detect and locate the exact start and end times of the named entities (e.g., "
               "people, organizations, locations) in this audio. Answer with a JSON list of "
               'objects with keys "entity", "start" and "end" (seconds).')
AD_QUESTION = ("Locate and transcribe the advertisement segments within this podcast. Answer "
               'with a JSON list of objects with keys "advertisement", "start" and "end".')
_SLOT = re.compile(r"\{([POLT])\}")
_PUNCT = re.compile(r"[^\w\s'-]")


def _fill(template: str, rng: random.Random) -> tuple[str, list[bool]]:
    """The line's text and, per whitespace token, whether it belongs to an entity."""
    tokens: list[tuple[str, bool]] = []

    def literal(part: str) -> None:
        # punctuation right after a slot joins the slot's last token
        if part and not part[0].isspace() and tokens:
            first, _, part = part.partition(" ")
            tokens[-1] = (tokens[-1][0] + first, tokens[-1][1])
        tokens.extend((t, False) for t in part.split())

    pos = 0
    for m in _SLOT.finditer(template):
        literal(template[pos:m.start()])
        kind = m.group(1)
        value = rng.choice({"P": PEOPLE, "O": ORGS, "L": PLACES, "T": TOPICS}[kind])
        entity = kind != "T"
        words = value.split()
        if entity and words[0] == "the":      # "the" is no part of the name
            tokens.append(("the", False))
            words = words[1:]
        tokens += [(w, entity) for w in words]
        pos = m.end()
    literal(template[pos:])
    text = " ".join(t for t, _ in tokens)
    return text[0].upper() + text[1:], [e for _, e in tokens]


def episode(seed: int, minutes: float) -> tuple[RecordingSpec, list[list[bool]], list[str],
                                                 int]:
    """The script: (speaker, line) turns; per line, its tokens' entity flags; per line, the
    advertisement style or ""; how many voices speak."""
    rng = random.Random(f"longspeech.blab.podcast:{seed}")
    guests = rng.randint(1, 3)
    voices = tuple(rng.sample(VOICES, guests + 1)) + (ANNOUNCER,)
    announcer = guests + 1
    lines: list[tuple[int, str]] = []
    flags: list[list[bool]] = []
    ad_of: list[str] = []
    styles = rng.sample(sorted(ADS), 2)
    n_ads = 1 + (minutes >= 6 and rng.random() < 0.6)
    words_budget = minutes * 60 * 2.4        # about 2.4 words a second with the gaps
    ad_at = sorted(rng.sample(range(2, int(words_budget // 14) - 2), n_ads))
    if rng.random() < 0.4:
        ad_at[0] = 0                          # a pre-roll before the talk starts
    speaker, count, k = 0, 0, 0
    while count < words_budget:
        if ad_at and k == ad_at[0]:
            ad_at.pop(0)
            style = styles.pop(0)
            for text in rng.choice(ADS[style]):
                lines.append((announcer, text))
                flags.append([False] * len(text.split()))
                ad_of.append(style)
                count += len(text.split())
        for _ in range(rng.randint(1, 2)):
            if rng.random() < 0.55:
                text, f = _fill(rng.choice(TEMPLATES), rng)
            else:
                text = rng.choice(FILLERS)
                f = [False] * len(text.split())
            lines.append((speaker, text))
            flags.append(f)
            ad_of.append("")
            count += len(text.split())
        k += 1
        speaker = rng.choice([s for s in range(guests + 1) if s != speaker])
    spec = RecordingSpec(seed=seed, duration=minutes * 60 + 60, speakers=len(voices),
                         voices=voices, script=tuple(lines), gap=(0.35, 1.2), snr_db=25.0,
                         noise="pink")
    return spec, flags, ad_of, len(voices)


def make_item(seed: int, minutes: float, out_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    """Render one episode and return (task, official annotation item) pairs."""
    spec, flags, ad_of, speakers = episode(seed, minutes)
    rec = make_recording(spec)
    last = max(s.end for s in rec.sentences)
    rec = make_recording(replace(spec, duration=round(last + 1.5, 1)))
    stem = f"podcast_{seed:04d}"
    paths = write_recording(rec, out_dir, stem, audio_format="flac")
    words = []
    for s in sorted(rec.sentences, key=lambda s: s.start_sample):
        for w, entity in zip(s.words(), flags[s.index]):
            plain = _PUNCT.sub("", w.word)
            if plain:
                words.append({"word": plain, "start": w.start, "end": w.end,
                              "entity": entity, "ad": bool(ad_of[s.index])})
    ads, run = [], []
    for s in sorted(rec.sentences, key=lambda s: s.start_sample) + [None]:
        if s is not None and ad_of[s.index] and (not run or ad_of[run[-1].index] ==
                                                 ad_of[s.index]):
            run.append(s)
            continue
        if run:
            ads.append({"text": " ".join(x.text for x in run), "start": run[0].start,
                        "end": run[-1].end})
            run = []
        if s is not None and ad_of[s.index]:
            run = [s]
    audio = paths.audio.name
    pool = word_targets(words, random.Random(f"longspeech.blab.podcast.q:{seed}"))
    entities, run_e = [], []
    for w in words + [None]:
        if w is not None and w["entity"]:
            run_e.append(w)
        elif run_e:
            entities.append({"entity": " ".join(x["word"] for x in run_e),
                             "start": run_e[0]["start"], "end": run_e[-1]["end"]})
            run_e = []
    item = partial(annotation_item, audio)
    return [
        ("word_localization", item(word_question(pool), [
            {"word": w["word"], "start": w["start"], "end": w["end"]} for w in words
            if w["word"] in pool])),
        ("advertisement_localization", item(AD_QUESTION, {
            "ads_segment": ads, "word_timestamp": marked_words(words, "ad")})),
        ("named_entity_localization", item(NE_QUESTION, {
            "entities": entities, "word_timestamp": marked_words(words, "entity")})),
        ("speaker_number_estimation", item("How many different speakers are there in this "
                                           "podcast? Answer with a number.", speakers)),
        ("entire_duration", item("What is the entire duration of this audio in seconds? "
                                 "Provide only the numeric value as an integer without any "
                                 "explanation.", int(round(rec.duration)))),
    ]


def make_podcast_set(out: Path, seeds: list[int], minutes: float) -> dict[str, Path]:
    """Audio in OUT/audio, one official annotation file per task in OUT/annotations."""
    per_task: dict[str, list[dict[str, Any]]] = {}
    for seed in seeds:
        for task, it in make_item(seed, minutes, out / "audio"):
            per_task.setdefault(task, []).append(it)
    files = {}
    for task, items in per_task.items():
        files[task] = out / "annotations" / f"{task}.json"
        atomic_write_text(files[task], json.dumps(items, indent=1) + "\n")
    return files
