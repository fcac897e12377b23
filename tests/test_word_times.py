"""Word times: the calibrated shift and pause snapping, checked against exact and real times."""

from __future__ import annotations

import csv
import difflib
import json
import re
from pathlib import Path

import numpy as np
import pytest

from longspeech.asr import AsrOptions, load_engine
from longspeech.asr.word_times import (
    CALIBRATIONS,
    WordTimeCalibration,
    calibration,
    correct_word_times,
    silences,
    snap_to_silences,
)
from longspeech.pipelines.transcribe import transcribe_file
from longspeech.synth import RecordingSpec, write_recording
from longspeech.types import Word

from .speech import REALSPEECH

SR = 16000
REAL_REFS = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / \
    "realspeech_word_times.json"


def _tone(seconds: float, freq: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (0.1 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_silences_finds_the_pause_between_two_sounds():
    x = np.concatenate([_tone(1.0), np.zeros(SR // 2, np.float32), _tone(0.5)])
    assert silences(x) == [pytest.approx((1.0, 1.5), abs=0.011)]
    # A 100 ms dip is a stop closure, not a pause; a chunk without contrast has none.
    closure = np.concatenate([_tone(1.0), np.zeros(SR // 10, np.float32), _tone(1.0)])
    assert silences(closure) == []
    assert silences(_tone(2.0)) == []


def test_snapping_clips_a_word_over_a_pause_and_closes_the_gap_before_it():
    # Pause 1.0-1.5 s. The second word's DTW start reaches back into the pause and the first
    # word ends 0.1 s before the pause starts.
    times = [[0.1, 0.9], [0.95, 1.9], [1.9, 2.3]]
    snap_to_silences(times, [(1.0, 1.5)], max_snap=0.3)
    assert times == [[0.1, 1.0], [1.5, 1.9], [1.9, 2.3]]
    # Boundaries farther than max_snap from the pause stay; a word never turns inside out.
    times = [[0.1, 0.5], [2.0, 2.4]]
    snap_to_silences(times, [(1.0, 1.5)], max_snap=0.3)
    assert times == [[0.1, 0.5], [2.0, 2.4]]
    times = [[1.1, 1.2]]
    snap_to_silences(times, [(1.0, 1.5)], max_snap=0.3)
    assert times[0][0] <= times[0][1]


def test_calibration_shifts_times_and_unmeasured_models_are_left_alone():
    assert calibration("tiny.en") == CALIBRATIONS["tiny.en"]
    assert calibration("openai/whisper-large-v3") == WordTimeCalibration(0.0, 0.0)
    words = [Word(" a", 10.5, 10.8, 0.9), Word(" b", 10.8, 11.2, 0.9)]
    got = correct_word_times(words, None, 10.0, WordTimeCalibration(-0.08, -0.09))
    assert [(w.start, w.end) for w in got] == [pytest.approx((10.42, 10.71)),
                                              pytest.approx((10.72, 11.11))]


def _norm(w: str) -> str:
    return re.sub(r"[^a-z0-9']", "", w.lower())


def _offsets(ref: list[tuple[str, float, float]], hyp: list[Word]) -> np.ndarray:
    """(start, end) offsets predicted - true of the words matched by text, in order."""
    sm = difflib.SequenceMatcher(None, [_norm(r[0]) for r in ref], [_norm(w.word) for w in hyp],
                                 autojunk=False)
    pairs = [(ref[m.a + k], hyp[m.b + k]) for m in sm.get_matching_blocks()
             for k in range(m.size)]
    return np.array([(h.start - r[1], h.end - r[2]) for r, h in pairs])


@pytest.fixture(scope="module")
def dialogue(tmp_path_factory) -> tuple[Path, list[tuple[str, float, float]]]:
    """60 s, two Flite voices and one espeak-ng voice, word times from the synthesisers."""
    out = tmp_path_factory.mktemp("wt")
    paths = write_recording(RecordingSpec(seed=7, duration=60.0, speakers=3), out, "dialogue")
    with open(paths.words, newline="") as f:
        ref = [(r["word"], float(r["start"]), float(r["end"]))
               for r in csv.DictReader(f, delimiter="\t")]
    return Path(paths.audio), ref


def test_corrected_word_times_sit_on_the_spoken_words(dialogue, ct2_engine):
    audio, ref = dialogue
    off = _offsets(ref, transcribe_file(audio, ct2_engine).words)
    # Numbers come back in digits ("7.50" for "seven fifty") and are left unmatched.
    assert len(off) > 0.6 * len(ref)
    # Raw DTW times lag by ~0.08 s; corrected, the median offset is near zero and most words
    # meet BLAB's criterion (start and end both within 0.2 s).
    assert abs(np.median(off[:, 0])) < 0.04 and abs(np.median(off[:, 1])) < 0.04, off
    assert np.mean(np.all(np.abs(off) <= 0.2, axis=1)) >= 0.85
    raw = load_engine(AsrOptions(engine="ct2", word_time_correction=False))
    raw_off = _offsets(ref, transcribe_file(audio, raw).words)
    assert np.median(raw_off[:, 0]) > 0.05 and np.median(raw_off[:, 1]) > 0.05


def test_no_word_stretches_over_a_pause(dialogue, ct2_engine):
    audio, ref = dialogue
    pauses = [(a[2], b[1]) for a, b in zip(ref, ref[1:]) if b[1] - a[2] >= 0.3]
    assert len(pauses) >= 5
    words = transcribe_file(audio, ct2_engine).words
    inside = [(w.word, w.start, w.end, a, b) for w in words for a, b in pauses
              if min(w.end, b) - max(w.start, a) > 0.1]
    assert inside == []
    assert [w.start for w in words] == sorted(w.start for w in words)
    assert all(w.start <= w.end for w in words)


def test_real_speech_word_times_match_forced_alignments(ct2_engine):
    """LibriVox (pocketsphinx alignments), CMU ARCTIC and praat clips: real voices."""
    clips = json.loads(REAL_REFS.read_text())["clips"]
    offs = []
    for c in clips:
        ref = [tuple(w) for w in c["words"]]
        offs.append(_offsets(ref, transcribe_file(REALSPEECH / c["audio"], ct2_engine).words))
    off = np.concatenate(offs)
    assert len(off) >= 80
    assert abs(np.median(off[:, 0])) < 0.05 and abs(np.median(off[:, 1])) < 0.05, off
    assert np.mean(np.all(np.abs(off) <= 0.2, axis=1)) >= 0.85
