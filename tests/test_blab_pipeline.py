"""BLAB `pipeline` system: answers read from a Transcript, and synthetic items whose ground
truth matches their audio."""

from __future__ import annotations

import json

import pytest

from longspeech.eval import blab_answers as A
from longspeech.eval.blab_synthetic import TASKS, make_synthetic_blab
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


def test_advertisement_span_joins_cue_and_brand_sentences(meeting):
    got = json.loads(A.answer("advertisement_localization", "Find the ads.", meeting))
    assert [(g["start"], g["end"]) for g in got] == [(5.0, 10.2)]
    assert "Northpeak" in got[0]["advertisement"]


def test_names_skip_sentence_starts_dates_and_brands(meeting):
    got = json.loads(A.answer("named_entity_localization", "Find the names.", meeting))
    assert [g["entity"] for g in got] == ["Victor"]


def test_counts_and_durations(meeting):
    assert A.answer("speaker_number_estimation", "How many speakers?", meeting) == "2"
    assert A.answer("entire_duration", "How long is it?", meeting) == "61"
    assert A.answer("event_duration", "How long is the advertisement?", meeting) == "5"
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
    assert spk == len(meta["speakers"]) and 2 <= spk <= 5


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


def test_names_at_sentence_starts_are_kept_unless_common_words():
    segs = [_seg([(" Thomas", 1.0, 1.4), (" will", 1.4, 1.6), (" keep", 1.6, 1.9),
                  (" it.", 1.9, 2.1)]),
            _seg([(" Honestly,", 3.0, 3.5), (" the", 3.5, 3.6), (" Apple", 3.6, 4.0),
                  (" is", 4.0, 4.1), (" red.", 4.1, 4.4)]),
            _seg([(" Could", 5.0, 5.3), (" you", 5.3, 5.4), (" eat", 5.4, 5.6),
                  (" an", 5.6, 5.7), (" apple", 5.7, 6.0), (" with", 6.0, 6.2),
                  (" Laura?", 6.2, 6.7)])]
    tr = Transcript(Recording("n", "n.flac", 8.0, 16000, 1), "en", segs, [], {})
    got = json.loads(A.answer("named_entity_localization", "Find the names.", tr))
    # "Thomas" never appears in lower case and is no common word; "Honestly" and "Could" are
    # common words; "Apple" is also written "apple", so its capital is not a name's.
    assert [(g["entity"], g["start"]) for g in got] == [("Thomas", 1.0), ("Laura", 6.2)]


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
