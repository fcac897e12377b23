"""BLAB-style long recordings with exact ground truth for all eight tasks, made offline.

A recording is a synthetic meeting (longspeech.synth: 2-5 voices, known words and times)
into which passages are spliced between turns: an advertisement, and emotional remarks whose
emotion is carried by their words. No emotional TTS exists offline, so emotion is in the
content only, never in the voice; the emotion tasks here test understanding of what is said,
not of how it sounds.

Advertisements come in styles (AD_STYLES): read by the host (the first voice) or an inserted
spot read by a voice heard nowhere else, opening with a sponsor cue or not. Each style has its
own texts and brands. TUNED_STYLES are the ones advertisement detection was tuned on;
HELD_BACK_STYLES are only for reporting, so a score on them says how detection does on
wording it has never seen.

Annotations are written in the official BLAB layout (one JSON list per task; fields
video_url, audio, question, answer_type, groundtruth, correct_option), so the official
scorer and ours read them alike.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from ..errors import InvalidOptionError
from ..files import atomic_write_text
from ..synth import DEFAULT_CACHE, RecordingSpec, make_recording, write_recording
from ..synth.corpus import NAMES
from ..synth.recording import PlacedSentence, SyntheticRecording
from ..synth.voices import DEFAULT_VOICES
from .blab import MINI_SECONDS, TASKS


# Host-read, opening with a sponsor cue (tuned).
HOST_CUED = (
    ("This episode is brought to you by Brightwave Coffee.",
     "Use the promo code morning for twenty percent off your first order.",
     "Visit Brightwave Coffee online today and taste the difference."),
    ("Today's show is sponsored by Northpeak Insurance.",
     "Get a free quote in five minutes and save on your car and home.",
     "Northpeak Insurance, protection you can count on."),
    ("Support for this podcast comes from Lumen Mattress.",
     "Sleep better tonight with a hundred night free trial and free delivery.",
     "Order your Lumen Mattress now with our special discount code."),
)
# An inserted spot in its own voice, no sponsor cue (tuned).
SPOT_PLAIN = (
    ("Tired of cold coffee by the middle of the morning?",
     "The Thermora travel mug keeps every drink hot for twelve hours.",
     "Get yours today at thermora dot com for half the usual price."),
    ("Your lawn deserves better.",
     "Greenleaf feeds the grass and fights the weeds in a single step.",
     "Greenleaf garden care, available at every hardware store near you."),
    ("Moving house this summer?",
     "Swift Van Rentals has vans of every size and friendly drivers on call.",
     "Book online and save on your next move with Swift Van Rentals."),
)
# Host-read, no sponsor cue and none of the tuned styles' selling phrases (held back).
HOST_PLAIN = (
    ("Quick break before we go on.",
     "I have been cooking with the Saffra meal kit all month and it has changed my evenings.",
     "Every box comes with fresh ingredients and simple recipes, ready in twenty minutes.",
     "Head to saffra dot com and your first box costs nothing."),
    ("Let me tell you about something I really like.",
     "Pinecrest running shoes are light, soft and made to last for hundreds of miles.",
     "Runners around the country have switched, and you can try a pair for thirty days.",
     "Pinecrest, because every mile matters."),
    ("Before we continue, a few words about Kelvo.",
     "Kelvo is the banking app that sends your money abroad in seconds with no hidden fees.",
     "Download Kelvo on your phone today and your first transfer is on us."),
)
# An inserted spot in its own voice, opening with cues the tuned styles never use (held back).
SPOT_CUED = (
    ("And now a message from our partners.",
     "At Glendale Dental we make every appointment calm and painless.",
     "Book a checkup this week and bring the whole family.",
     "Glendale Dental, smiles for life."),
    ("This segment is made possible by Orbix Internet.",
     "Fast fiber for your home with no contracts and no surprises.",
     "Call Orbix today and switch in one afternoon."),
    ("A word from our sponsor.",
     "Marlow Tea brings you leaves picked by hand in the hills.",
     "Find Marlow Tea in your local store this season."),
)
# style -> (who reads it, texts)
AD_STYLES = {"host_cued": ("host", HOST_CUED), "spot_plain": ("spot", SPOT_PLAIN),
             "host_plain": ("host", HOST_PLAIN), "spot_cued": ("spot", SPOT_CUED)}
TUNED_STYLES = ("host_cued", "spot_plain")
HELD_BACK_STYLES = ("host_plain", "spot_cued")
EMOTIONS = {
    "anger": ("I am absolutely furious that the {x} was late again.",
              "Honestly this makes me so angry, nobody fixed the {x}.",
              "I am really annoyed and mad about the {x}."),
    "joy": ("I am so happy and delighted with the new {x}.",
            "This is wonderful news, I am thrilled about the {x}.",
            "What a joy, I love how the {x} turned out."),
    "sadness": ("I feel very sad and heartbroken about the {x}.",
                "It is such a sad day, I miss the old {x}.",
                "I am unhappy and disappointed by the {x}."),
    "fear": ("I am scared and worried about the {x}.",
             "Honestly the {x} makes me afraid and nervous.",
             "I am terrified that the {x} will fail."),
    "surprise": ("Wow, I am completely amazed by the {x}.",
                 "I am shocked, I never expected the {x} to look like that.",
                 "What a surprise, the {x} astonished everyone."),
}
TOPICS = ("shipment", "budget", "schedule", "contract", "garden", "bridge", "report")
ROMAN = "ABCDE"
_PUNCT = re.compile(r"[^\w\s'#-]")


@dataclass(frozen=True)
class BlabRecording:
    """What one synthetic item contains, for building every task's question and answer."""

    audio: str
    duration: float
    speakers: int
    words: list[dict[str, Any]]              # {"word","start","end","ad","entity"}
    ad: dict[str, Any]                       # {"text","start","end","style"}
    emotions: list[tuple[str, str, float]]   # (emotion, topic, start) per remark
    first_talk: float                        # seconds the first voice heard speaks


def _plain(word: str) -> str:
    return _PUNCT.sub("", word)


def _splice(rec: SyntheticRecording, after: int, label: str, texts: Sequence[str],
            gap: float = 0.8) -> SyntheticRecording:
    """Insert `texts` spoken by speaker `label` after sentence `after`, delaying the rest."""
    sr = rec.sample_rate
    voice = rec.voices[label]
    renders = [DEFAULT_CACHE.get(voice, t) for t in texts]
    before = rec.sentences[:after + 1]
    cursor = before[-1].end_sample + round(gap * sr)
    turn = before[-1].turn + 1
    new: list[PlacedSentence] = []
    for r in renders:
        offset = cursor - r.speech_start
        new.append(PlacedSentence(len(rec.sentences) + len(new), turn, label, offset, r))
        cursor = new[-1].end_sample + round(0.3 * sr)
    shift = cursor + round(gap * sr) - rec.sentences[after + 1].start_sample \
        if after + 1 < len(rec.sentences) else cursor - before[-1].end_sample
    shift = max(0, shift)
    rest = [replace(s, offset=s.offset + shift, turn=s.turn + 1)
            for s in rec.sentences[after + 1:]]
    return SyntheticRecording(rec.spec, rec.voices, before + new + rest,
                              rec.num_samples + shift, rec.sample_rate, rec.speech_rms,
                              rec.noise_gain)


def make_blab_recording(seed: int, minutes: float, out_dir: Path, stem: str,
                        style: str = "host_cued") -> BlabRecording:
    """Render one item's audio (flac) and return its ground truth. `style` is a key of
    AD_STYLES; a spot's voice is one more speaker, heard only in the advertisement."""
    if style not in AD_STYLES:
        raise InvalidOptionError(f"unknown advertisement style {style!r}; choose from "
                                 f"{', '.join(AD_STYLES)}")
    rng = random.Random(f"longspeech.blab:{seed}")
    meeting = rng.randint(2, 5)
    rec = make_recording(RecordingSpec(seed=seed, duration=minutes * 60, speakers=meeting,
                                       gap=(0.4, 1.5)))
    labels = sorted(rec.voices)
    reader, texts = AD_STYLES[style]
    ad_texts = texts[rng.randrange(len(texts))]
    ad_voice = labels[0]
    if reader == "spot":
        ad_voice = f"spk{meeting}"
        rec = replace(rec, voices={**rec.voices, ad_voice: DEFAULT_VOICES[meeting]})
    speakers = len(rec.voices)
    n = len(rec.sentences)
    # Emotional remarks: counts differ per emotion, so a ranking by frequency is defined.
    chosen = rng.sample(sorted(EMOTIONS), 3)
    counts = dict(zip(chosen, (3, 2, 1)))
    kinds = [e for e, c in counts.items() for _ in range(c)]
    rng.shuffle(kinds)
    # One topic per remark, so "how does the speaker feel about X" has one answer.
    remarks = list(zip(kinds, rng.sample(TOPICS, len(kinds))))
    slots = sorted(rng.sample(range(2, max(3, n - 2)), min(len(remarks) + 1, max(1, n - 4))))
    ad_slot = slots[len(slots) // 2]
    inserts = [(ad_slot, "ad", None)] + [(s, "emotion", r) for s, r in
                                         zip([x for x in slots if x != ad_slot], remarks)]
    for slot, kind, remark in sorted(inserts, key=lambda t: -t[0]):  # back to front
        if kind == "ad":
            rec = _splice(rec, slot, ad_voice, ad_texts)
        else:
            emo, topic = remark
            text = rng.choice(EMOTIONS[emo]).format(x=topic)
            rec = _splice(rec, slot, labels[rng.randrange(meeting)], [text])
    # Later splices moved earlier ones: find the passages again by their text.
    ad_set = set(ad_texts)
    ad_sents = [s for s in rec.sentences if s.text in ad_set and s.speaker == ad_voice]
    ad_sents = sorted(ad_sents, key=lambda s: s.start)[:len(ad_texts)]
    emotions = []
    for s in rec.sentences:
        for emo, templates in EMOTIONS.items():
            if any(s.text == t.format(x=x) for t in templates for x in TOPICS):
                topic = next(x for x in TOPICS if f" {x}" in s.text)
                emotions.append((emo, topic, s.start))
    ad_ids = {id(s) for s in ad_sents}
    words = []
    for s in sorted(rec.sentences, key=lambda s: s.start_sample):
        for w in s.words():
            plain = _plain(w.word)
            if not plain:
                continue
            words.append({"word": plain, "start": w.start, "end": w.end,
                          "ad": id(s) in ad_ids, "entity": plain in NAMES})
    # Talk time as a diarizer measures it: runs of one voice's consecutive sentences.
    ordered = sorted(rec.sentences, key=lambda s: s.start_sample)
    first, first_talk, run = ordered[0].speaker, 0.0, None
    for s in ordered + [None]:
        if run and (s is None or s.speaker != run[0].speaker):
            if run[0].speaker == first:
                first_talk += run[-1].end - run[0].start
            run = None
        if s is not None:
            run = (run or []) + [s]
    paths = write_recording(rec, out_dir, stem, audio_format="flac")
    ad = {"text": " ".join(s.text for s in ad_sents), "start": ad_sents[0].start,
          "end": ad_sents[-1].end, "style": style}
    return BlabRecording(paths.audio.name, round(rec.duration, 3), speakers, words, ad,
                         sorted(emotions, key=lambda e: e[2]), round(first_talk, 3))


# -- questions and answers -----------------------------------------------------------------

def annotation_item(audio: str, question: str, groundtruth: Any, answer_type: str = "",
                    correct_option: str | None = None) -> dict[str, Any]:
    """One item in the official annotation layout, for a synthetic recording."""
    d = {"video_url": f"synthetic://{audio}", "audio": audio, "question": question,
         "answer_type": answer_type, "groundtruth": groundtruth}
    if correct_option is not None:
        d["correct_option"] = correct_option
    return d


def marked_words(words: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return [{"word": ("#" if w[key] else "") + w["word"], "start": w["start"], "end": w["end"]}
            for w in words]


def _options(rng: random.Random, right: str, wrong: list[str], k: int) -> tuple[str, str]:
    """Up to k options (fewer where a short recording allows fewer wrong ones)."""
    opts = [right] + rng.sample(wrong, min(k - 1, len(wrong)))
    rng.shuffle(opts)
    letter = ROMAN[opts.index(right)]
    return " ".join(f"({ROMAN[i]}) {o}" for i, o in enumerate(opts)), letter


def word_targets(words: list[dict[str, Any]], rng: random.Random, k: int = 10) -> list[str]:
    """k words to ask for: longer than three letters, said at most three times outside the
    advertisement, and written one way only (a target spelled two ways, "About" / "about",
    would make the question ambiguous: the scorer is case-sensitive, the question is not)."""
    counts: dict[str, int] = {}
    spellings: dict[str, set[str]] = {}
    for w in words:
        spellings.setdefault(w["word"].lower(), set()).add(w["word"])
        if not w["ad"] and len(w["word"]) > 3:
            counts[w["word"]] = counts.get(w["word"], 0) + 1
    return rng.sample(sorted(x for x, c in counts.items()
                             if c <= 3 and len(spellings[x.lower()]) == 1), k)


def word_question(targets: Sequence[str]) -> str:
    return ("Locate the exact start and end times of every occurrence of these words in the "
            f"audio: {', '.join(targets)}. Answer with a JSON list of objects with keys "
            '"word", "start" and "end" (seconds).')


def questions(r: BlabRecording, seed: int) -> dict[str, list[dict[str, Any]]]:
    """The items of every task for this recording: several questions for event duration
    (one in seconds, one in minutes) and emotion reasoning, so that scoring is exercised where
    one recording has more than one item. Word localization asks one question of ten words:
    the official scorer joins its items by recording alone, so two items of one recording
    would each be scored against both answers."""
    rng = random.Random(f"longspeech.blab.q:{seed}")
    item = partial(annotation_item, r.audio)
    out: dict[str, list[dict[str, Any]]] = {}
    pool = word_targets(r.words, rng)
    out["word_localization"] = [
        item(word_question(targets),
              [{"word": w["word"], "start": w["start"], "end": w["end"]} for w in r.words
               if w["word"] in targets])
        for targets in (pool,)]
    out["advertisement_localization"] = [item(
        "Locate the advertisement segments in this audio. Answer with a JSON list of "
           'objects with keys "advertisement", "start" and "end" (seconds).',
        {"ads_segment": [r.ad], "word_timestamp": marked_words(r.words, "ad")})]
    ents = [{"entity": w["word"], "start": w["start"], "end": w["end"]}
            for w in r.words if w["entity"]]
    out["named_entity_localization"] = [item(
        "Find every mention of a person's name in this audio. Answer with a JSON list of "
           'objects with keys "entity", "start" and "end" (seconds).',
        {"entities": ents, "word_timestamp": marked_words(r.words, "entity")})]
    out["speaker_number_estimation"] = [item(
        "How many different speakers talk in this audio? Answer with a number.",
        r.speakers)]
    out["entire_duration"] = [item(
        "What is the total duration of this audio in seconds? Provide only the numeric "
           "value as an integer without any explanation.", int(round(r.duration)))]
    # The scorer appends its answer-format sentence to the question itself; a "minutes"
    # item's ground truth is in minutes and its answer's first integer is read as minutes.
    out["event_duration"] = [
        item("How long does the advertisement in this audio last, in seconds",
              int(round(r.ad["end"] - r.ad["start"])), answer_type="seconds"),
        item("How long does SPEAKER_00, the first voice heard, talk in total, in minutes",
              int(round(r.first_talk / 60)), answer_type="minutes")]
    # BLAB-MINI's event-duration task, on short clips only.
    out["event_duration_short_audio"] = [
        item("How long does the advertisement in this audio last, in seconds",
              int(round(r.ad["end"] - r.ad["start"])), answer_type="seconds")
    ] if r.duration < MINI_SECONDS else []
    out["emotion_reasoning"] = []
    topics_asked: set[str] = set()
    for emo, topic, _ in rng.sample(r.emotions, len(r.emotions)):
        if topic in topics_asked or len(topics_asked) == 2:
            continue
        topics_asked.add(topic)
        opts, letter = _options(rng, emo, [e for e in EMOTIONS if e != emo], 4)
        out["emotion_reasoning"].append(item(
            f"How does the speaker feel when talking about the {topic}? {opts}", letter,
            correct_option=letter))
    freq: dict[str, int] = {}
    for e, _, _ in r.emotions:
        freq[e] = freq.get(e, 0) + 1
    ranking = sorted(freq, key=lambda e: -freq[e])
    right = " > ".join(ranking)
    wrong = sorted({" > ".join(p) for p in _permutations(ranking)} - {right})
    out["emotion_ranking"] = []
    if wrong:      # a recording too short for emotional remarks has nothing to rank
        opts, letter = _options(rng, right, wrong, 5)
        out["emotion_ranking"].append(item(
            "Rank the emotions expressed in this audio from most to least frequent. " + opts,
            letter, correct_option=letter))
    return out


def _permutations(xs: list[str]) -> list[tuple[str, ...]]:
    from itertools import permutations

    return list(permutations(xs))


def make_synthetic_blab(out_dir: str | Path, n: int, minutes: float, seed: int = 0,
                        tasks: Sequence[str] = TASKS,
                        styles: Sequence[str] = tuple(AD_STYLES)) -> dict[str, Path]:
    """Write n recordings to OUT/audio and one annotation file per task to OUT/annotations.
    Recording i carries an advertisement of style styles[(seed + i) % len(styles)].

    Existing audio with the same name is kept (rendering is deterministic), so a rerun only
    writes what is missing.
    """
    out = Path(out_dir)
    per_task: dict[str, list[dict[str, Any]]] = {t: [] for t in tasks}
    for i in range(n):
        stem = f"blab_{seed + i:04d}"
        gt_file = out / "ground_truth" / f"{stem}.json"
        saved = json.loads(gt_file.read_text()) if gt_file.exists() else {}
        style = styles[(seed + i) % len(styles)]
        if set(saved) == set(BlabRecording.__dataclass_fields__) and \
                saved["ad"].get("style") == style and (out / "audio" / f"{stem}.flac").exists():
            rec = BlabRecording(**saved)
        else:
            rec = make_blab_recording(seed + i, minutes, out / "audio", stem, style)
            atomic_write_text(gt_file, json.dumps(rec.__dict__) + "\n")
        qs = questions(rec, seed + i)
        for t in tasks:
            per_task[t].extend(qs[t])
    empty = [t for t, items in per_task.items() if not items]
    if empty:
        raise InvalidOptionError(
            f"no synthetic item for {', '.join(empty)} on {minutes:g}-minute recordings: the "
            "short-audio task needs recordings under 30 s (--minutes 0.2), the emotion tasks "
            "need a minute or more; choose the tasks with --tasks")
    files = {}
    for t, items in per_task.items():
        files[t] = out / "annotations" / f"{t}.json"
        atomic_write_text(files[t], json.dumps(items, indent=1) + "\n")
    return files
