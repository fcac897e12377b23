"""Job state is locked, validated when read back, and never overwrites another input's
results; output names do not depend on input order; Ctrl-C still writes the summary."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from longspeech.errors import InvalidOptionError
from longspeech.pipelines.job import run_job
from longspeech.pipelines.names import output_stems, safe_stem
from longspeech.pipelines.state import STATE_DIR, JobState
from longspeech.pipelines.transcribe import TranscribeOptions

from .speech import JFK, espeak, sox


def _opts() -> TranscribeOptions:
    opts = TranscribeOptions()
    opts.asr.batch_size = 1       # one chunk per group: a job stops between chunks
    return opts


def _log(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / STATE_DIR / "job.log").read_text().splitlines()]


@pytest.fixture(scope="module")
def talk(tmp_path_factory) -> Path:
    """Three sentences 2.5 s apart: three chunks."""
    d = tmp_path_factory.mktemp("talk")
    parts = []
    for i, text in enumerate(("The harbour opens at seven.", "Please send the report today.",
                              "Our meeting is on Thursday.")):
        raw = espeak(text, d / f"raw{i}.wav")
        sox(str(raw), "-r", "16000", str(d / f"p{i}.wav"), "pad", "0", "2.5")
        parts.append(str(d / f"p{i}.wav"))
    sox(*parts, str(d / "talk.flac"))
    return d / "talk.flac"


def test_output_names_do_not_depend_on_input_order(tmp_path):
    paths = [tmp_path / "a" / "x.wav", tmp_path / "b" / "x.wav", tmp_path / "a" / "x.mp3",
             tmp_path / "y.wav", tmp_path / "a" / "job_summary.wav", tmp_path / ".hidden.wav"]
    expected = dict(zip(paths, output_stems(paths)))
    assert expected[paths[3]] == "y"
    assert expected[paths[4]] == "job_summary_" and expected[paths[5]] == "hidden"
    assert len(set(expected.values())) == len(paths)
    for order in itertools.permutations(paths):
        assert dict(zip(order, output_stems(list(order)))) == expected
    # told apart by their folders, and by extension where a folder holds both
    assert [expected[p] for p in paths[:3]] == ["a__x.wav", "b__x.wav", "a__x.mp3"]
    assert output_stems(paths[:2]) == ["a__x", "b__x"]
    for bad in ("..", ".", "a/b", "x\x00y", ""):
        stem = safe_stem(bad)
        assert stem and "/" not in stem and not stem.startswith(".") and "\x00" not in stem


def test_a_locked_output_directory_refuses_a_second_job(talk, tmp_path):
    out = tmp_path / "out"
    held = JobState(out, {"a": 1})
    (out / STATE_DIR / "keep.txt").write_text("state of the running job")
    try:
        with pytest.raises(InvalidOptionError, match=f"in use by another running job \\(pid "
                                                     f"{os.getpid()}"):
            run_job([talk], out, _opts())
        with pytest.raises(InvalidOptionError, match="in use"):
            run_job([talk], out, _opts(), resume=False)
        assert (out / STATE_DIR / "keep.txt").exists()   # --no-resume deleted nothing
    finally:
        held.close()
    assert not run_job([talk], out, _opts(), resume=False).failed


def test_corrupt_state_is_recomputed_never_trusted(talk, ct2_engine, tmp_path):
    out = tmp_path / "out"
    assert not run_job([talk], out, _opts(), engine=ct2_engine).failed
    reference = (out / "talk.json").read_bytes()
    chunks = sorted((out / STATE_DIR / "recordings" / "talk" / "chunks").glob("*.json"))
    assert len(chunks) == 3
    chunks[1].write_text('[{"start": 1.0, "text": ')            # cut off mid-write
    summary = run_job([talk], out, _opts(), engine=ct2_engine)
    assert not summary.failed and summary.files[0].resumed_chunks == 2
    assert (out / "talk.json").read_bytes() == reference
    log = _log(out)
    assert [e["chunk"] for e in log if e["event"] == "chunk_corrupt"] == [1]

    # A manifest whose stem points outside OUT is not used, and nothing is written there.
    manifest = out / STATE_DIR / "recordings" / "talk" / "manifest.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**data, "stem": "../../escaped"}))
    assert not run_job([talk], out, _opts(), engine=ct2_engine).failed
    assert not list(tmp_path.rglob("escaped*"))
    assert (out / "talk.json").read_bytes() == reference

    # Without job.json the saved work cannot be checked: it is not reused, and we say so.
    (out / STATE_DIR / "job.json").unlink()
    summary = run_job([talk], out, _opts(), engine=ct2_engine)
    assert summary.files[0].resumed_chunks == 0
    assert any("job.json is missing" in n for n in summary.notes)
    (out / STATE_DIR / "job.json").write_text("{not json")
    summary = run_job([talk], out, _opts(), engine=ct2_engine)
    assert summary.files[0].resumed_chunks == 0 and any("unreadable" in n for n in summary.notes)
    assert (out / "talk.json").read_bytes() == reference


def test_another_input_with_the_same_name_is_not_overwritten(talk, ct2_engine, tmp_path):
    a, b = tmp_path / "a" / "talk.flac", tmp_path / "b" / "talk.flac"
    a.parent.mkdir()
    b.parent.mkdir()
    shutil.copy(talk, a)
    shutil.copy(JFK, b)
    out = tmp_path / "out"
    assert not run_job([a], out, _opts(), engine=ct2_engine).failed
    first = (out / "talk.json").read_bytes()
    summary = run_job([b], out, _opts(), engine=ct2_engine)
    assert summary.failed and "already hold the results of another input" in \
        summary.files[0].error
    assert (out / "talk.json").read_bytes() == first
    # In one job the two are told apart by their folders, whatever the order.
    both = run_job([b, a], tmp_path / "both", _opts(), engine=ct2_engine)
    assert [f.stem for f in both.files] == ["b__talk", "a__talk"]
    summary = json.loads((tmp_path / "both" / "job_summary.json").read_text())
    assert [f["stem"] for f in summary["files"]] == ["b__talk", "a__talk"]


def test_a_job_with_every_step_saved_loads_no_model(talk, tmp_path):
    from longspeech.diarization import DiarizationOptions
    from longspeech.pipelines.runners import LocalRunner

    out = tmp_path / "out"
    first = LocalRunner()
    assert not run_job([talk], out, _opts(), runner=first,
                       diarization=DiarizationOptions()).failed
    assert first.started == {"plan", "asr", "diarize"}
    reference = (out / "talk.json").read_bytes()
    again = LocalRunner()
    summary = run_job([talk], out, _opts(), runner=again, diarization=DiarizationOptions())
    assert not summary.failed and again.started == set()
    assert (out / "talk.json").read_bytes() == reference
    assert _log(out)[-1]["models_loaded"] == []


def test_what_waits_for_the_decoder_stays_bounded_on_a_long_file(tmp_path):
    """Four minutes of speech in one-chunk groups (many more groups than the bound): the
    groups queued or being decoded never pass AHEAD_GROUPS, and the runner never holds more
    than its depth of them; every chunk is still decoded once."""
    from longspeech.pipelines.scheduler import AHEAD_GROUPS
    from longspeech.pipelines.runners import LocalRunner
    from longspeech.synth import RecordingSpec, write_recording

    audio = write_recording(RecordingSpec(seed=11, duration=240, speakers=2),
                            tmp_path / "audio", "long").audio
    held: list[int] = []

    class Watching(LocalRunner):
        def submit(self, stage, item):
            ticket = super().submit(stage, item)
            if stage == "asr":
                held.append(self._threads["asr"].queued)
            return ticket

    out = tmp_path / "out"
    summary = run_job([Path(audio)], out, _opts(), runner=Watching())
    assert not summary.failed
    chunks = summary.files[0].chunks
    assert chunks > 2 * AHEAD_GROUPS
    finished = next(e for e in _log(out) if e["event"] == "job_finished")
    assert 1 <= finished["queue_peak"] <= AHEAD_GROUPS
    assert max(held) <= Watching().depth
    decoded = [c for e in _log(out) if e["event"] == "chunks_decoded" for c in e["chunks"]]
    assert sorted(decoded) == list(range(chunks))


def test_a_recording_diarized_before_its_groups_are_released_is_decoded_whole(tmp_path):
    """The second recording's diarization ends while all of its chunk groups still wait
    behind the first recording's: it is finished only when its groups are decoded too."""
    from longspeech.diarization import DiarizationOptions
    from longspeech.synth import RecordingSpec, write_recording

    paths = [Path(write_recording(RecordingSpec(seed=s, duration=d, speakers=2),
                                  tmp_path / "audio", f"r{s}").audio)
             for s, d in ((12, 300), (13, 15))]
    summary = run_job(paths, tmp_path / "out", _opts(), diarization=DiarizationOptions())
    assert not summary.failed, [f.error for f in summary.failed]
    events = _log(tmp_path / "out")
    diarized = next(i for i, e in enumerate(events)
                    if e["event"] == "diarized" and e["recording"] == "r13")
    assert any(e["event"] == "chunks_decoded" and e["recording"] == "r13"
               for e in events[diarized:])
    assert all(json.loads((tmp_path / "out" / f"r{s}.json").read_text())["segments"]
               for s in (12, 13))


def test_resumed_file_reports_no_speed_for_work_it_did_not_do(talk, ct2_engine, tmp_path):
    run_job([talk], tmp_path, _opts(), engine=ct2_engine)
    again = run_job([talk], tmp_path, _opts(), engine=ct2_engine)
    r = again.files[0]
    assert r.resumed_chunks == r.chunks == 3 and r.realtime_factor is None


def test_ctrl_c_writes_the_summary_and_exits_130(talk, tmp_path):
    inputs = []
    for i in range(4):
        inputs.append(tmp_path / f"talk{i}.flac")
        shutil.copy(talk, inputs[-1])
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "longspeech.cli", "transcribe",
                             *map(str, inputs), "-o", str(out), "--runner", "local",
                             "--batch-size", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            # a shell without job control starts background jobs with
                            # Ctrl-C ignored, and Python keeps that: restore the default
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    chunks = out / STATE_DIR / "recordings"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if list(chunks.glob("*/chunks/*.json")):
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the job ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "resume" in err
    summary = json.loads((out / "job_summary.json").read_text())
    assert "interrupted" in {f["status"] for f in summary["files"]}
    assert len(summary["files"]) == len(inputs)
