"""The data model round-trips through JSON exactly; writers render what a user expects."""

import json

import pytest

from longspeech.errors import InvalidOptionError, TranscriptFormatError
from longspeech.outputs import render, write_outputs
from longspeech.types import Recording, Segment, SpeakerTurn, Transcript, Word, load_transcript


def _transcript() -> Transcript:
    rec = Recording("talk", "/x/talk.wav", 3725.5, 16000, 1, "ab" * 32)
    w1 = [Word(" Hello", 0.5, 0.9, 0.98, "SPEAKER_00"), Word(" world.", 0.95, 1.4, 0.91, "SPEAKER_00")]
    w2 = [Word(" Ünïcode", 3700.1, 3700.9, 0.5), Word(" <script>-->", 3701.0, 3701.25, 0.4)]
    return Transcript(rec, "en", [
        Segment(0.5, 1.4, "Hello world.", w1, "SPEAKER_00", 0, -0.2, 0.01, 1.1, 0.0),
        Segment(3700.1, 3701.25, "Ünïcode <script>-->", w2, None, 123),
    ], speakers=["SPEAKER_00"], provenance={"asr": {"model": "tiny.en"}},
        turns=[SpeakerTurn(0.4, 1.5, "SPEAKER_00")])


def test_json_round_trip_is_exact(tmp_path):
    tr = _transcript()
    again = Transcript.from_json(tr.to_json())
    assert again == tr
    assert again.to_json() == tr.to_json()
    write_outputs(tr, tmp_path, "talk", ["json"])
    assert load_transcript(tmp_path / "talk.json") == tr


def test_json_has_the_documented_fields():
    d = json.loads(_transcript().to_json())
    assert {"duration", "language", "segments", "speakers", "provenance"} <= set(d)
    seg = d["segments"][0]
    assert {"start", "end", "text", "speaker", "words"} <= set(seg)
    assert set(seg["words"][0]) == {"word", "start", "end", "probability", "speaker"}


def test_srt_and_vtt_clock_and_escaping():
    tr = _transcript()
    srt = render(tr, "srt")
    assert "1\n00:00:00,500 --> 00:00:01,400\n[SPEAKER_00] Hello world.\n" in srt
    assert "01:01:40,100 --> 01:01:41,250" in srt
    assert srt.count("-->") == 2  # text containing --> cannot forge a timing line
    vtt = render(tr, "vtt")
    assert vtt.startswith("WEBVTT\n")
    assert "<v SPEAKER_00>Hello world." in vtt
    assert "&lt;script&gt;" in vtt and "<script>" not in vtt


def test_tsv_and_txt():
    tr = _transcript()
    rows = render(tr, "tsv").splitlines()
    assert rows[0] == "start\tend\tspeaker\ttext"
    assert rows[1] == "500\t1400\tSPEAKER_00\tHello world."
    assert render(tr, "txt").splitlines()[0] == "[SPEAKER_00] Hello world."


def test_unknown_format_and_bad_json(tmp_path):
    with pytest.raises(InvalidOptionError, match="choose from"):
        render(_transcript(), "docx")
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(TranscriptFormatError):
        load_transcript(tmp_path / "x.json")
    (tmp_path / "y.json").write_text('{"segments": []}')
    with pytest.raises(TranscriptFormatError, match="not a longspeech transcript"):
        load_transcript(tmp_path / "y.json")


def test_failed_render_leaves_no_file(tmp_path):
    with pytest.raises(InvalidOptionError):
        write_outputs(_transcript(), tmp_path, "talk", ["json", "nope"])
    assert list(tmp_path.iterdir()) == []


def test_outputs_are_ordinary_readable_files(tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        (p,) = write_outputs(_transcript(), tmp_path, "talk", ["txt"])
    finally:
        os.umask(old)
    assert stat.S_IMODE(p.stat().st_mode) == 0o644


def test_subtitle_cues_follow_the_line_controls():
    from longspeech.outputs.subtitles import SubtitleOptions, cues
    from longspeech.types import Recording, Segment, Transcript, Word

    words = [Word(f" w{i}", i * 0.5, i * 0.5 + 0.4, 0.9) for i in range(10)]
    seg = Segment(0.0, 5.0, " ".join(w.word.strip() for w in words), words, "A")
    tr = Transcript(Recording("r", "r.wav", 5.0, 16000, 1), "en", [seg])
    got = cues(tr, SubtitleOptions(max_words_per_line=3, max_line_count=2))
    assert [c.lines for c in got] == [("w0 w1 w2", "w3 w4 w5"), ("w6 w7 w8", "w9")]
    assert [(c.start, c.end) for c in got] == [(0.0, 2.9), (3.0, 5.0)]
    assert all(c.speaker == "A" for c in got)
    narrow = cues(tr, SubtitleOptions(max_line_width=8))
    assert all(len(line) <= 8 for c in narrow for line in c.lines)
    marked = cues(tr, SubtitleOptions(max_words_per_line=5, max_line_count=1,
                                      highlight_words=True))
    assert len(marked) == 10 and marked[0].lines == ("<u>w0</u> w1 w2 w3 w4",)
    assert marked[6].lines == ("w5 <u>w6</u> w7 w8 w9",) and marked[6].start == 3.0
    assert cues(tr, SubtitleOptions())[0].lines == (seg.text,)   # default: one cue per segment
