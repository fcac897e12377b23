"""A synthetic three-voice meeting: every stretch of speech is transcribed, at the right time."""

from __future__ import annotations

import pytest

from longspeech.eval import word_error_rate
from longspeech.pipelines.transcribe import TranscribeOptions, transcribe_file
from longspeech.synth import RecordingSpec, write_recording


@pytest.fixture(scope="module")
def meeting(tmp_path_factory):
    out = tmp_path_factory.mktemp("meeting")
    paths = write_recording(RecordingSpec(seed=3, duration=120.0, speakers=3), out, "meeting")
    words = []
    for line in paths.words.read_text().splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[0] != "start":
            words.append((float(parts[0]), float(parts[1]), parts[2]))
    return paths, words


def test_meeting_words_cover_all_speech(meeting, ct2_engine):
    paths, ref_words = meeting
    tr = transcribe_file(paths.audio, ct2_engine)
    wer = word_error_rate(paths.text.read_text(), tr.text)
    # tiny.en on these TTS voices measures about 12% WER (names and TTS oddities).
    assert wer < 0.2, wer
    hyp = tr.words
    # No reference word is left more than 2 s away from any decoded word: nothing dropped.
    far = [w for w in ref_words
           if min(abs(h.start - w[0]) for h in hyp) > 2.0]
    assert len(far) <= 2, far[:10]
    starts = [w.start for w in hyp]
    assert starts == sorted(starts)


def test_chunk_gap_guard_recovers_dropped_speech(meeting, ct2_engine):
    """Whisper drops speech around a change of voice; the gap guard decodes it again."""
    paths, ref = meeting
    ref_text = paths.text.read_text()
    without = transcribe_file(paths.audio, ct2_engine, TranscribeOptions(min_gap=None))
    with_guard = transcribe_file(paths.audio, ct2_engine, TranscribeOptions())
    assert len(with_guard.words) >= len(without.words)
    assert word_error_rate(ref_text, with_guard.text) <= word_error_rate(ref_text, without.text)
