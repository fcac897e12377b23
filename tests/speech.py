"""Test speech: real clips from shared/ and speech rendered offline with known words."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REALSPEECH = Path(__file__).resolve().parents[2] / "shared" / "data" / "realspeech-dev"
JFK = REALSPEECH / "clips_en" / "npm_whisper_cpp_jfk__jfk.flac"
JFK_TEXT = ("And so my fellow Americans, ask not what your country can do for you, "
            "ask what you can do for your country.")


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is missing: run `make test` (it apt-installs the speech tools)")


def espeak(text: str, path: Path, voice: str = "en-us", rate: int = 150) -> Path:
    """Render text with espeak-ng to a wav file (22.05 kHz mono)."""
    need("espeak-ng")
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(path), text],
                   check=True, capture_output=True)
    return path


def sox(*args: str) -> None:
    need("sox")
    subprocess.run(["sox", *args], check=True, capture_output=True)
