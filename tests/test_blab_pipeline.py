"""BLAB `pipeline` system: answers read from a Transcript, and synthetic items whose ground
truth matches their audio."""

from __future__ import annotations

import json

import pytest

from longspeech.qa import blab_answers as A
from longspeech.eval.blab_synthetic import AD_STYLES, TASKS, make_synthetic_blab
from longspeech.synth.corpus import NAMES
from longspeech.synth.corpus import sentences as corpus_sentences
from longspeech.types import Recording, Segment, SpeakerTurn, Transcript, Word


def _seg(words: list[tuple[str, float, float]], speaker: str | None = None) -> Segment:
    ws = [Word(w, s, e, 0.9, speaker) for w, s, e in words]
    return Segment(ws[0].start, ws[-1].end, "".join(w.word for w in ws).strip(), ws, speaker)


@pytest.fixture
def meeting() -> Transcript:
    segs = [
        _seg([(" Yesterday", 0.5, 1.0), (" Victor", 1.1, 1.5), (" signed", 1.6, 2.0),
              (" the", 2.0, 2.1), (" contract.", 2.1, 2.7)], "SPEAKER_00"),
        _seg([(" This", 5.0, 5.2), (" show", 5.2, 5.5), (" is", 5.5, 5.6),
              (" sponsored", 5.6, 6.1), (" by", 6.1, 6.2), (" Northpeak", 6.2, 6.8),
              (" Insurance.", 6.8, 7.4)], "SPEAKER_00"),
        _seg([(" Northpeak", 8.0, 8.5), (" Insurance,", 8.5, 9.0), (" protection", 9.0, 9.6),
              (" you", 9.6, 9.7), (" can", 9.7, 9.8), (" trust.", 9.8, 10.2)], "SPEAKER_00"),
        _seg([(" I", 20.0, 20.1), (" am", 20.1, 20.2), (" furious", 20.2, 20.7),
              (" about", 20.7, 20.9), (" the", 20.9, 21.0), (" budget.", 21.0, 21.5)],
             "SPEAKER_01"),
        _seg([(" I", 22.0, 22.1), (" am", 22.1, 22.2), (" so", 22.2, 22.3),
              (" happy", 22.3, 22.7), (" with", 22.7, 22.8), (" the", 22.8, 22.9),
              (" garden.", 22.9, 23.4)], "SPEAKER_00"),
        _seg([(" Really", 25.0, 25.3), (" angry", 25.3, 25.7), (" again,", 25.7, 26.0),
              (" Monday", 26.0, 26.4), (" contract.", 26.4, 27.0)], "SPEAKER_01"),
    ]
    turns = [SpeakerTurn(0.5, 10.2, "SPEAKER_00"), SpeakerTurn(20.0, 21.5, "SPEAKER_01"),
             SpeakerTurn(22.0, 23.4, "SPEAKER_00"), SpeakerTurn(25.0, 27.0, "SPEAKER_01")]
    rec = Recording("m", "m.flac", 61.4, 16000, 1)
    return Transcript(rec, "en", segs, ["SPEAKER_00", "SPEAKER_01"], {}, turns)


def test_word_localization_lists_every_occurrence_with_the_asked_spelling(meeting):
    q = "Locate the exact start and end times of these words in the audio: Contract, Victor."
    got = json.loads(A.answer("word_localization", q, meeting))
    assert got == [{"word": "Victor", "start": 1.1, "end": 1.5},
                   {"word": "Contract", "start": 2.1, "end": 2.7},
                   {"word": "Contract", "start": 26.4, "end": 27.0}]
    assert A.target_words('Find the words "garden" and "budget" in the audio') == [
        "garden", "budget"]


def _talk_with_ad(ad: tuple[str, ...] = (), reader: str = "SPEAKER_00") -> Transcript:
    """Eighty generated sentences between two voices in turns of three, with `ad` read by
    `reader` after the fortieth; each word 0.3 s, 0.8 s between sentences."""
    lines = [(f"SPEAKER_0{(i // 3) % 2}", s) for i, s in enumerate(corpus_sentences(11, 80))]
    lines[40:40] = [(reader, s) for s in ad]
    segs, t = [], 1.0
    for speaker, line in lines:
        words = [(" " + w, round(t + 0.3 * k, 2), round(t + 0.3 * k + 0.25, 2))
                 for k, w in enumerate(line.split())]
        segs.append(_seg(words, speaker))
        t = words[-1][2] + 0.8
    rec = Recording("talk", "talk.flac", t + 1.0, 16000, 1)
    return Transcript(rec, "en", segs, ["SPEAKER_00", "SPEAKER_01"], {}, [])


@pytest.mark.parametrize("style", ["host_plain", "spot_cued"])
def test_an_advertisement_without_the_tuned_wording_is_found_and_nothing_else(style):
    """Held-back styles: no cue phrase of the tuned ones, read by one voice inside a talk."""
    ad = AD_STYLES[style][1][1]
    tr = _talk_with_ad(ad, "SPEAKER_01")
    first, last = tr.segments[40], tr.segments[40 + len(ad) - 1]
    assert first.text == ad[0] and last.text == ad[-1]
    got = json.loads(A.answer("advertisement_localization", "Find the ads.", tr))
    assert [(g["start"], g["end"]) for g in got] == [(first.start, last.end)]
    assert A.answer("event_duration", "How long is the advertisement?", tr) == str(
        round(last.end - first.start))
    # The brand it repeats is not a person's name.
    brand = ad[1].split()[0]
    names = [g["entity"] for g in json.loads(A.answer("named_entity_localization",
                                                      "Find every person's name.", tr))]
    assert brand not in names and set(names) & set(NAMES)


def _with_turns(tr: Transcript) -> Transcript:
    """The transcript with the diarization turns its segments' speakers make."""
    turns = [SpeakerTurn(seg.start, seg.end, seg.speaker) for seg in tr.segments]
    return Transcript(tr.recording, tr.language, tr.segments,
                      sorted({t.speaker for t in turns}), {}, turns)


def test_an_announcer_heard_only_in_the_advertisement_marks_it():
    """A testimonial read by a voice heard nowhere else: no cue phrase, no price in its first
    lines. The voice that speaks only there is evidence the LLM's judgement alone lacks."""
    ad = ("I used to dread cleaning the oven every spring.",
          "Then my sister showed me Brightfoam, and now it takes ten minutes.",
          "You spray it on, wait a little, and wipe it all away.",
          "Brightfoam is in the cleaning aisle of your supermarket.")
    tr = _with_turns(_talk_with_ad(ad, "SPEAKER_02"))
    from longspeech.qa.ads import AdRules, passing_voices

    assert passing_voices(tr, AdRules()) == {"SPEAKER_02"}
    first, last = tr.segments[40], tr.segments[43]
    got = json.loads(A.answer("advertisement_localization", "Find the ads.", tr))
    assert [(g["start"], g["end"]) for g in got] == [(first.start, last.end)]
    # A meeting voice is no passing voice, however little it says.
    assert passing_voices(_with_turns(_talk_with_ad()), AdRules()) == set()


def test_a_talk_without_advertisement_has_none():
    tr = _talk_with_ad()
    assert json.loads(A.answer("advertisement_localization", "Find the ads.", tr)) == []


def test_person_names_are_not_dates_or_brands(meeting):
    got = json.loads(A.answer("named_entity_localization", "Find every person's name.",
                              meeting))
    assert [g["entity"] for g in got] == ["Victor"]


def test_counts_and_durations(meeting):
    assert A.answer("speaker_number_estimation", "How many speakers?", meeting) == "2"
    assert A.answer("entire_duration", "How long is it?", meeting) == "61"
    # SPEAKER_01 talks 1.5 + 2.0 s.
    assert A.answer("event_duration", "How long does speaker 1 talk?", meeting) == "4"


def test_emotion_answers_come_from_what_is_said(meeting):
    q = "How does the speaker feel about the budget? (A) joy (B) fear (C) anger (D) sadness"
    assert A.answer("emotion_reasoning", q, meeting) == "(C)"
    q = "How does the speaker feel about the garden? (A) joy (B) fear (C) anger (D) sadness"
    assert A.answer("emotion_reasoning", q, meeting) == "(A)"
    # anger twice, joy once, fear never.
    q = ("Rank the emotions from most to least frequent. (A) joy > anger > fear "
         "(B) fear > joy > anger (C) anger > joy > fear (D) anger > fear > joy")
    assert A.answer("emotion_ranking", q, meeting) == "(C)"


def test_synthetic_items_ground_truth_matches_the_words(tmp_path):
    files = make_synthetic_blab(tmp_path, 1, 2.0, seed=3)
    assert set(files) == set(TASKS)
    item = json.loads(files["advertisement_localization"].read_text())[0]
    ad = item["groundtruth"]["ads_segment"][0]
    marked = [w for w in item["groundtruth"]["word_timestamp"] if w["word"].startswith("#")]
    assert marked[0]["start"] == ad["start"] and marked[-1]["end"] == ad["end"]
    assert " ".join(w["word"][1:] for w in marked).split()[:3] == ad["text"].replace(
        ".", "").replace(",", "").split()[:3]
    dur = json.loads(files["event_duration"].read_text())[0]["groundtruth"]
    assert dur == round(ad["end"] - ad["start"])
    meta = json.loads((tmp_path / "audio" / "blab_0003.json").read_text())
    total = json.loads(files["entire_duration"].read_text())[0]["groundtruth"]
    assert total == round(meta["duration"])
    spk = json.loads(files["speaker_number_estimation"].read_text())[0]["groundtruth"]
    assert spk == len(meta["speakers"]) and 2 <= spk <= 6
    # seed 3 of the four styles in turn: an inserted spot, in a voice of its own
    assert ad["style"] == "spot_cued"
    # Several questions per recording, and an event duration asked in minutes.
    events = json.loads(files["event_duration"].read_text())
    assert [e["answer_type"] for e in events] == ["seconds", "minutes"]
    gt = json.loads((tmp_path / "ground_truth" / "blab_0003.json").read_text())
    assert events[1]["groundtruth"] == round(gt["first_talk"] / 60)
    assert len(json.loads(files["word_localization"].read_text())) == 1
    assert len(json.loads(files["emotion_reasoning"].read_text())) >= 1


def test_numbers_written_in_digits_are_found_as_spoken_words():
    assert A.spoken("17th") == ["seventeenth"]
    assert A.spoken("1965,") == ["nineteen", "sixty", "five"]
    assert A.spoken("3.45") == ["three", "forty", "five"]
    assert A.spoken("20%") == ["twenty", "percent"]
    assert A.spoken("twenty-five") == ["twenty", "five"]
    assert A.spoken("Felix.") == ["Felix"]
    segs = [_seg([(" On", 1.0, 1.2), (" the", 1.2, 1.3), (" 17th", 1.3, 1.8), (" of", 1.8, 1.9),
                  (" May,", 1.9, 2.3), (" in", 2.4, 2.5), (" 1965.", 2.5, 3.4)])]
    tr = Transcript(Recording("n", "n.flac", 5.0, 16000, 1), "en", segs, [], {})
    q = "Locate the exact start and end times of these words in the audio: seventeenth, sixty."
    got = json.loads(A.answer("word_localization", q, tr))
    # "1965" is nineteen (8 letters) sixty (5) five (4): sixty takes 5/17 of 2.5-3.4 s.
    assert got == [{"word": "seventeenth", "start": 1.3, "end": 1.8},
                   {"word": "sixty", "start": pytest.approx(2.5 + 0.9 * 8 / 17, abs=1e-3),
                    "end": pytest.approx(2.5 + 0.9 * 13 / 17, abs=1e-3)}]


def test_entities_of_the_kinds_asked_with_their_word_times():
    segs = [_seg([(" Yesterday", 0.5, 1.0), (" Maria", 1.1, 1.5), (" Lopez", 1.5, 1.9),
                  (" flew", 1.9, 2.2), (" to", 2.2, 2.3), (" Chicago", 2.3, 2.9),
                  (" for", 2.9, 3.0), (" Microsoft.", 3.0, 3.6)]),
            _seg([(" Honestly,", 5.0, 5.5), (" the", 5.5, 5.6), (" budget", 5.6, 6.0),
                  (" is", 6.0, 6.1), (" fine.", 6.1, 6.4)])]
    tr = Transcript(Recording("n", "n.flac", 8.0, 16000, 1), "en", segs, [], {})

    def asked(question: str) -> list[tuple[str, float, float]]:
        got = json.loads(A.answer("named_entity_localization", question, tr))
        return [(g["entity"], g["start"], g["end"]) for g in got]

    # A multi-word name spans its first word's start to its last word's end.
    everything = [("Maria Lopez", 1.1, 1.9), ("Chicago", 2.3, 2.9), ("Microsoft", 3.0, 3.6)]
    assert asked("Locate every named entity in the audio.") == everything
    assert asked("Find every mention of a person's name.") == everything[:1]
    assert asked("Which places are mentioned, and when?") == everything[1:2]
    assert asked("When are companies mentioned?") == everything[2:]


def test_a_name_found_once_is_found_wherever_it_is_said_again():
    from longspeech.qa.entities import _capitalised, _propagate

    words = [[Word(f" {w}", i, i + 0.5, 0.9) for i, w in enumerate(line.split())]
             for line in ("We met Kwame Mensah there.", "Later Kwame Mensah called.",
                          "The kwame word is lower case.", "Then Oskarsson moved the boxes.")]
    tags: list[list[str | None]] = [[None, None, "PERSON", "PERSON", None],
                                    [None] * 4, [None] * 6, [None] * 5]
    _propagate(words, tags)
    assert tags[1] == [None, "PERSON", "PERSON", None] and tags[2] == [None] * 6
    # A capitalised word inside a sentence that is no common word: a name of unknown kind;
    # "Later", "The" and "Then" open their sentences.
    _capitalised(words, tags)
    assert tags[3] == [None, "NAME", None, None, None]
    assert tags[1][0] is None and tags[2][0] is None
    # One label per name: the one given most often wins where the recogniser disagreed.
    words = [[Word(f" {w}", i, i + 0.5, 0.9) for i, w in enumerate(line.split())]
             for line in ("Ask Helen now.", "Helen agreed.", "Then Helen left.")]
    tags = [[None, "ORG", None], ["PERSON", None], [None, "PERSON", None]]
    _propagate(words, tags)
    assert [t for line in tags for t in line if t] == ["PERSON"] * 3


def test_lslm_system_answers_as_a_resumable_ask_job(tmp_path):
    """The speech-LM system asks every BLAB question as one ask job: each recording encoded
    once, one answer per question, all reused by a second run."""
    from longspeech.eval.blab import load_blab
    from longspeech.eval.blab_run import BlabRunOptions, run_blab
    from longspeech.pipelines.runners import LocalRunner

    tasks = ["entire_duration", "speaker_number_estimation"]
    files = make_synthetic_blab(tmp_path / "data", 1, 1.0, seed=5, tasks=tasks)
    audio = tmp_path / "data" / "audio"
    items = load_blab(files[tasks[0]].parent, tasks, audio)
    opts = BlabRunOptions(tasks=tasks, system="lslm", runner=LocalRunner(), diarize=False)
    res = run_blab(items, audio, tmp_path / "out", opts)
    assert set(res.scores) == set(tasks)
    preds = {t: json.loads((tmp_path / "out" / "predictions" / f"{t}.json").read_text())
             for t in tasks}
    assert all(len(preds[t]) == len(items[t]) and preds[t][0]["prediction"] for t in tasks)
    log = tmp_path / "out" / "lslm" / ".longspeech" / "job.log"
    events = [json.loads(x)["event"] for x in log.read_text().splitlines()]
    assert events.count("encoded") == 1 and events.count("answered") == len(tasks)
    run_blab(items, audio, tmp_path / "out", BlabRunOptions(
        tasks=tasks, system="lslm", runner=LocalRunner(), diarize=False))
    events = [json.loads(x)["event"] for x in log.read_text().splitlines()]
    assert events.count("answered") == len(tasks) and events.count("answer_reused") == len(tasks)


def test_event_duration_answers_in_the_unit_the_item_asks(meeting):
    # SPEAKER_00 talks 9.7 + 1.4 = 11.1 s: "11" in seconds, "0" whole minutes.
    q = "How long does speaker 0 talk?"
    assert A.answer("event_duration", q, meeting, "seconds") == "11"
    assert A.answer("event_duration", q, meeting, "minutes") == "0"
    assert A.answer("event_duration_short_audio", q, meeting) == "11"


def _silence(path, seconds: float):
    import numpy as np
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(int(seconds * 16000), dtype="float32"), 16000)
    return path


def _emotion_item(audio: str, question: str, option: str) -> dict:
    return {"video_url": "u", "audio": audio, "question": question, "groundtruth": option,
            "correct_option": option}


def test_per_item_scores_per_question_and_per_task_prediction_files(tmp_path):
    """Two questions on one recording each get their own score; predictions come from one
    file per task (a folder, or TASK=FILE pairs); "x.opus" is found as x.wav by the one
    audio resolver, for answering and for the report's durations alike."""
    from longspeech.errors import InvalidOptionError
    from longspeech.eval.blab import make_prediction, write_predictions
    from longspeech.eval.blab_run import BlabRunOptions, run_blab

    audio = tmp_path / "audio"
    _silence(audio / "x.wav", 12.0)
    items = {"emotion_reasoning": [
                 _emotion_item("x.opus", "How does Ann feel? (A) joy (B) fear", "A"),
                 _emotion_item("x.opus", "How does Bob feel? (A) joy (B) fear", "B")],
             "speaker_number_estimation": [{"audio": "x.opus", "question": "How many?",
                                            "groundtruth": 2}]}
    answers = {"emotion_reasoning": ["(A)", "**(B)**"], "speaker_number_estimation": ["2"]}
    given = tmp_path / "given"
    for task, its in items.items():
        write_predictions(given / f"{task}.json",
                          [make_prediction(task, it, a) for it, a in zip(its, answers[task])])
    for spec in (f"predictions:{given}",
                 "predictions:" + ",".join(f"{t}={given / t}.json" for t in items)):
        res = run_blab(items, audio, tmp_path / "out", BlabRunOptions(tasks=list(items),
                                                                      system=spec))
        rows = res.per_item["emotion_reasoning"]
        assert [(r["question"][:12], r["score"], r["answered"]) for r in rows] == [
            ("How does Ann", 100.0, True), ("How does Bob", 100.0, True)]
        assert all(r["duration"] == 12.0 for r in rows)
        assert res.scores["speaker_number_estimation"]["official"] == {"accuracy": 100.0}
    with pytest.raises(InvalidOptionError, match="one predictions file cannot answer 2 tasks"):
        run_blab(items, audio, tmp_path / "out", BlabRunOptions(
            tasks=list(items), system=f"predictions:{given}/emotion_reasoning.json"))


def test_short_audio_task_and_blab_mini_selection(tmp_path):
    from longspeech.eval.blab_run import BlabRunOptions, mini_items

    audio = tmp_path / "audio"
    _silence(audio / "short.wav", 20.0)
    _silence(audio / "long.wav", 45.0)
    task = "event_duration_short_audio"
    items = {task: [{"audio": f"{n}.wav", "question": "How long is the pause",
                     "groundtruth": 20} for n in ("short", "long")]}
    BlabRunOptions(tasks=[task]).validate()
    assert [it["audio"] for it in mini_items(items, audio)[task]] == ["short.wav"]


def test_eval_with_a_missing_recording_reports_both_numbers(tmp_path):
    """One of two recordings is absent: the official numbers score the answered one only,
    the all-items numbers count the absent one's items as wrong; the CLI says which file."""
    import subprocess
    import sys

    tasks = ["speaker_number_estimation", "entire_duration", "event_duration"]
    files = make_synthetic_blab(tmp_path / "data", 2, 1.0, seed=11, tasks=tasks)
    (tmp_path / "data" / "audio" / "blab_0012.flac").unlink()
    proc = subprocess.run(
        [sys.executable, "-m", "longspeech.cli", "eval", "blab", "--data",
         str(files[tasks[0]].parent), "--audio-dir", str(tmp_path / "data" / "audio"),
         "--tasks", ",".join(tasks), "--skip-missing", "--runner", "local",
         "-o", str(tmp_path / "out")], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    assert "blab_0012.flac" in proc.stdout + proc.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert set(results["scoring"]) == {"official", "all_items"}
    for task in tasks:
        s = results["scores"][task]
        assert s["answered"] == s["items"] // 2
        official, every = s["official"]["accuracy"], s["all_items"]["accuracy"]
        assert every == pytest.approx(official * s["answered"] / s["items"])
    assert results["scores"]["entire_duration"]["official"]["accuracy"] == 100.0
    rows = results["per_item"]["event_duration"]
    assert [r["answered"] for r in rows] == [True, True, False, False]
    assert [r["score"] for r in rows[2:]] == [0.0, 0.0]
