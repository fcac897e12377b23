"""Known speakers: voices enrolled from clips recorded elsewhere name the diarized speakers
in the transcript, the RTTM and the subtitles; a voice nobody enrolled keeps SPEAKER_N."""

from __future__ import annotations

import json

import pytest

from longspeech.diarization import DiarizationOptions
from longspeech.diarization.enrolment import parse_known_speakers
from longspeech.errors import InputFileError, InvalidOptionError
from longspeech.pipelines.job import run_job
from longspeech.pipelines.runners import LocalRunner
from longspeech.pipelines.state import STATE_DIR
from longspeech.pipelines.transcribe import TranscribeOptions
from longspeech.synth import DEFAULT_VOICES, RecordingSpec, make_recording, write_recording


@pytest.fixture(scope="module")
def meeting(tmp_path_factory):
    """A 90-s meeting of three voices, and 12-s clips of the first two voices saying other
    sentences (recorded elsewhere)."""
    d = tmp_path_factory.mktemp("enrol")
    paths = write_recording(RecordingSpec(seed=41, duration=90, speakers=3), d, "meeting")
    clips = {}
    for name, voice, seed in (("Ann", DEFAULT_VOICES[0], 77), ("Bob", DEFAULT_VOICES[1], 78)):
        clip = write_recording(make_recording(RecordingSpec(seed=seed, duration=12, speakers=1,
                                                            voices=(voice,))), d, name)
        clips[name] = clip.audio
    return paths, clips


def test_enrolled_voices_are_named_and_an_unknown_one_is_not(meeting, tmp_path, ct2_engine):
    paths, clips = meeting
    known = parse_known_speakers([f"{n}={p}" for n, p in clips.items()])
    diar = DiarizationOptions(known=known)
    out = tmp_path / "out"
    summary = run_job([paths.audio], out, TranscribeOptions(), ("json", "rttm", "srt"),
                      runner=LocalRunner(), engine=ct2_engine, diarization=diar)
    assert not summary.failed, summary.failed[0].error
    data = json.loads((out / "meeting.json").read_text())
    truth = json.loads(paths.metadata.read_text())
    expected = {"spk0": "Ann", "spk1": "Bob"}
    # Reference speaker of each transcript word: the synthetic sentence around its middle.
    sentences = [(s["start"], s["end"], s["speaker"]) for s in truth["sentences"]]
    right = total = 0
    unknown_labels = set()
    for seg in data["segments"]:
        for w in seg["words"]:
            mid = (w["start"] + w["end"]) / 2
            ref = next((spk for a, b, spk in sentences if a - 0.2 <= mid <= b + 0.2), None)
            if ref is None:
                continue
            if ref in expected:
                total += 1
                right += w["speaker"] == expected[ref]
            else:
                unknown_labels.add(w["speaker"])
    assert total > 50 and right / total >= 0.95, (right, total)
    assert unknown_labels and all(lab.startswith("SPEAKER_") for lab in unknown_labels)
    assert {"Ann", "Bob"} <= set(data["speakers"])
    rttm = (out / "meeting.rttm").read_text()
    assert " Ann " in rttm and " Bob " in rttm
    assert "Ann" in (out / "meeting.srt").read_text()
    named = data["provenance"]["diarization"]["enrolment"]["named"]
    assert sorted(v["name"] for v in named.values()) == ["Ann", "Bob"]
    # A resumed job reuses the saved, named diarization.
    again = run_job([paths.audio], out, TranscribeOptions(), ("json", "rttm", "srt"),
                    runner=LocalRunner(), engine=ct2_engine, diarization=diar)
    assert not again.failed
    log = (out / STATE_DIR / "job.log").read_text()
    assert "diarization_reused" in log
    assert json.loads((out / "meeting.json").read_text()) == data


def test_bad_enrolment_is_refused_with_what_to_do(meeting, tmp_path):
    _, clips = meeting
    with pytest.raises(InvalidOptionError, match="NAME=CLIP"):
        parse_known_speakers(["Ann"])
    with pytest.raises(InvalidOptionError, match="one word"):
        parse_known_speakers([f"Ann Smith={clips['Ann']}"])
    with pytest.raises(InvalidOptionError, match="SPEAKER_N"):
        parse_known_speakers([f"SPEAKER_01={clips['Ann']}"])
    with pytest.raises(InvalidOptionError, match="given twice: Ann"):
        parse_known_speakers([f"Ann={clips['Ann']}", f"Ann={clips['Bob']}"])
    with pytest.raises(InputFileError, match="no such enrolment clip"):
        parse_known_speakers([f"Ann={tmp_path / 'none.wav'}"])
    folder = tmp_path / "voices"
    folder.mkdir()
    (folder / "Cleo.wav").write_bytes(clips["Ann"].read_bytes())
    (folder / "notes.txt").write_text("not audio")
    assert [k.name for k in parse_known_speakers((), folder)] == ["Cleo"]


def test_diarize_command_names_enrolled_voices_in_the_rttm(meeting, tmp_path):
    import subprocess
    import sys

    paths, clips = meeting
    proc = subprocess.run(
        [sys.executable, "-m", "longspeech.cli", "diarize", str(paths.audio), "-o",
         str(tmp_path), *[a for n, p in clips.items() for a in ("--speaker", f"{n}={p}")]],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    speakers = {line.split()[7] for line in (tmp_path / "meeting.rttm").read_text().splitlines()}
    assert {"Ann", "Bob"} <= speakers and len(speakers - {"Ann", "Bob"}) == 1
