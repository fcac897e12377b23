"""CTranslate2 -> transformers Whisper conversion, checked against CTranslate2 itself."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from longspeech.errors import ModelConversionError, ModelIntegrityError, ModelNotAvailableError
from longspeech.models.ct2_convert import CONVERTER_VERSION, convert_ct2_whisper, read_ct2_model
from longspeech.models.registry import ct2_dir

from .speech import JFK

# Both engines run the fp16 weights in float32. Measured max abs difference on this clip:
# tiny.en 2.7e-5, base 8.1e-4 (its outputs reach 24; each engine alone is ~6.5e-4 away from
# a float64 run of the converted model, so that is float32 rounding, not a conversion error).
ENCODER_ATOL = {"tiny.en": 1e-3, "base": 2e-3}


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


@pytest.fixture(scope="module")
def tiny_src() -> Path:
    return ct2_dir("tiny.en")


@pytest.fixture(scope="module")
def tiny_hf(tiny_src: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return convert_ct2_whisper(tiny_src, tmp_path_factory.mktemp("hf") / "whisper-tiny.en",
                               source_sha256="0" * 64)


@pytest.fixture(scope="module")
def tiny(tiny_hf: Path):
    from transformers import WhisperForConditionalGeneration, WhisperProcessor

    model = WhisperForConditionalGeneration.from_pretrained(tiny_hf).eval()
    return model, WhisperProcessor.from_pretrained(tiny_hf)


@pytest.fixture(scope="module")
def jfk() -> np.ndarray:
    audio, sr = sf.read(JFK, dtype="float32")
    assert sr == 16000 and audio.ndim == 1
    return audio


def _features(processor, audio: np.ndarray) -> np.ndarray:
    return processor.feature_extractor(audio, sampling_rate=16000,
                                       return_tensors="np").input_features.astype(np.float32)


def _encoder_max_diff(src: Path, hf: Path, audio: np.ndarray) -> float:
    import ctranslate2
    from transformers import WhisperForConditionalGeneration, WhisperProcessor

    feats = _features(WhisperProcessor.from_pretrained(hf), audio)
    ref = ctranslate2.models.Whisper(str(src), device="cpu", compute_type="float32")
    expected = np.array(ref.encode(ctranslate2.StorageView.from_array(feats)))
    model = WhisperForConditionalGeneration.from_pretrained(hf).eval()
    with torch.inference_mode():
        got = model.model.encoder(torch.from_numpy(feats)).last_hidden_state.numpy()
    assert got.shape == expected.shape
    return float(np.abs(got - expected).max())


def test_read_ct2_model(tiny_src: Path):
    m = read_ct2_model(tiny_src / "model.bin")
    assert (m.spec_name, m.binary_version) == ("WhisperSpec", 6)
    assert m.scalar("encoder/num_heads") == 6 and m.scalar("decoder/num_heads") == 6
    assert m["encoder/conv1/weight"].shape == (384, 80, 3)
    assert m["decoder/embeddings/weight"].dtype == np.float16
    # The output projection is stored as an alias of the token embeddings.
    assert m.aliases["decoder/projection/weight"] == "decoder/embeddings/weight"
    assert m["decoder/projection/weight"] is m["decoder/embeddings/weight"]


def test_conversion_layout_and_record(tiny_hf: Path, tiny):
    model, processor = tiny
    record = json.loads((tiny_hf / "longspeech_conversion.json").read_text())
    assert record["source_sha256"] == "0" * 64
    assert record["converter_version"] == CONVERTER_VERSION and Path(record["source_dir"]).is_dir()
    assert not [p for p in tiny_hf.parent.iterdir() if p.name.startswith(".")]  # no temp left
    cfg, gen = model.config, model.generation_config
    assert (cfg.d_model, cfg.encoder_layers, cfg.encoder_attention_heads, cfg.vocab_size,
            cfg.num_mel_bins) == (384, 4, 6, 51864, 80)
    assert model.proj_out.weight.data_ptr() == model.model.decoder.embed_tokens.weight.data_ptr()
    assert gen.is_multilingual is False and gen.no_timestamps_token_id == 50362
    assert gen.decoder_start_token_id == 50257 and gen.eos_token_id == 50256
    assert len(gen.alignment_heads) == 8 and gen.begin_suppress_tokens == [220, 50256]
    tok = processor.tokenizer
    assert tok.all_special_ids[-1] == 50362  # transformers puts timestamps right after it
    assert tok.convert_tokens_to_ids(["<|0.00|>", "<|30.00|>"]) == [50363, 51863]
    assert tok.decode(tok(" hello world", add_special_tokens=False).input_ids) == " hello world"
    assert processor.feature_extractor.feature_size == 80


def test_encoder_matches_ctranslate2(tiny_src: Path, tiny_hf: Path, jfk: np.ndarray):
    assert _encoder_max_diff(tiny_src, tiny_hf, jfk) < ENCODER_ATOL["tiny.en"]


def test_greedy_text_matches_faster_whisper(tiny_src: Path, tiny, jfk: np.ndarray):
    from faster_whisper import WhisperModel

    model, processor = tiny
    feats = torch.from_numpy(_features(processor, jfk))
    with torch.inference_mode():
        ids = model.generate(feats, num_beams=1, do_sample=False)
    got = processor.batch_decode(ids, skip_special_tokens=True)[0]
    fw = WhisperModel(str(tiny_src), device="cpu", compute_type="float32", cpu_threads=2)
    segments, _ = fw.transcribe(jfk, beam_size=1, temperature=0.0, without_timestamps=True,
                                condition_on_previous_text=False)
    expected = " ".join(s.text for s in segments)
    assert _norm(got) == _norm(expected)
    assert "ask not what your country can do for you" in _norm(got)


def test_timestamps(tiny, jfk: np.ndarray):
    model, processor = tiny
    inputs = processor.feature_extractor(jfk, sampling_rate=16000, return_tensors="pt",
                                         return_attention_mask=True)
    feats, mask = inputs.input_features, inputs.attention_mask
    duration = len(jfk) / 16000
    with torch.inference_mode():
        out = model.generate(feats, attention_mask=mask, return_token_timestamps=True,
                             return_dict_in_generate=True)
        seg_ids = model.generate(feats, attention_mask=mask, return_timestamps=True)
    times = out["token_timestamps"][0].numpy()
    assert len(times) == out["sequences"].shape[1]
    assert np.all(np.diff(times) >= 0) and 8.0 < times[-1] <= duration + 0.5
    decoded = processor.tokenizer.decode(seg_ids[0].tolist(), output_offsets=True)
    offsets = decoded["offsets"]
    assert offsets and "ask not" in _norm(decoded["text"])
    starts = [o["timestamp"][0] for o in offsets]
    assert starts == sorted(starts) and all(s <= e for s, e in (o["timestamp"] for o in offsets))
    assert offsets[-1]["timestamp"][1] <= duration + 0.5


def test_reconvert_replaces_atomically(tiny_src: Path, tmp_path: Path):
    dst = tmp_path / "out"
    dst.mkdir()
    (dst / "stale.txt").write_text("old")
    assert convert_ct2_whisper(tiny_src, dst) == dst
    assert not (dst / "stale.txt").exists() and (dst / "model.safetensors").is_file()
    record = json.loads((dst / "longspeech_conversion.json").read_text())
    assert len(record["source_sha256"]) == 64  # hashed when not given
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_errors_say_what_to_do(tiny_src: Path, tmp_path: Path):
    with pytest.raises(ModelNotAvailableError, match="model.bin"):
        convert_ct2_whisper(tmp_path / "nowhere", tmp_path / "out")
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes((tiny_src / "model.bin").read_bytes()[:100_000])
    with pytest.raises(ModelIntegrityError, match="reinstall"):
        read_ct2_model(truncated)
    old = tmp_path / "old.bin"
    old.write_bytes(struct.pack("<I", 3) + b"\0" * 16)
    with pytest.raises(ModelConversionError, match="re-export"):
        read_ct2_model(old)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_base_multilingual(tmp_path: Path, jfk: np.ndarray):
    from transformers import WhisperForConditionalGeneration, WhisperProcessor

    src = ct2_dir("base")
    hf = convert_ct2_whisper(src, tmp_path / "whisper-base")
    assert _encoder_max_diff(src, hf, jfk) < ENCODER_ATOL["base"]
    model = WhisperForConditionalGeneration.from_pretrained(hf).eval()
    processor = WhisperProcessor.from_pretrained(hf)
    gen = model.generation_config
    assert (model.config.d_model, model.config.encoder_attention_heads) == (512, 8)
    assert gen.is_multilingual and len(gen.lang_to_id) == 99 and gen.lang_to_id["<|en|>"] == 50259
    assert gen.task_to_id == {"transcribe": 50359, "translate": 50358}
    feats = torch.from_numpy(_features(processor, jfk))
    with torch.inference_mode():
        ids = model.generate(feats, language="en", task="transcribe", return_timestamps=True)
    assert "ask not what your country can do for you" in _norm(
        processor.batch_decode(ids, skip_special_tokens=True)[0])


def test_round_trip_through_ctranslate2_is_bit_exact(tiny_src: Path, tiny_hf: Path,
                                                     tmp_path: Path):
    """CTranslate2's own converter, run on our output, rebuilds the original model.bin."""
    from ctranslate2.converters import TransformersConverter

    out = TransformersConverter(str(tiny_hf)).convert(str(tmp_path / "ct2"),
                                                      quantization="float16")
    original = read_ct2_model(tiny_src / "model.bin")
    rebuilt = read_ct2_model(Path(out) / "model.bin")
    assert rebuilt.aliases == original.aliases
    for name, value in original.items():
        assert np.array_equal(rebuilt[name], value), name
    rebuilt_config = json.loads((Path(out) / "config.json").read_text())
    original_config = json.loads((tiny_src / "config.json").read_text())
    for key in ("alignment_heads", "suppress_ids", "suppress_ids_begin"):
        assert rebuilt_config[key] == original_config[key]


def test_every_model_file_is_checked_and_a_damaged_cache_is_converted_again(tiny_src: Path,
                                                                             tmp_path: Path):
    import shutil
    from dataclasses import replace

    from longspeech.models.registry import EMBEDDED, _verify, cache_is_intact

    m = EMBEDDED["tiny.en"]
    copy = tmp_path / "ct2"
    shutil.copytree(tiny_src, copy)
    _verify(copy / "model.bin", replace(m, id="copy"))           # the real files pass
    with open(copy / "tokenizer.json", "a") as f:                 # not only model.bin counts
        f.write(" ")
    with pytest.raises(ModelIntegrityError, match="tokenizer.json"):
        _verify(copy / "model.bin", replace(m, id="copy"))

    hf = convert_ct2_whisper(tiny_src, tmp_path / "hf", source_sha256=m.sha256)
    assert cache_is_intact(hf, m.sha256)
    assert not cache_is_intact(hf, "0" * 64)                       # made from other weights
    cfg = hf / "config.json"
    cfg.write_text(cfg.read_text().replace('"d_model": 384', '"d_model": 385'))
    assert not cache_is_intact(hf, m.sha256)                       # edited after conversion
