"""The README's common tasks and the Python API page's example, run as written from a clone
(a folder holding the clone's data/), so the commands a newcomer copies work."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _blocks(markdown: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", markdown, re.S)


def _common_tasks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Common tasks", 1)[1].split("\n## ", 1)[0]
    return [line.strip() for block in _blocks(section, "bash") for line in block.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("clone")
    (d / "data").symlink_to(ROOT / "data")
    (d / "out").mkdir()
    return d


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def test_readme_common_tasks_run_as_written(clone):
    lines = _common_tasks()
    assert len(lines) >= 10 and all(not line.startswith(".venv") for line in lines)
    said = {}
    for line in lines:
        done = subprocess.run(["bash", "-c", line], cwd=clone, env=_env(), capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr, line
        said[line] = done.stdout
    out = clone / "out"
    assert (out / "talk" / "sample.html").is_file() and (out / "talk" / "index.html").is_file()
    assert {"sample.srt", "sample.vtt", "sample.txt"} <= {p.name for p in (out / "folder").iterdir()}
    named = json.loads((out / "named" / "sample.json").read_text())
    assert "Ann" in named["speakers"]
    search = next(v for k, v in said.items() if k.startswith("longspeech search"))
    assert "green notebook" in search and "sample.html#t=" in search
    across = next(v for k, v in said.items() if "Which recordings" in k)
    assert "sample" in across
    assert json.loads((out / "ray" / "job_summary.json").read_text())["runner"] == "ray"
    assert (out / "blab").is_dir()


def test_api_page_example_runs_as_written(clone):
    code = _blocks((ROOT / "docs" / "api.md").read_text(encoding="utf-8"), "python")[0]
    done = subprocess.run([sys.executable, "-c", code], cwd=clone, env=_env(),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "notebook" in done.stdout.lower()
