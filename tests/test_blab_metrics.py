"""BLAB scoring (longspeech.eval.blab): every official rule and quirk on a hand-worked example.

Numbers in the comments are worked out by hand; all scores are percentages, as the official
compute_task_metrics.py prints them.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from longspeech.errors import BlabDataError, InvalidOptionError
from longspeech.eval.blab import (EMOTION_SUFFIX, LONG_DURATION_SUFFIX, TASKS, load_annotations,
                                  load_blab, make_prediction, read_predictions, score,
                                  score_all_items, score_files, write_predictions)
from longspeech.eval.blab.parsing import frame_index, span_time_seconds

approx = pytest.approx


def words(*triples: tuple[str, float, float]) -> list[dict]:
    return [{"word": w, "start": s, "end": e} for w, s, e in triples]


def wl_item(audio: str, *triples: tuple[str, float, float]) -> dict:
    return {"video_url": "u", "audio": audio, "question": "Locate the words.",
            "groundtruth": words(*triples)}


def pred(audio: str, prediction, prompt: str = "Locate the words.") -> dict:
    return {"audio": audio, "prediction": prediction, "prompt": prompt}


def wl_pred(audio: str, *triples) -> dict:
    return pred(audio, json.dumps(words(*triples)))


# -- word localization ------------------------------------------------------------------------

def test_word_localization_counts_one_match_of_two_predictions():
    # 3 GT words; "Hello" exact (TP), "world" 0.25 s late on both ends (FP); 2 GT unmatched.
    # P = 1/2, R = 1/3, F1 = 2 * (1/6) / (5/6) = 0.4
    items = [wl_item("a.opus", ("Hello", 1.0, 1.5), ("world", 1.5, 2.0), ("again", 3.0, 3.5))]
    preds = [wl_pred("a.opus", ("Hello", 1.0, 1.5), ("world", 1.75, 2.25))]
    assert score("word_localization", items, preds) == approx(
        {"Precision": 50.0, "Recall": 100 / 3, "f1_score": 40.0})


def test_word_localization_strips_punctuation_but_keeps_case():
    # GT "Hello," -> "Hello" matches "Hello"; GT "world." -> "world" does not match "World";
    # GT "don't" -> "dont" matches "dont".
    items = [wl_item("a.opus", ("Hello,", 1.0, 1.5), ("world.", 2.0, 2.5), ("don't", 3.0, 3.5))]
    preds = [wl_pred("a.opus", ("Hello", 1.0, 1.5), ("World", 2.0, 2.5), ("dont", 3.0, 3.5))]
    # TP 2 (Hello, dont), FP 1 (World), FN 1 (world) -> P = R = F1 = 2/3
    assert score("word_localization", items, preds) == approx(
        {"Precision": 200 / 3, "Recall": 200 / 3, "f1_score": 200 / 3})


def test_word_localization_matches_each_ground_truth_word_once():
    # Two GT "the" both within 0.2 s of the prediction; the same prediction three times:
    # first -> GT 1, second -> GT 2, third has nothing left (FP). P = 2/3, R = 1, F1 = 0.8
    items = [wl_item("a.opus", ("the", 1.0, 1.2), ("the", 1.1, 1.3))]
    preds = [wl_pred("a.opus", *[("the", 1.05, 1.25)] * 3)]
    assert score("word_localization", items, preds) == approx(
        {"Precision": 200 / 3, "Recall": 100.0, "f1_score": 80.0})


def test_word_localization_takes_the_first_candidate_not_the_best():
    # GT a@1.0-1.2 and a@1.15-1.35. Prediction a@1.15-1.35 is within 0.15 s of the FIRST
    # entry, so it takes it (greedy, not optimal). Prediction a@0.85-1.05 then finds only
    # a@1.15-1.35, 0.3 s away: FP. TP 1, FP 1, FN 1 -> 50 / 50 / 50 (an optimal match: 100).
    items = [wl_item("a.opus", ("a", 1.0, 1.2), ("a", 1.15, 1.35))]
    preds = [wl_pred("a.opus", ("a", 1.15, 1.35), ("a", 0.85, 1.05))]
    assert score("word_localization", items, preds) == approx(
        {"Precision": 50.0, "Recall": 50.0, "f1_score": 50.0})


def test_word_localization_needs_both_ends_within_200_ms_as_floats_compare():
    # 1.2 - 1.0 = 0.19999999999999996 <= 0.2: TP.  2.2 - 2.0 = 0.20000000000000018 > 0.2: FP.
    # Start exact but end 0.25 s late: FP.  TP 1, FP 2, FN 2 -> P 1/3, R 1/3, F1 1/3.
    items = [wl_item("a.opus", ("one", 1.0, 1.5), ("two", 2.0, 2.5), ("six", 3.0, 3.5))]
    preds = [wl_pred("a.opus", ("one", 1.2, 1.7), ("two", 2.2, 2.7), ("six", 3.0, 3.75))]
    assert score("word_localization", items, preds) == approx(
        {"Precision": 100 / 3, "Recall": 100 / 3, "f1_score": 100 / 3})


def test_word_localization_unparseable_or_empty_output_misses_every_word():
    # a: 2 words, perfect (TP 2). b: refusal text (FN 3). c: "[{}]" has no usable entry (FN 1).
    # d: None (FN 1). TP 2, FP 0, FN 5 -> P 100, R 2/7, F1 = 2 * (2/7) / (9/7) = 4/9
    items = [wl_item("a.opus", ("x", 1.0, 1.5), ("y", 2.0, 2.5)),
             wl_item("b.opus", ("x", 1.0, 1.5), ("y", 2.0, 2.5), ("z", 3.0, 3.5)),
             wl_item("c.opus", ("x", 1.0, 1.5)), wl_item("d.opus", ("x", 1.0, 1.5))]
    preds = [wl_pred("a.opus", ("x", 1.0, 1.5), ("y", 2.0, 2.5)),
             pred("b.opus", "Sorry, I cannot help with that."), pred("c.opus", "[{}]"),
             pred("d.opus", None)]
    assert score("word_localization", items, preds) == approx(
        {"Precision": 100.0, "Recall": 200 / 7, "f1_score": 400 / 9})


def test_word_localization_items_without_a_prediction_entry_are_not_scored():
    # The official join is an inner join: b has no prediction entry, so its 5 words count
    # nowhere. Only a (perfect) is scored -> 100 / 100 / 100.
    items = [wl_item("a.opus", ("x", 1.0, 1.5)),
             wl_item("b.opus", *[("w", float(i), i + 0.5) for i in range(5)])]
    preds = [wl_pred("a.opus", ("x", 1.0, 1.5))]
    assert score("word_localization", items, preds) == approx(
        {"Precision": 100.0, "Recall": 100.0, "f1_score": 100.0})


def test_word_localization_repairs_model_json():
    # Prose, a ```json fence, single quotes and a trailing comma: json_repair reads it.
    items = [wl_item("a.opus", ("Hello", 1.0, 1.5))]
    text = "Sure! ```json\n[{'word': 'Hello', 'start': 1.0, 'end': 1.5},]\n```"
    assert score("word_localization", items, [pred("a.opus", text)]) == approx(
        {"Precision": 100.0, "Recall": 100.0, "f1_score": 100.0})


def test_word_localization_string_times_only_match_when_all_digits():
    # "12.0"/"12.5" are not all digits -> None -> never match (FP); "13"/"14" read as 13.0/14.0
    # (TP). TP 1, FP 1, FN 1 -> 50 / 50 / 50.
    items = [wl_item("a.opus", ("Hello", 12.0, 12.5), ("world", 13, 14))]
    p = pred("a.opus", json.dumps([{"word": "Hello", "start": "12.0", "end": "12.5"},
                                   {"word": "world", "start": "13", "end": "14"}]))
    assert score("word_localization", items, [p]) == approx(
        {"Precision": 50.0, "Recall": 50.0, "f1_score": 50.0})


def test_word_localization_drops_incomplete_entries_without_counting_them():
    # Entries with start None or without "end" are removed before matching (not FP).
    # TP 1 (Hello), FN 1 (world) -> P 100, R 50, F1 2/3.
    items = [wl_item("a.opus", ("Hello", 1.0, 1.5), ("world", 2.0, 2.5))]
    p = pred("a.opus", json.dumps([{"word": "Hello", "start": 1.0, "end": 1.5},
                                   {"word": "world", "start": None, "end": 2.5},
                                   {"word": "world", "start": 2.0}]))
    assert score("word_localization", items, [p]) == approx(
        {"Precision": 100.0, "Recall": 50.0, "f1_score": 200 / 3})


def test_word_localization_joins_on_prediction_basename_only():
    # Prediction "/downloads/x.opus" joins item "x.opus". The item named "clips/y.opus" joins
    # nothing (the word scorer basenames predictions only), so its wrong answer is unscored.
    items = [wl_item("x.opus", ("x", 1.0, 1.5)), wl_item("clips/y.opus", ("y", 1.0, 1.5))]
    preds = [wl_pred("/downloads/x.opus", ("x", 1.0, 1.5)),
             wl_pred("clips/y.opus", ("nope", 5.0, 6.0))]
    assert score("word_localization", items, preds) == approx(
        {"Precision": 100.0, "Recall": 100.0, "f1_score": 100.0})


def test_word_localization_is_micro_averaged_over_files():
    # a: TP 1. b: 3 GT words, one wrong prediction: FP 1, FN 3.
    # Micro: TP 1, FP 1, FN 3 -> P 1/2, R 1/4, F1 = 2 * (1/8) / (3/4) = 1/3
    # (a macro average of the files' F1, 1 and 0, would be 1/2).
    items = [wl_item("a.opus", ("x", 1.0, 1.5)),
             wl_item("b.opus", ("x", 1.0, 1.5), ("y", 2.0, 2.5), ("z", 3.0, 3.5))]
    preds = [wl_pred("a.opus", ("x", 1.0, 1.5)), wl_pred("b.opus", ("q", 1.0, 1.5))]
    assert score("word_localization", items, preds) == approx(
        {"Precision": 50.0, "Recall": 25.0, "f1_score": 100 / 3})


# -- advertisement and named-entity localization ----------------------------------------------

AD_Q = "Find the advertisement."
NE_Q = "Find the named entities."


def ad_item(audio: str, word_triples, spans) -> dict:
    return {"video_url": "u", "audio": audio, "question": AD_Q,
            "groundtruth": {"ads_segment": [{"text": t, "start": s, "end": e}
                                            for t, s, e in spans],
                            "word_timestamp": words(*word_triples)}}


def ne_item(audio: str, word_triples, spans) -> dict:
    return {"video_url": "u", "audio": audio, "question": NE_Q,
            "groundtruth": {"entities": [{"entity": t, "start": s, "end": e}
                                         for t, s, e in spans],
                            "word_timestamp": words(*word_triples)}}


def ad_pred(audio: str, *spans, prompt: str = AD_Q) -> dict:
    return pred(audio, json.dumps([{"advertisement": t, "start": s, "end": e}
                                   for t, s, e in spans]), prompt)


def ne_pred(audio: str, *spans, prompt: str = NE_Q) -> dict:
    return pred(audio, json.dumps([{"entity": t, "start": s, "end": e} for t, s, e in spans]),
                prompt)


def test_ad_frames_stop_at_the_last_prediction_start():
    # GT frames: the '#' run 1.0-2.0 -> frames 100..199. The frame count is
    # frame(max(last prediction START 1.2, last word end 2.2)) = 220, so the prediction
    # 1.2-2.4 covers frames 120..219 only. TP 120..199 = 80, FP 200..219 = 20,
    # FN 100..119 = 20 -> P = R = F1 = 80.
    items = [ad_item("a.opus", [("#Brightwave", 1.0, 1.5), ("#Coffee", 1.5, 2.0),
                                ("is", 2.0, 2.2)], [("Brightwave Coffee", 1.0, 2.0)])]
    preds = [ad_pred("a.opus", ("Brightwave Coffee", 1.2, 2.4))]
    assert score("advertisement_localization", items, preds) == approx(
        {"f1": 80.0, "prec": 80.0, "recall": 80.0})


def test_entity_frames_come_from_runs_of_hash_words():
    # '#Ann' 1.0-1.5 and '#Bob' 2.0-2.5 are separate runs ("and" between): GT frames
    # 100..149 and 200..249 (100). One predicted span 1.0-2.5 -> frames 100..249 (150),
    # frame count frame(max(1.0, 3.0)) = 300. TP 100, FP 50, FN 0 -> P 2/3, R 1, F1 0.8.
    items = [ne_item("a.opus", [("#Ann", 1.0, 1.5), ("and", 1.5, 2.0), ("#Bob", 2.0, 2.5),
                                ("said", 2.5, 3.0)], [("Ann", 1.0, 1.5), ("Bob", 2.0, 2.5)])]
    preds = [ne_pred("a.opus", ("Ann and Bob", 1.0, 2.5))]
    assert score("named_entity_localization", items, preds) == approx(
        {"f1": 80.0, "prec": 200 / 3, "recall": 100.0})


def test_span_times_may_be_clock_strings():
    # "01:01.000" -> 61.0 s and "01:02.000" -> 62.0 s: frames 6100..6199 = the '#' run.
    items = [ad_item("a.opus", [("#Brightwave", 61.0, 61.5), ("#Coffee", 61.5, 62.0),
                                ("now", 62.0, 62.5)], [("Brightwave Coffee", 61.0, 62.0)])]
    preds = [ad_pred("a.opus", ("Brightwave Coffee", "01:01.000", "01:02.000"))]
    assert score("advertisement_localization", items, preds) == approx(
        {"f1": 100.0, "prec": 100.0, "recall": 100.0})


def test_official_time_string_and_frame_quirks():
    assert span_time_seconds("1:02.500") == 62.5       # mm:ss.SSS
    assert span_time_seconds("00:01:02.500") == 62.5   # hh:mm:ss.SSS
    assert span_time_seconds("1:30") == approx(1.03)   # "a:b" is ss:SSS, not mm:ss
    assert span_time_seconds("1:02.5") == approx(62.005)   # fraction read as integer ms
    assert span_time_seconds("12.5") == 12.5
    assert frame_index(0.29) == 28                     # int(28.999999999999996): truncated


def test_missing_ad_prediction_misses_the_annotated_span_frames():
    # a: output "No ads." -> missing -> FN = frames of ads_segment 1.0-4.0 = 300 (not the
    # 100 frames of its '#' word run). b: '#Buy' 1.0-2.0 predicted exactly -> TP 100.
    # TP 100, FP 0, FN 300 -> P 100, R 25, F1 = 2 * 0.25 / 1.25 = 40.
    items = [ad_item("a.opus", [("#Buy", 1.0, 2.0), ("now", 2.0, 3.0)], [("Buy", 1.0, 4.0)]),
             ad_item("b.opus", [("#Buy", 1.0, 2.0), ("now", 2.0, 3.0)], [("Buy", 1.0, 2.0)])]
    preds = [pred("a.opus", "No ads."), ad_pred("b.opus", ("Buy", 1.0, 2.0))]
    assert score("advertisement_localization", items, preds) == approx(
        {"f1": 40.0, "prec": 100.0, "recall": 25.0})


@pytest.mark.parametrize("unusable", [
    '{"entity": "Ann", "start": 1.0, "end": 1.5}',        # one object, not a list
    '[{"name": "Ann", "start": 1.0, "end": 1.5}]',        # wrong key
    '[{"entity": "Ann", "start": "soon", "end": 1.5}]',   # unreadable time
    '[{"entity": "...", "start": 1.0, "end": 1.5}]',      # empty once punctuation is gone
    "None", "",
])
def test_unusable_entity_output_counts_as_missed(unusable):
    # a: unusable -> FN 50 (entity 1.0-1.5). b: exact -> TP 50. P 100, R 50, F1 2/3.
    gt_words = [("#Ann", 1.0, 1.5), ("hi", 1.5, 2.0)]
    items = [ne_item("a.opus", gt_words, [("Ann", 1.0, 1.5)]),
             ne_item("b.opus", gt_words, [("Ann", 1.0, 1.5)])]
    preds = [pred("a.opus", unusable, NE_Q), ne_pred("b.opus", ("Ann", 1.0, 1.5))]
    assert score("named_entity_localization", items, preds) == approx(
        {"f1": 200 / 3, "prec": 100.0, "recall": 50.0})


def test_entities_join_on_the_exact_prompt_but_ads_on_audio_only():
    gt_words = [("#Ann", 1.0, 1.5), ("hi", 1.5, 2.0)]
    ne = [ne_item("a.opus", gt_words, [("Ann", 1.0, 1.5)])]
    # A trailing space in the prompt: no join, nothing scored, no true positive -> zeros.
    assert score("named_entity_localization", ne,
                 [ne_pred("a.opus", ("Ann", 1.0, 1.5), prompt=NE_Q + " ")]) == approx(
        {"f1": 0.0, "prec": 0.0, "recall": 0.0})
    ads = [ad_item("a.opus", gt_words, [("Ann", 1.0, 1.5)])]
    assert score("advertisement_localization", ads,
                 [ad_pred("/x/a.opus", ("Ann", 1.0, 1.5), prompt="anything")]) == approx(
        {"f1": 100.0, "prec": 100.0, "recall": 100.0})


def test_span_scores_are_zero_without_a_true_positive():
    # Prediction 5.0-6.0 far from the run 1.0-1.5: FP 100 frames, FN 50, TP 0 -> all 0.
    items = [ad_item("a.opus", [("#Ann", 1.0, 1.5), ("hi", 1.5, 2.0)], [("Ann", 1.0, 1.5)])]
    assert score("advertisement_localization", items,
                 [ad_pred("a.opus", ("Ann", 5.0, 6.0))]) == {"f1": 0.0, "prec": 0.0,
                                                              "recall": 0.0}


# -- speaker number ----------------------------------------------------------------------------

def test_speaker_number_first_integer_and_inclusive_ranges():
    # a: "3 speakers, maybe 4" -> 3 == 3 right. b: 4 in [2, 4] right (inclusive).
    # c: 6 not in "[3, 5]" (string read as a list) wrong. d: "2.5" -> 2 == 2 right. -> 75 %.
    items = [{"audio": f"{k}.opus", "question": "How many?", "groundtruth": g}
             for k, g in (("a", 3), ("b", [2, 4]), ("c", "[3, 5]"), ("d", 2))]
    preds = [pred("a.opus", "There are 3 speakers, maybe 4."), pred("b.opus", "4"),
             pred("c.opus", "I count 6 voices"), pred("d.opus", "2.5")]
    assert score("speaker_number_estimation", items, preds) == {"accuracy": 75.0}


# -- entire duration --------------------------------------------------------------------------

def _dur_items(*gts) -> list[dict]:
    return [{"audio": f"{i}.opus", "question": "How long?", "groundtruth": g}
            for i, g in enumerate(gts)]


def test_entire_duration_exact_and_offset_accuracy():
    # GT 3600: "3600" exact; "3602 seconds" within 2 s; "3603" neither; "one hour" no integer.
    # exact 1/4 = 25 %, +-2 s 2/4 = 50 %; with --offset 3: 3/4 = 75 %.
    items = _dur_items(3600, 3600, 3600, 3600)
    preds = [pred(f"{i}.opus", p) for i, p in
             enumerate(["3600", "3602 seconds", "It lasts 3603 s", "one hour"])]
    assert score("entire_duration", items, preds) == {
        "accuracy": 25.0, "accuracy_with_offset_2_seconds": 50.0}
    assert score("entire_duration", items, preds, offset=3) == {
        "accuracy": 25.0, "accuracy_with_offset_3_seconds": 75.0}


def test_duration_tolerance_is_not_applied_to_a_zero_ground_truth():
    # GT 0 gets no +-2 s window: "1" is wrong both ways. GT 10 with "11" is right with offset.
    items = _dur_items(0, 10)
    preds = [pred("0.opus", "1"), pred("1.opus", "11")]
    assert score("entire_duration", items, preds) == {
        "accuracy": 0.0, "accuracy_with_offset_2_seconds": 50.0}


def test_entire_duration_rejects_a_non_numeric_ground_truth():
    with pytest.raises(BlabDataError, match="numeric"):
        score("entire_duration", _dur_items("3600"), [pred("0.opus", "3600")])


def test_accuracy_over_no_joined_item_is_nan():
    out = score("entire_duration", _dur_items(60), [])
    assert math.isnan(out["accuracy"]) and math.isnan(out["accuracy_with_offset_2_seconds"])


# -- event duration ---------------------------------------------------------------------------

EV_Q = "How long does the applause last"


def _ev(audio: str, gt, answer_type: str) -> dict:
    return {"audio": audio, "question": EV_Q, "answer_type": answer_type, "groundtruth": gt}


def _ev_pred(audio: str, text: str, prompt: str = EV_Q + LONG_DURATION_SUFFIX) -> dict:
    return pred(audio, text, prompt)


def test_event_duration_seconds_items_read_clock_answers():
    # GT "90" s. "90" -> 90; "1:30" -> 90; "1.30" -> MM.SS -> 90; "91" -> off by 1.
    # exact 3/4 = 75 %, +-2 s 4/4 = 100 %.
    answers = ["90", "1:30", "1.30", "91"]
    items = [_ev(f"{i}.opus", "90", "seconds") for i in range(4)]
    preds = [_ev_pred(f"{i}.opus", a) for i, a in enumerate(answers)]
    assert score("event_duration", items, preds) == {
        "accuracy": 75.0, "accuracy_with_offset_2_seconds": 100.0}


def test_event_duration_minutes_items_use_first_integer_times_60():
    # GT "2" min -> 120 s: "2" -> 120 right; "1:30" -> first integer 1 -> 60 wrong;
    # "2.5 minutes" -> 2 -> 120 right. GT "1:30" -> 90 s: "1" -> 60 wrong. -> 50 % both ways.
    items = [_ev("a.opus", "2", "minutes"), _ev("b.opus", "2", "minutes"),
             _ev("c.opus", "2", "minutes"), _ev("d.opus", "1:30", "minutes")]
    preds = [_ev_pred("a.opus", "2"), _ev_pred("b.opus", "1:30"),
             _ev_pred("c.opus", "2.5 minutes"), _ev_pred("d.opus", "1")]
    assert score("event_duration", items, preds) == {
        "accuracy": 50.0, "accuracy_with_offset_2_seconds": 50.0}


def test_event_duration_joins_on_question_plus_answer_format_sentence():
    # a answered with the bare question: not joined, not scored. b joined: 80 vs 90 wrong.
    # Only b counts -> 0 % (50 % if a were scored). An answer_type other than seconds or
    # minutes is never scored either.
    items = [_ev("a.opus", "90", "seconds"), _ev("b.opus", "90", "seconds"),
             _ev("c.opus", "90", "hours")]
    preds = [_ev_pred("a.opus", "90", prompt=EV_Q), _ev_pred("b.opus", "80"),
             _ev_pred("c.opus", "90")]
    assert score("event_duration", items, preds) == {
        "accuracy": 0.0, "accuracy_with_offset_2_seconds": 0.0}


def test_event_duration_sign_is_lost_and_unreadable_answers_are_wrong():
    # "-90" -> int -90 -> first integer of "-90" is 90: right. "about 90 seconds" is not an
    # integer for a seconds item (the official script stops there): wrong. -> 50 %.
    items = [_ev("a.opus", 90, "seconds"), _ev("b.opus", 90, "seconds")]
    preds = [_ev_pred("a.opus", "-90"), _ev_pred("b.opus", "about 90 seconds")]
    assert score("event_duration", items, preds) == {
        "accuracy": 50.0, "accuracy_with_offset_2_seconds": 50.0}


def test_short_audio_event_duration_drops_chat_tags_from_prompts():
    # The prompt "<|user|>Q. Return only ...<|end|>" joins once tags are removed. "5" vs 6:
    # exact wrong, +-2 right.
    q = "How long is the laugh"
    items = [{"audio": "a.wav", "question": q, "groundtruth": 6}]
    prompt = f"<|user|>{q}. Return only a numeric integer value without any explanation.<|end|>"
    assert score("event_duration_short_audio", items, [pred("a.wav", "5", prompt)]) == {
        "accuracy": 0.0, "accuracy_with_offset_2_seconds": 100.0}


# -- emotion ----------------------------------------------------------------------------------

def _emo(audio: str, correct: str, question: str = "How does she feel? (A) x (B) y") -> dict:
    return {"audio": audio, "question": question, "groundtruth": correct,
            "correct_option": correct}


def test_emotion_answer_is_the_last_valid_option_in_parentheses():
    # Ranking (A-E): "... (A) ... **(C)**" -> C right; "(B) then (E)" -> E right -> 100 %.
    # Reasoning (A-D): "(B) then (E)" -> E is no option -> B right; "**(D)**" vs B wrong;
    # "answer: B" and "(b)" have no "(X)" -> wrong. -> 25 %.
    q = "How does she feel? (A) x (B) y"
    rank = [_emo("a.opus", "C"), _emo("b.opus", "E")]
    assert score("emotion_ranking", rank, [
        pred("a.opus", "At first (A), but my final answer is **(C)**", q),
        pred("b.opus", "(B) then (E)", q)]) == {"accuracy": 100.0}
    reason = [_emo(f"{k}.opus", "B") for k in "abcd"]
    assert score("emotion_reasoning", reason, [
        pred("a.opus", "(B) then (E)", q), pred("b.opus", "**(D)**", q),
        pred("c.opus", "answer: B", q), pred("d.opus", "(b)", q)]) == {"accuracy": 25.0}


def test_emotion_prompt_suffix_is_removed_before_joining():
    # Item question " Q1 " is stripped; prompt "Q1 <suffix>. More text" is cut at the suffix
    # and stripped -> "Q1": joined (right). Prompt "Q1 extra" does not join (its wrong
    # answer is not scored). -> 100 %.
    items = [_emo("a.opus", "A", question=" Q1 ")]
    preds = [pred("a.opus", "(A)", f"Q1 {EMOTION_SUFFIX}. Options follow."),
             pred("a.opus", "(B)", "Q1 extra")]
    assert score("emotion_reasoning", items, preds) == {"accuracy": 100.0}


# -- loader, prediction files, entry point -----------------------------------------------------

def _write(path: Path, data) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_loader_reports_and_can_skip_items_without_audio(tmp_path):
    audio = tmp_path / "audio"
    audio.mkdir()
    (audio / "a.opus").write_bytes(b"x")
    (audio / "d.wav").write_bytes(b"x")     # "d.opus" downloaded as wav: found by its stem
    items = [{"audio": n, "question": "q", "groundtruth": 1}
             for n in ("a.opus", "b.opus", "b.opus", "c.opus", "d.opus")]
    ann = _write(tmp_path / "speaker_number_estimation.json", items)
    with pytest.raises(BlabDataError, match=r"3 of 5 item\(s\) have no audio.*2 file\(s\)"):
        load_annotations(ann, audio)
    kept = load_annotations(ann, audio, skip_missing=True)
    assert [it["audio"] for it in kept] == ["a.opus", "d.opus"]


def test_loader_checks_files_and_fields(tmp_path):
    _write(tmp_path / "emotion_ranking.json", [{"audio": "a.opus", "question": "q",
                                                "groundtruth": "A"}])
    with pytest.raises(BlabDataError, match="missing annotation file.*word_localization.json"):
        load_blab(tmp_path, ["emotion_ranking", "word_localization"])
    with pytest.raises(BlabDataError, match="lacks correct_option"):
        load_blab(tmp_path, ["emotion_ranking"])
    (tmp_path / "entire_duration.json").write_text("[{", encoding="utf-8")
    with pytest.raises(BlabDataError, match="cannot read"):
        load_annotations(tmp_path / "entire_duration.json")
    assert "emotion_reasoning" in TASKS and len(TASKS) == 8


def test_predictions_round_trip_and_score_from_files(tmp_path):
    item = _ev("a.opus", "90", "seconds")
    p = make_prediction("event_duration", item, "91")
    assert p == {"audio": "a.opus", "prediction": "91", "prompt": EV_Q + LONG_DURATION_SUFFIX}
    pf = write_predictions(tmp_path / "p.json", [p])
    assert read_predictions(pf) == [p]
    gf = _write(tmp_path / "event_duration.json", [item])
    assert score_files("event_duration", pf, gf) == {
        "accuracy": 0.0, "accuracy_with_offset_2_seconds": 100.0}


def test_unknown_task_and_malformed_predictions_are_rejected():
    with pytest.raises(InvalidOptionError, match="word_localization"):
        score("word_count", [], [])
    with pytest.raises(BlabDataError, match="audio"):
        score("entire_duration", _dur_items(60), [{"prediction": "60"}])


def test_report_chart_shows_scores_on_their_0_to_100_scale():
    """The scorer gives 0-100; the chart's axis is read back from the figure."""
    from longspeech.eval.blab_report import score_figure

    per_item = {"word_localization": [{"duration": 600.0, "score": 92.0},
                                      {"duration": 1800.0, "score": 35.5}],
                "entire_duration": [{"duration": 900.0, "score": 100.0},
                                    {"duration": 1200.0, "score": float("nan")}]}
    fig = score_figure(per_item)
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    scores = [y for line in ax.get_lines() for y in line.get_ydata()]
    assert sorted(scores) == [35.5, 92.0, 100.0]          # the NaN item is left out
    assert low <= 0 and high >= 100 and all(low <= y <= high for y in scores)
    assert score_figure({"word_localization": []}) is None


def test_unanswered_items_are_dropped_officially_and_wrong_in_the_all_items_score():
    # Speaker number: a=3 answered "3" (right), b=2 unanswered, c=[2,4] answered "5" (wrong).
    items = [{"audio": "a.opus", "groundtruth": 3}, {"audio": "b.opus", "groundtruth": 2},
             {"audio": "c.opus", "groundtruth": [2, 4]}]
    preds = [pred("a.opus", "3"), pred("c.opus", "5")]
    # official: 1 right of the 2 joined = 50 %; all items: 1 of 3 = 33.3 %
    assert score("speaker_number_estimation", items, preds) == {"accuracy": 50.0}
    assert score_all_items("speaker_number_estimation", items, preds) == {
        "accuracy": approx(100 / 3)}
    # Word localization: a's two words found, b's one word unanswered. Official: P = R = 100.
    # All items: TP 2, FP 0, FN 1 -> P 100, R 66.7, F1 80.
    w_items = [wl_item("a.opus", ("hello", 1.0, 1.5), ("world", 2.0, 2.5)),
               wl_item("b.opus", ("again", 3.0, 3.4))]
    w_preds = [wl_pred("a.opus", ("hello", 1.0, 1.5), ("world", 2.0, 2.5))]
    assert score("word_localization", w_items, w_preds)["f1_score"] == approx(100.0)
    every = score_all_items("word_localization", w_items, w_preds)
    assert every["Precision"] == approx(100.0) and every["Recall"] == approx(200 / 3)
    assert every["f1_score"] == approx(80.0)
    # Emotion: the unanswered item's empty answer names no option; answered ones still join.
    e_items = [{"audio": "a.opus", "question": "How? (A) x (B) y", "groundtruth": "A",
                "correct_option": "A"},
               {"audio": "a.opus", "question": "Why? (A) x (B) y", "groundtruth": "B",
                "correct_option": "B"}]
    e_preds = [pred("a.opus", "(A)", f"How? (A) x (B) y\n{EMOTION_SUFFIX}.")]
    assert score("emotion_reasoning", e_items, e_preds) == {"accuracy": 100.0}
    assert score_all_items("emotion_reasoning", e_items, e_preds) == {"accuracy": 50.0}


def test_minutes_items_need_answers_in_minutes():
    """A "minutes" item's answer is read as minutes (first integer x 60): 2 minutes is right
    as "2", and an answer in seconds ("120" -> 7200 s) is wrong."""
    item = _ev("a.opus", "2", "minutes")
    assert score("event_duration", [item], [_ev_pred("a.opus", "2")])["accuracy"] == 100.0
    assert score("event_duration", [item], [_ev_pred("a.opus", "120")])["accuracy"] == 0.0
