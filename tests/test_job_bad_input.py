"""A batch with bad inputs: each bad file fails alone with a clear message; the rest goes on."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from longspeech.pipelines.inputs import expand_inputs
from longspeech.pipelines.job import run_job
from longspeech.pipelines.transcribe import TranscribeOptions

from .speech import JFK, need, sox


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    d = tmp_path_factory.mktemp("batch")
    files = {}
    files["empty"] = d / "empty.wav"
    files["empty"].write_bytes(b"")
    files["zero_length"] = d / "zero_length.wav"
    sox("-n", "-r", "16000", "-c", "1", "-b", "16", str(files["zero_length"]), "trim", "0", "0")
    files["text_as_wav"] = d / "notes.wav"
    files["text_as_wav"].write_text("this is not audio\n" * 50)
    need("ffmpeg")
    full_mp3 = d / "full.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(JFK), str(full_mp3)], check=True)
    data = full_mp3.read_bytes()
    files["truncated_mp3"] = d / "truncated.mp3"
    files["truncated_mp3"].write_bytes(data[: len(data) // 2])
    files["stereo_8k_24bit"] = d / "stereo_8k_24bit.wav"
    sox(str(JFK), "-r", "8000", "-c", "2", "-b", "24", str(files["stereo_8k_24bit"]))
    files["silence"] = d / "silence.flac"
    sox("-n", "-r", "16000", "-c", "1", str(files["silence"]), "trim", "0", "8")
    files["unicode"] = d / "réunion 会議 ñ.flac"
    shutil.copy(JFK, files["unicode"])
    files["directory"] = d / "a_directory.wav"
    files["directory"].mkdir()
    return d, files


def test_bad_inputs_fail_alone(batch, ct2_engine, tmp_path):
    _, files = batch
    out = tmp_path / "out"
    summary = run_job(list(files.values()), out, TranscribeOptions(), formats=("json", "txt"),
                      engine=ct2_engine)
    by_name = {k: r for k, r in zip(files, summary.files)}
    for name in ("empty", "zero_length", "text_as_wav", "directory"):
        r = by_name[name]
        assert r.status == "failed", name
        assert r.error and "internal error" not in r.error, r.error
    assert "empty" in by_name["empty"].error.lower()
    assert "directory" in by_name["directory"].error.lower()
    assert "zero-length" in by_name["zero_length"].error
    # Pure silence is a valid recording in which nothing is said.
    r = by_name["silence"]
    assert r.status == "ok", r.error
    assert json.loads((out / "silence.json").read_text())["segments"] == []
    # A truncated mp3 decodes what is there, or fails cleanly; never an internal error.
    r = by_name["truncated_mp3"]
    assert r.status == "ok" or "internal error" not in r.error
    for name in ("stereo_8k_24bit", "unicode"):
        r = by_name[name]
        assert r.status == "ok", r.error
        text = (out / f"{files[name].stem}.txt").read_text().lower()
        assert "fellow americans" in text and "your country" in text, text
    # Failed files leave no output behind; only temp-free final files exist.
    for name in ("empty", "zero_length", "text_as_wav", "directory"):
        assert not list(out.glob(f"{files[name].stem}.*"))
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    saved = json.loads((out / "job_summary.json").read_text())
    assert saved["failed"] == sum(r.status == "failed" for r in summary.files)


def test_cli_exit_status_and_summary(batch, tmp_path):
    d, files = batch
    out = tmp_path / "cli"
    good, bad = files["unicode"], files["text_as_wav"]
    proc = subprocess.run([sys.executable, "-m", "longspeech.cli", "transcribe", str(good),
                           str(bad), "-o", str(out), "-f", "json,srt,vtt,tsv,txt"],
                          capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert "failed" in proc.stderr
    for fmt in ("json", "srt", "vtt", "tsv", "txt"):
        assert (out / f"{good.stem}.{fmt}").is_file()
    assert not list(out.glob("notes.*"))


def test_expand_inputs(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("a/x.wav", "a/b/y.FLAC", "a/readme.txt", "z.mp3"):
        (tmp_path / name).write_bytes(b"")
    lst = tmp_path / "list.txt"
    lst.write_text(f"# comment\n{tmp_path / 'z.mp3'}\n\n")
    got = expand_inputs([str(tmp_path / "a"), f"@{lst}", str(tmp_path / "*.mp3"),
                         str(tmp_path / "missing.wav")])
    assert [p.name for p in got] == ["y.FLAC", "x.wav", "z.mp3", "missing.wav"]
