"""Shared fixtures: real tiny models, real synthesised speech, a private model cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

def pytest_configure(config):
    # Conversions and verified-weight stamps are shared by the whole session, not the user's.
    os.environ.setdefault("LONGSPEECH_CACHE", str(Path(__file__).resolve().parents[1]
                                                  / ".pytest_cache" / "longspeech-cache"))


@pytest.fixture(scope="session")
def ct2_engine():
    from longspeech.asr import AsrOptions, load_engine

    return load_engine(AsrOptions(engine="ct2"))


@pytest.fixture(scope="session")
def hf_engine():
    from longspeech.asr import AsrOptions, load_engine

    return load_engine(AsrOptions(engine="transformers"))
