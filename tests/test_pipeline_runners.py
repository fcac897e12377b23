"""Runners and resume: Ray (one node, two nodes, a killed actor, a killed driver) gives the
same bytes as the in-process runner; finished chunks are never decoded twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from longspeech.wer import word_error_rate
from longspeech.pipelines.job import run_job
from longspeech.pipelines.runners import LocalRunner, RayRunner
from longspeech.pipelines.state import STATE_DIR
from longspeech.pipelines.transcribe import TranscribeOptions

from .speech import JFK, espeak, sox

VOICES = ("en-us", "en-us+f3", "en+m3", "en-us+f4", "en-gb", "en-us+m2")
SENTENCES = (
    "The harbour opens at seven in the morning.",
    "Please send the report to the finance team.",
    "Our next meeting is planned for Thursday afternoon.",
    "The weather was cold but the sky stayed clear.",
)
FORMATS = ("json", "srt", "txt")


def _opts() -> TranscribeOptions:
    # One chunk per batch: every file has several groups, so a job can stop between them.
    opts = TranscribeOptions()
    opts.asr.batch_size = 1
    opts.asr.device = "auto"     # as the CLI does (the provenance records it)
    return opts


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Six files of four sentences each, 2.5 s of silence apart (so four chunks each)."""
    d = tmp_path_factory.mktemp("corpus")
    files = []
    for i, voice in enumerate(VOICES):
        parts = []
        for j in range(4):
            raw = espeak(SENTENCES[(i + j) % 4], d / f"raw{i}{j}.wav", voice=voice)
            part = d / f"part{i}{j}.wav"
            sox(str(raw), "-r", "16000", str(part), "pad", "0", "2.5")
            parts.append(str(part))
        f = d / "in" / f"file{i}.flac"
        f.parent.mkdir(exist_ok=True)
        sox(*parts, str(f))
        files.append(f)
    return files


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory, ct2_engine):
    """Outputs of an uninterrupted in-process run."""
    out = tmp_path_factory.mktemp("reference")
    summary = run_job(corpus, out, _opts(), FORMATS, runner=LocalRunner(), engine=ct2_engine)
    assert not summary.failed
    return out


def _outputs(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())
            if p.is_file() and p.suffix.lstrip(".") in FORMATS and p.stem != "job_summary"}


def test_reference_is_right(corpus, reference):
    outs = _outputs(reference)
    assert len(outs) == len(corpus) * len(FORMATS)
    for i in range(len(corpus)):
        text = outs[f"file{i}.txt"].decode()
        expected = " ".join(SENTENCES[(i + j) % 4] for j in range(4))
        assert word_error_rate(expected, text) < 0.3, text
        data = json.loads(outs[f"file{i}.json"])
        starts = [w["start"] for s in data["segments"] for w in s["words"]]
        assert starts == sorted(starts)
    state = reference / STATE_DIR / "recordings" / "file0"
    assert len(list((state / "chunks").glob("*.json"))) == 4


def test_two_node_cluster_matches_local(corpus, reference, tmp_path):
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2})
    cluster.add_node(num_cpus=2)
    try:
        runner = RayRunner(cluster.address, actors={"asr": 2})
        summary = run_job(corpus, tmp_path, _opts(), FORMATS, runner=runner)
    finally:
        cluster.shutdown()
    assert not summary.failed, [f.error for f in summary.failed]
    assert summary.runner == "ray"
    # Two decoding actors, one on each node (each node has room for just one).
    assert len(set(runner.placement["asr"])) == 2
    assert _outputs(tmp_path) == _outputs(reference)


def test_ray_under_cpu_load_matches_local_with_sampled_fallback(tmp_path):
    """The text is a function of audio, options and model: with every chunk decoded through
    the sampled temperature fallback (noisy speech, unsure enough that samples differ), a
    batch on Ray actors on a machine whose cores are all busy gives the bytes of each file
    transcribed alone in-process."""
    x, sr = sf.read(JFK, dtype="float32")
    noise = np.random.default_rng(0).normal(0, 1, len(x)).astype(np.float32)
    inputs = []
    for i, level in enumerate((1.5, 1.0)):
        inputs.append(tmp_path / "in" / f"noisy{i}.wav")
        inputs[-1].parent.mkdir(exist_ok=True)
        sf.write(inputs[-1], x + noise * level * np.sqrt(np.mean(x ** 2)), sr)
    opts = _opts()
    opts.asr.log_prob_threshold = 0.0     # no chunk passes: all go through the fallback
    alone = {}
    for i, path in enumerate(inputs):
        assert not run_job([path], tmp_path / f"alone{i}", opts, FORMATS,
                           runner=LocalRunner()).failed
        alone.update(_outputs(tmp_path / f"alone{i}"))
    # One busy process per core, at the priority of any user's program: the stage actors
    # compete for every core (at Ray's default worker priority they would all but stop).
    burners = [subprocess.Popen([sys.executable, "-c", "while 1: pass"])
               for _ in range(os.cpu_count() or 2)]
    try:
        ray_run = run_job(inputs, tmp_path / "ray", opts, FORMATS, runner=RayRunner())
    finally:
        for b in burners:
            b.kill()
            b.wait()
    assert not ray_run.failed
    for i in range(len(inputs)):
        data = json.loads(alone[f"noisy{i}.json"])
        assert data["segments"] and all(s["temperature"] > 0 for s in data["segments"])
    assert _outputs(tmp_path / "ray") == alone


def test_killed_actor_restarts_and_outputs_match(corpus, reference, tmp_path):
    import ray

    runner = RayRunner()
    killed = []

    def on_progress(p) -> None:
        # Kill the decoding actor once, as soon as the job is under way.
        if not killed and p.seconds_done > 0:
            ray.kill(runner.pools["asr"].actors[0], no_restart=False)
            killed.append(p.recording_id)

    summary = run_job(corpus, tmp_path, _opts(), FORMATS, on_progress, runner=runner)
    assert killed
    assert not summary.failed, [f.error for f in summary.failed]
    assert _outputs(tmp_path) == _outputs(reference)


def _cli(inputs: list[Path], out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "longspeech.cli", "transcribe", *map(str, inputs), "-o",
            str(out), "-f", ",".join(FORMATS), "--batch-size", "1", *extra]


def _log(out: Path) -> list[dict]:
    lines = (out / STATE_DIR / "job.log").read_text().splitlines()
    return [json.loads(x) for x in lines]


def test_killed_driver_resumes_without_recomputing(corpus, reference, tmp_path):
    out = tmp_path / "out"
    chunks = out / STATE_DIR / "recordings"
    proc = subprocess.Popen(_cli(corpus, out, "--runner", "ray"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if len(list(chunks.glob("*/chunks/*.json"))) >= 6:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the job ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {p: p.stat().st_mtime_ns for p in chunks.glob("*/chunks/*.json")}
    assert 6 <= len(before) < 24
    assert not _outputs(out) or len(_outputs(out)) < len(corpus) * len(FORMATS)

    rerun = subprocess.run(_cli(corpus, out), capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert _outputs(out) == _outputs(reference)
    # Chunks finished before the kill were read back, not decoded again.
    assert {p: p.stat().st_mtime_ns for p in before} == before
    second = [e for e in _log(out) if e["pid"] != proc.pid]
    resumed = sum(e["count"] for e in second if e["event"] == "chunks_resumed")
    assert resumed == len(before)
    redone = {(e["recording"], c) for e in second if e["event"] == "chunks_decoded"
              for c in e["chunks"]}
    assert not redone & {(p.parent.parent.name, int(p.stem)) for p in before}
    assert len(redone) + resumed == 24
    summary = json.loads((out / "job_summary.json").read_text())
    assert sum(f["resumed_chunks"] for f in summary["files"]) == len(before)


def test_corrupt_files_fail_alone_on_ray(corpus, reference, tmp_path):
    bad1 = tmp_path / "corrupt.wav"
    bad1.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt " + os.urandom(2000))
    bad2 = tmp_path / "notes.flac"
    bad2.write_text("not audio at all\n" * 100)
    inputs = [corpus[0], bad1, corpus[1], corpus[2], bad2, corpus[3]]
    out = tmp_path / "out"
    proc = subprocess.run(_cli(inputs, out, "--runner", "ray"), capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 1, proc.stderr
    summary = json.loads((out / "job_summary.json").read_text())
    status = {Path(f["input"]).name: f for f in summary["files"]}
    assert [status[p.name]["status"] for p in inputs] == ["ok", "failed", "ok", "ok",
                                                         "failed", "ok"]
    for bad in (bad1, bad2):
        err = status[bad.name]["error"]
        assert "cannot decode" in err and "internal error" not in err, err
    ref = _outputs(reference)
    got = _outputs(out)
    assert got == {k: v for k, v in ref.items() if k.split(".")[0] in
                   {p.stem for p in corpus[:4]}}


def test_python_api_gives_the_job_transcript(corpus, reference):
    """longspeech.transcribe() and transcribe_iter() run the job's stages in-process: the same
    chunk plan, groups, language and provenance, so the same transcript."""
    import longspeech
    from longspeech.types import load_transcript

    opts = _opts()
    fields = {"batch_size": opts.asr.batch_size, "device": opts.asr.device}
    tr = longspeech.transcribe(corpus[0], **fields)
    assert tr.to_json() == load_transcript(reference / "file0.json").to_json()
    segs = list(longspeech.transcribe_iter(corpus[0], **fields))
    assert segs == tr.segments


def test_changed_options_refuse_to_mix(corpus, tmp_path):
    opts = _opts()
    run_job(corpus[:1], tmp_path, opts, ("json",), runner=LocalRunner())
    opts.asr.beam_size = 2
    from longspeech.errors import InvalidOptionError

    with pytest.raises(InvalidOptionError, match="--no-resume"):
        run_job(corpus[:1], tmp_path, opts, ("json",), runner=LocalRunner())
    summary = run_job(corpus[:1], tmp_path, opts, ("json",), runner=LocalRunner(),
                      resume=False)
    assert not summary.failed and summary.files[0].resumed_chunks == 0


def test_job_with_diarization_labels_speakers_and_resumes(ct2_engine, tmp_path):
    from longspeech.diarization import DiarizationOptions

    sample = Path(__file__).resolve().parents[1] / "data" / "sample.flac"
    diar = DiarizationOptions(num_speakers=2)
    first = run_job([sample], tmp_path, TranscribeOptions(), ("json", "rttm"),
                    engine=ct2_engine, diarization=diar)
    assert not first.failed and first.files[0].speakers == 2
    data = json.loads((tmp_path / "sample.json").read_text())
    assert data["speakers"] == ["SPEAKER_00", "SPEAKER_01"]
    assert all(w["speaker"] in data["speakers"] for s in data["segments"] for w in s["words"])
    assert (tmp_path / "sample.rttm").read_text().count("SPEAKER sample") == len(data["turns"])
    before = (tmp_path / "sample.json").read_bytes()
    again = run_job([sample], tmp_path, TranscribeOptions(), ("json", "rttm"),
                    engine=ct2_engine, diarization=diar)
    assert again.files[0].resumed_chunks == again.files[0].chunks
    assert (tmp_path / "sample.json").read_bytes() == before
    assert any(e["event"] == "diarization_reused" for e in _log(tmp_path))


@pytest.mark.slow
def test_job_with_gfd_fixes_a_term_the_prompt_names(tmp_path):
    from longspeech.asr import AsrOptions
    from longspeech.fusion import FusionOptions

    wav = espeak("We deployed the service on Kubernetes last week.", tmp_path / "k8s.wav")
    opts = TranscribeOptions(asr=AsrOptions(engine="gfd",
                                            fusion=FusionOptions(prompt="Glossary: Kubernetes.")))
    summary = run_job([wav], tmp_path / "out", opts, ("txt",))
    assert not summary.failed
    assert (tmp_path / "out" / "k8s.txt").read_text().strip() == (
        "We deployed the service on Kubernetes last week.")


class _Slow:
    """A stage that takes as many seconds as its item says, or kills its worker for -1."""

    num_cpus = 0.5
    num_gpus = 0

    def __init__(self, config):
        pass

    def __call__(self, seconds: float) -> float:
        if seconds < 0:
            os._exit(1)
        time.sleep(seconds)
        return seconds


def test_ray_worker_calls_time_out_and_dead_actors_leave_the_pool():
    from longspeech.errors import LongspeechError
    from longspeech.pipelines.runners import StageSpec

    runner = RayRunner(call_timeout=3.0, max_restarts=0, max_task_retries=0)
    try:
        runner.start({"slow": StageSpec(_Slow, None)})
        ok = runner.submit("slow", 0.1)
        assert runner.next_done() == (ok, 0.1, None)
        late = runner.submit("slow", 60)
        ticket, result, error = runner.next_done()       # not the 60 s result: the timeout
        assert ticket == late and result is None
        assert "took more than 3 s" in str(error)
        runner.close()
        runner = RayRunner(max_restarts=0, max_task_retries=0)
        runner.start({"slow": StageSpec(_Slow, None)})
        runner.submit("slow", -1)
        _, _, error = runner.next_done()
        assert "died" in str(error)
        with pytest.raises(LongspeechError, match="every slow worker died"):
            runner.free("slow")
    finally:
        runner.close()


def test_a_running_cluster_is_joined_only_when_asked(corpus, tmp_path):
    """Beside a `ray start --head` cluster, a plain run stays in-process, a --runner ray run
    starts its own Ray (never the "object_store_memory must not be provided" error) and
    --address auto joins the cluster."""
    ray_cli = Path(sys.executable).with_name("ray")
    started = subprocess.run([str(ray_cli), "start", "--head", "--port", "6391",
                              "--include-dashboard=false", "--num-cpus", "2"],
                             capture_output=True, text=True, timeout=300)
    assert started.returncode == 0, started.stderr
    try:
        for extra, out, runner in (((), tmp_path / "plain", "local"),
                                   (("--runner", "ray"), tmp_path / "own", "ray"),
                                   (("--address", "auto"), tmp_path / "joined", "ray")):
            proc = subprocess.run(_cli(corpus[:2], out, *extra),
                                  capture_output=True, text=True, timeout=600)
            assert proc.returncode == 0, proc.stderr
            summary = json.loads((out / "job_summary.json").read_text())
            assert summary["runner"] == runner and summary["ok"] == 2
    finally:
        subprocess.run([str(ray_cli), "stop"], capture_output=True, timeout=120)


@pytest.mark.slow
def test_readme_cluster_section_end_to_end(corpus, reference, tmp_path):
    """The README's cluster steps with the project's own install: `ray start --head` with its
    dashboard, `ray job submit -- longspeech transcribe ... --address auto`, the outputs,
    `ray stop`."""
    ray_cli = str(Path(sys.executable).with_name("ray"))
    env = {**os.environ, "RAY_AUTH_MODE": "token"}
    started = subprocess.run([ray_cli, "start", "--head", "--port", "6393", "--dashboard-port",
                              "8269", "--num-cpus", "2"], capture_output=True, text=True,
                             timeout=300, env=env)
    assert started.returncode == 0, started.stderr
    try:
        entry = [str(Path(sys.executable).with_name("longspeech")),
                 *_cli(corpus, tmp_path / "out", "--address", "auto")[3:]]
        job = subprocess.run([ray_cli, "job", "submit", "--address", "http://127.0.0.1:8269",
                              "--", *entry], capture_output=True, text=True, timeout=900, env=env)
        assert job.returncode == 0, job.stdout + job.stderr
        assert "succeeded" in job.stdout + job.stderr
    finally:
        stopped = subprocess.run([ray_cli, "stop"], capture_output=True, text=True, timeout=120)
    assert stopped.returncode == 0
    summary = json.loads((tmp_path / "out" / "job_summary.json").read_text())
    assert summary["runner"] == "ray" and summary["ok"] == len(corpus)
    assert _outputs(tmp_path / "out") == _outputs(reference)
