"""BLAB scoring, rule by rule, on examples worked out by hand (numbers in the comments)."""

from __future__ import annotations

import json
import math

import pytest

from longspeech.eval.blab_metrics import (DURATION_SUFFIX, EMOTION_SUFFIX, convert_time,
                                          score)


def _pred(audio: str, prediction, prompt: str = "q") -> dict:
    if not isinstance(prediction, str):
        prediction = json.dumps(prediction)
    return {"audio": audio, "prediction": prediction, "prompt": prompt}


def test_word_localization_case_punctuation_threshold_and_string_times():
    items = [
        {"audio": "dir/a.opus", "question": "q", "groundtruth": [
            {"word": "the", "start": 1.0, "end": 1.2}, {"word": "Cat", "start": 1.3, "end": 1.6},
            {"word": "sat", "start": 1.7, "end": 2.0}]},
        {"audio": "b.opus", "question": "q", "groundtruth": [
            {"word": "x", "start": 0.0, "end": 0.5}, {"word": "y", "start": 0.5, "end": 1.0}]},
        {"audio": "c.opus", "question": "q", "groundtruth": [
            {"word": "never", "start": 0.0, "end": 0.5}]},
    ]
    preds = [
        # "cat" != "Cat" (case kept): FP. "sat!" -> "sat", |0.05|,|0.1| <= 0.2: TP.
        # start "1.0" is a string that is not all digits: unusable, FP.
        _pred("a.opus", [{"word": "cat", "start": 1.3, "end": 1.6},
                         {"word": "sat!", "start": 1.75, "end": 2.1},
                         {"word": "the", "start": "1.0", "end": 1.2}]),
        # Unparseable: both of b's words are misses.
        _pred("b.opus", "no timestamps here"),
        # c has no prediction row at all: the inner join leaves it out of the score.
    ]
    # TP 1, FP 2, FN 2 (a) + 2 (b): P = 1/3, R = 1/5, F1 = 2PR/(P+R) = 0.25.
    got = score("word_localization", items, preds)
    assert got["Precision"] == pytest.approx(100 / 3)
    assert got["Recall"] == pytest.approx(20.0)
    assert got["f1_score"] == pytest.approx(25.0)


def test_word_localization_matches_the_first_unmatched_entry_only_once():
    items = [{"audio": "a", "question": "q", "groundtruth": [
        {"word": "go", "start": 1.0, "end": 1.2}, {"word": "go", "start": 1.1, "end": 1.3}]}]
    # Three predictions of "go" near both: two TPs, the third finds nothing left: FP.
    preds = [_pred("a", [{"word": "go", "start": 1.05, "end": 1.25}] * 3)]
    got = score("word_localization", items, preds)
    assert (got["Precision"], got["Recall"]) == (pytest.approx(200 / 3), 100.0)


WORDS = [{"word": "a", "start": 0.0, "end": 1.0}, {"word": "#Acme", "start": 1.0, "end": 1.5},
         {"word": "#Corp", "start": 1.5, "end": 2.0}, {"word": "b", "start": 2.0, "end": 3.0}]


def _entity_item(audio: str = "e.wav") -> dict:
    return {"audio": audio, "question": "Find names.", "groundtruth": {
        "entities": [{"entity": "Acme Corp", "start": 1.0, "end": 2.0}],
        "word_timestamp": WORDS}}


def test_entity_frames_from_hash_words():
    # GT frames 100..200; predicted 150..250. TP 50, FP 50, FN 50: P = R = F1 = 50.
    got = score("named_entity_localization", [_entity_item()],
                [_pred("e.wav", [{"entity": "Acme Corp", "start": 1.5, "end": 2.5}],
                       "Find names.")])
    assert got == {"f1": pytest.approx(50.0), "prec": pytest.approx(50.0),
                   "recall": pytest.approx(50.0)}


def test_frames_end_at_the_last_prediction_start_not_its_end():
    # Frames run to max(last predicted START 0.5, last word end 3.0) = 300, so the prediction
    # 0.5..5.0 marks 50..300 only: TP 100, FP 150 -> P 0.4, R 1, F1 = 0.8/1.4.
    got = score("named_entity_localization", [_entity_item()],
                [_pred("e.wav", [{"entity": "x", "start": 0.5, "end": 5.0}], "Find names.")])
    assert got["prec"] == pytest.approx(40.0)
    assert got["recall"] == pytest.approx(100.0)
    assert got["f1"] == pytest.approx(100 * 0.8 / 1.4)


def test_entities_join_on_prompt_and_missing_predictions_count_span_frames():
    item2 = _entity_item("f.wav")
    preds = [_pred("e.wav", [{"entity": "Acme", "start": 1.0, "end": 2.0}], "other prompt"),
             _pred("f.wav", "None", "Find names.")]
    # e.wav's prompt differs: not joined. f.wav: 100 frames of its GT span are misses; no TP.
    got = score("named_entity_localization", [_entity_item(), item2], preds)
    assert got == {"f1": 0.0, "prec": 0.0, "recall": 0.0}


def test_advertisements_join_on_audio_and_accept_clock_strings():
    item = {"audio": "ad.opus", "question": "Find ads.", "groundtruth": {
        "ads_segment": [{"text": "Buy now", "start": 1.0, "end": 2.0}], "word_timestamp": WORDS}}
    # "0:01.000" -> 1.0 s (mm:ss.SSS); "0:02.000" -> 2.0 s. Exact: F1 100, any prompt.
    got = score("advertisement_localization", [item],
                [_pred("ad.opus", [{"advertisement": "Buy now", "start": "0:01.000",
                                    "end": "0:02.000"}], "a different prompt")])
    assert got["f1"] == pytest.approx(100.0)
    assert convert_time("1:500") == 1.5          # "ss:SSS" is seconds and milliseconds
    assert convert_time("01:02:003") == 62.003   # "mm:ss:SSS"


def test_speaker_number_first_integer_ranges_and_unpredicted_items():
    items = [{"audio": "a", "question": "q", "groundtruth": "[2, 4]"},
             {"audio": "b", "question": "q", "groundtruth": 5},
             {"audio": "c", "question": "q", "groundtruth": 3}]
    preds = [_pred("a", "There are 3 speakers."),        # in [2, 4]: right
             _pred("b", "I hear five, maybe 6 people")]  # first integer 6 != 5: wrong
    # c has no prediction: not scored. 1 of 2 = 50%.
    assert score("speaker_number_estimation", items, preds) == {"accuracy": 50.0}


def test_entire_duration_exact_and_within_offset():
    items = [{"audio": "a", "question": "q", "groundtruth": 600},
             {"audio": "b", "question": "q", "groundtruth": 600}]
    preds = [_pred("a", "about 601 seconds"),   # exact no, +-2 yes
             _pred("b", "10:00")]               # first integer 10: no, no
    got = score("entire_duration", items, preds, offset=2)
    assert got == {"accuracy": 0.0, "accuracy_with_offset_2_seconds": 50.0}


def test_event_duration_units_and_prompt_join():
    q1, q2, q3 = "How long is the ad", "How long is the intro", "How long is the talk"
    items = [{"audio": "a", "question": q1, "answer_type": "seconds", "groundtruth": 75},
             {"audio": "a", "question": q2, "answer_type": "minutes", "groundtruth": "2"},
             {"audio": "a", "question": q3, "answer_type": "seconds", "groundtruth": 75}]
    preds = [_pred("a", "1:15", q1 + DURATION_SUFFIX),         # MM:SS -> 75: exact
             _pred("a", "2 minutes.", q2 + DURATION_SUFFIX),   # 2 x 60 = 120 = 2 min: exact
             _pred("a", "1.15", q3 + DURATION_SUFFIX),         # MM.SS: 75, exact
             _pred("a", "75", q3)]                             # prompt lacks suffix: dropped
    got = score("event_duration", items, preds, offset=2)
    assert got == {"accuracy": 100.0, "accuracy_with_offset_2_seconds": 100.0}
    bad = score("event_duration", items[:1], [_pred("a", "seventy", q1 + DURATION_SUFFIX)])
    assert bad["accuracy"] == 0.0


def test_emotion_last_choice_options_and_suffix():
    q = "Which emotion? (A) joy (B) anger (C) fear (D) sadness"
    items = [{"audio": "a", "question": q, "groundtruth": "C", "correct_option": "C"},
             {"audio": "b", "question": q, "groundtruth": "A", "correct_option": "A"}]
    preds = [_pred("a", "First (B) seems likely, but the answer is **(C)**",
                   f"{q} {EMOTION_SUFFIX}."),
             _pred("b", "(E)", q)]   # E is not an option of reasoning (A-D): no answer
    assert score("emotion_reasoning", items, preds) == {"accuracy": 50.0}
    # Ranking allows E.
    items_r = [dict(items[1], correct_option="E")]
    assert score("emotion_ranking", items_r, [_pred("b", "(E)", q)]) == {"accuracy": 100.0}


def test_no_joined_items_give_nan_not_an_error():
    got = score("emotion_ranking", [{"audio": "a", "question": "q", "groundtruth": "A",
                                     "correct_option": "A"}], [])
    assert math.isnan(got["accuracy"])
