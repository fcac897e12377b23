"""Answering on the nodes meant for it: a two-node Ray cluster started with `ray start` (a
CPU node, and a node advertising a GPU and the answering resource) runs `longspeech eval
blab`; decoding actors spread over both nodes, answering actors only on the GPU node (node
ids read from job.log). Where torch sees no GPU, device auto runs the answering on the CPU
and the job says so in one line. On a machine with a GPU, the speech-LM answering path runs
on CUDA."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from longspeech.pipelines.ray_runner import ANSWERING_RESOURCE

RAY = Path(sys.executable).parent / "ray"
LONGSPEECH = Path(sys.executable).parent / "longspeech"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Ray's clusters use token authentication: the commands find the token `ray start` keeps.
ENV = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_USAGE_STATS_ENABLED": "0"}


def _ray(*args: str) -> None:
    subprocess.run([str(RAY), *args], check=True, capture_output=True, timeout=180, env=ENV)


@pytest.fixture
def cluster():
    """A head node with 3 CPUs and no GPU; a second node with 3 CPUs, one GPU and the
    answering resource. Yields (address, cpu node id, gpu node id)."""
    port = _free_port()
    address = f"127.0.0.1:{port}"
    try:
        _ray("start", "--head", f"--port={port}", "--num-cpus=3", "--num-gpus=0",
             "--include-dashboard=false", "--disable-usage-stats")
        _ray("start", f"--address={address}", "--num-cpus=3", "--num-gpus=1",
             f"--resources={json.dumps({ANSWERING_RESOURCE: 1})}")
        probe = subprocess.run(
            [sys.executable, "-c",
             "import json, ray; ray.init(address=%r, logging_level='ERROR'); "
             "print(json.dumps([(n['NodeID'], n['Resources']) for n in ray.nodes() "
             "if n['Alive']]))" % address],
            check=True, capture_output=True, text=True, timeout=120, env=ENV)
        nodes = json.loads(probe.stdout.strip().splitlines()[-1])
        gpu = next(n for n, res in nodes if res.get(ANSWERING_RESOURCE))
        cpu = next(n for n, res in nodes if not res.get(ANSWERING_RESOURCE))
        yield address, cpu, gpu
    finally:
        subprocess.run([str(RAY), "stop", "--force"], capture_output=True, timeout=120, env=ENV)


@pytest.mark.slow
def test_decoding_on_any_node_answering_on_the_gpu_node(cluster, tmp_path):
    address, cpu_node, gpu_node = cluster
    out = tmp_path / "blab"
    run = subprocess.run(
        [str(LONGSPEECH), "eval", "blab", "--synthetic", "2", "--minutes", "1.5",
         "--tasks", "speaker_number_estimation,entire_duration,advertisement_localization,"
         "named_entity_localization", "--runner", "ray", "--address", address, "-o", str(out)],
        capture_output=True, text=True, timeout=1500, env=ENV)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    events = [json.loads(line) for line in
              (out / "transcripts" / ".longspeech" / "job.log").read_text().splitlines()]
    placement = next(e for e in events if e["event"] == "job_finished")["placement"]
    # Two decoding actors, spread: one on each node.
    assert set(placement["asr"]) == {cpu_node, gpu_node}
    # Every answering actor on the node that advertises the answering resource.
    assert placement["answer"] and set(placement["answer"]) == {gpu_node}
    results = json.loads((out / "results.json").read_text())
    assert results["scores"]["entire_duration"]["answered"] == 2
    import torch

    if not torch.cuda.is_available():       # said once, in one line, and kept in results
        said = [line for line in run.stderr.splitlines() if "torch sees none" in line]
        assert len(said) == 1 and said[0].startswith("note: AnswerStage on node"), run.stderr
        assert any("torch sees none" in n for n in results["notes"])
    # The speech LM's two answering stages (encoding, answering) share the one GPU there.
    lslm = subprocess.run(
        [str(LONGSPEECH), "eval", "blab", "--synthetic", "1", "--minutes", "1.5", "--tasks",
         "speaker_number_estimation,entire_duration", "--system", "lslm", "--runner", "ray",
         "--address", address, "-o", str(tmp_path / "lslm")],
        capture_output=True, text=True, timeout=900, env=ENV)
    assert lslm.returncode == 0, lslm.stdout + lslm.stderr
    events = [json.loads(line) for line in
              (tmp_path / "lslm" / "lslm" / ".longspeech" / "job.log").read_text().splitlines()]
    placement = next(e for e in events if e["event"] == "job_finished")["placement"]
    assert set(placement) == {"encode", "answer"}
    assert set(placement["encode"]) == set(placement["answer"]) == {gpu_node}


@pytest.mark.skipif("not __import__('torch').cuda.is_available()", reason="needs a GPU")
def test_speech_lm_answers_on_cuda(tmp_path):
    from longspeech.qa.answer import AskOptions, answer_lslm

    from .speech import JFK

    cpu = answer_lslm(str(JFK), "What is said?", 100, AskOptions(device="cpu"))
    gpu = answer_lslm(str(JFK), "What is said?", 100, AskOptions(device="cuda"))
    assert gpu.text and gpu.speech_tokens == cpu.speech_tokens
