"""The LLM stages run inside the job: correction is saved per recording and never redone
by a resumed job, and gives the same bytes on either runner."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from longspeech.pipelines.state import STATE_DIR

from .speech import espeak, sox

TEXTS = (("the harbour opens at seven in the morning", "please send the report to the finance team"),
         ("our next meeting is planned for thursday", "the weather was cold but the sky stayed clear"))


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    """Two recordings of two sentences each, 1.5 s apart."""
    d = tmp_path_factory.mktemp("llm_stages")
    out = []
    for i, pair in enumerate(TEXTS):
        parts = []
        for j, text in enumerate(pair):
            raw = espeak(text, d / f"raw{i}{j}.wav")
            part = d / f"part{i}{j}.wav"
            sox(str(raw), "-r", "16000", str(part), "pad", "0.3", "1.5")
            parts.append(str(part))
        f = d / f"talk{i}.flac"
        sox(*parts, str(f))
        out.append(f)
    return out


def _outputs(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.glob("talk*.*"))}


def _log(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / STATE_DIR / "job.log").read_text().splitlines()]


def _cli(inputs: list[Path], out: Path, runner: str = "local") -> list[str]:
    return [sys.executable, "-m", "longspeech.cli", "transcribe", *map(str, inputs), "-o",
            str(out), "-f", "json,txt", "--runner", runner, "--correct"]


@pytest.fixture(scope="module")
def reference(recordings, tmp_path_factory):
    out = tmp_path_factory.mktemp("reference")
    proc = subprocess.run(_cli(recordings, out), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((out / "talk0.json").read_text())
    assert data["provenance"]["correction"]["llm"]
    assert "corrections" in data["provenance"]
    return out


def test_killed_job_never_corrects_or_decodes_again(recordings, reference, tmp_path):
    out = tmp_path / "out"
    state = out / STATE_DIR / "recordings"
    proc = subprocess.Popen(_cli(recordings, out), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None:
        if list(state.glob("*/correction.json")):
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the job ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    corrected = {p.parent.name for p in state.glob("*/correction.json")}
    assert corrected == {"talk0"}

    rerun = subprocess.run(_cli(recordings, out), capture_output=True, text=True, timeout=900)
    assert rerun.returncode == 0, rerun.stderr
    assert _outputs(out) == _outputs(reference)
    second = [e for e in _log(out) if e["pid"] != proc.pid]
    assert not [e for e in second if e["event"] == "chunks_decoded"
                and e["recording"] in corrected]
    assert {e["recording"] for e in second if e["event"] == "correction_reused"} == corrected
    assert {e["recording"] for e in second if e["event"] == "corrected"} == {"talk1"}


def test_correction_stage_gives_the_same_bytes_on_ray(recordings, reference, tmp_path):
    proc = subprocess.run(_cli(recordings, tmp_path, "ray"), capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr
    assert _outputs(tmp_path) == _outputs(reference)
    again = subprocess.run(_cli(recordings, tmp_path), capture_output=True, text=True,
                           timeout=900)
    assert again.returncode == 0, again.stderr
    assert _outputs(tmp_path) == _outputs(reference)
    reused = {e["recording"] for e in _log(tmp_path) if e["event"] == "correction_reused"}
    assert reused == {"talk0", "talk1"}
    # every step was saved: the rerun loaded no model at all
    last = _log(tmp_path)[-1]
    assert last["event"] == "job_finished" and last["models_loaded"] == []


def test_correction_reports_its_progress_through_the_job(recordings, reference, tmp_path):
    """The correction stage says how far the LLM has read, as the ASR stage does, and the
    job's outputs are those of the CLI run."""
    from longspeech.correction import CorrectionOptions
    from longspeech.pipelines.job import run_job
    from longspeech.pipelines.transcribe import TranscribeOptions

    seen = []
    summary = run_job(recordings, tmp_path, TranscribeOptions(), ("json", "txt"), seen.append,
                      correction=CorrectionOptions())
    assert not summary.failed
    for rec in recordings:
        steps = [p for p in seen if p.recording_id == rec.stem and p.stage == "correction"]
        assert len(steps) >= 2                       # one per chat turn (two sentences each)
        done = [p.seconds_done for p in steps]
        assert done == sorted(done) and 0 < done[-1] <= steps[-1].total_seconds
        mine, cli = (json.loads((d / f"{rec.stem}.json").read_text())
                     for d in (tmp_path, reference))
        assert mine["segments"] == cli["segments"]      # the CLI's options differ in "device"
        assert mine["provenance"]["corrections"] == cli["provenance"]["corrections"]
