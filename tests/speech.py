"""Test speech: real clips kept in tests/data and speech rendered offline with known words."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

# Real recorded clips; tests/data/realspeech/README.md names each one's source and licence.
REALSPEECH = Path(__file__).resolve().parent / "data" / "realspeech"
# Real Dutch two-voice dialogues, kept with the benchmarks that score them.
DIALOGUES_NL = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "dialogues_nl"
JFK = REALSPEECH / "clips_en" / "npm_whisper_cpp_jfk__jfk.flac"
# One minute of one real voice recorded over many sessions (README: source and licence).
ONE_VOICE_SESSIONS = (REALSPEECH / "single_voice"
                      / "deb_asterisk_prompt_fr_armelle__prompts_240s_60s.flac")
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
