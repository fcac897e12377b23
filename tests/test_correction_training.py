"""The corrector's own training data (TTS -> ASR -> labelled pairs) and its LoRA adapter:
labels, resumable dataset and training, and adapters that are checked before use."""

from __future__ import annotations

import json

import pytest

from longspeech.correction.error_pairs import error_pairs, written_reference
from longspeech.errors import ModelIntegrityError, ModelNotAvailableError


def test_errors_are_labelled_as_the_asr_made_them():
    got = [(p.original, p.corrected, p.error) for p in error_pairs(
        "the meeting is on november thirtieth at ate then we we left",
        "The meeting is on November 30th at eight, then we left. Bye.")]
    assert got == [("the", "The", "casing"), ("november", "November", "casing"),
                   ("thirtieth", "30th", "itn"), ("ate", "eight,", "substitution"),
                   ("we we", "we", "insertion"), ("left", "left. Bye.", "deletion")]
    assert [(p.original, p.error) for p in error_pairs("uh hello there.", "Hello there.")] \
        == [("uh hello", "insertion")]       # a filler is an extra word, not a number
    assert error_pairs("we met.", "We met.")[0].as_pair() == {
        "original": "we", "corrected": "We", "type": "punctuation"}
    # the synthesiser speaks numbers as words; the target keeps Whisper's digits
    assert written_reference("about 11% of 21 boats,", "About eleven percent of twenty one "
                             "boats.") == "About 11% of 21 boats."


def _rows():
    said = [("we moved forty crates to the harbour", "we moved 40 crates to the harbor"),
            ("Anna bought the blue bicycle.", "and a bought the blue bicycle"),
            ("See you on Monday.", "See you on Monday.")]
    return [{"id": f"u{i}", "model": "tiny.en", "reference": r, "hypothesis": h,
             "errors": [p.__dict__ for p in error_pairs(h, r)]}
            for i, (r, h) in enumerate(said)]


def test_items_come_in_the_papers_formats_with_the_correctors_prompts():
    from longspeech.correction import prompts
    from longspeech.correction.training.items import training_items

    items = list(training_items(_rows(), full_text=3))
    assert {(i["context"], i["format"]) for i in items} == {
        ("segment", "text"), ("segment", "pairs"), ("full", "text"), ("full", "pairs")}
    second = [i for i in items if i["id"] == "u1"]
    text = next(i for i in second if i["format"] == "text" and i["context"] == "segment")
    assert text["target"] == "Anna bought the blue bicycle."
    assert text["messages"][0] == {"role": "system", "content": prompts.SYSTEM["text"]}
    assert text["messages"][-1]["content"] == prompts.segment_turn(
        "and a bought the blue bicycle")
    pairs = next(i for i in second if i["format"] == "pairs" and i["context"] == "full")
    assert json.loads(pairs["target"])[0] == {"original": "and a", "corrected": "Anna",
                                              "type": "spelling"}
    # full text: the whole text first, the turn before with its corrected answer
    assert "we moved 40 crates" in pairs["messages"][1]["content"]
    assert pairs["messages"][3]["content"] == prompts.segment_turn(
        "we moved 40 crates to the harbor")
    assert json.loads(pairs["messages"][4]["content"]) == [     # digits kept, words fixed
        {"original": "harbor", "corrected": "harbour", "type": "spelling"}]
    # what Whisper got right is kept, so that the corrector learns to leave it
    assert {i["target"] for i in items if i["id"] == "u2"} == {"See you on Monday.", "[]"}


def test_the_dataset_resumes_after_a_kill_and_equals_a_fresh_one(tmp_path):
    from longspeech.correction.training.data import (ITEMS, UTTERANCES, CorrectionDataOptions,
                                                     build)

    texts = ("Thomas said the table costs ten dollars.", "The train leaves at noon.",
             "Please send the report to Maria.")
    opts = lambda d: CorrectionDataOptions(out_dir=str(d), texts=texts,  # noqa: E731
                                           models=("tiny.en",), snrs=(None, 10.0),
                                           per_utterance=(1, 1))
    fresh = build(opts(tmp_path / "a"))
    rows = (tmp_path / "a" / UTTERANCES).read_text().splitlines()
    assert len(rows) == 3
    first = json.loads(rows[0])
    assert first["reference"] == texts[0] and first["model"] == "tiny.en"
    # a kill -9 after the first utterance, halfway through writing the second
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / UTTERANCES).write_text(rows[0] + "\n" + rows[1][:40])
    (tmp_path / "b" / "data_options.json").write_text(
        (tmp_path / "a" / "data_options.json").read_text())
    resumed = build(opts(tmp_path / "b"))
    assert resumed.read_text() == fresh.read_text()
    assert (tmp_path / "b" / UTTERANCES).read_text() == (tmp_path / "a" / UTTERANCES).read_text()
    assert resumed.name == ITEMS
    with pytest.raises(Exception, match="other options"):
        build(CorrectionDataOptions(out_dir=str(tmp_path / "a"), texts=texts[:1],
                                    models=("tiny.en",)))


@pytest.fixture(scope="module")
def tiny_chat_llm(tmp_path_factory):
    """A random two-layer Llama with SmolLM2's tokenizer and chat template: the real training
    and loading code at a size that trains in a second."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from longspeech.llm import converted_dir

    d = tmp_path_factory.mktemp("tiny_llm")
    tok = AutoTokenizer.from_pretrained(converted_dir("smollm2"))
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(
        vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, eos_token_id=tok.eos_token_id,
        bos_token_id=tok.bos_token_id))
    model.save_pretrained(d)
    tok.save_pretrained(d)
    return str(d)


def _dataset(d):
    from longspeech.correction.training.data import ITEMS
    from longspeech.correction.training.items import training_items

    d.mkdir()
    (d / ITEMS).write_text("".join(json.dumps(i) + "\n" for i in training_items(_rows(), 3)))
    return d


def test_training_resumes_from_its_checkpoint_to_the_same_adapter(tiny_chat_llm, tmp_path):
    from safetensors.torch import load_file

    from longspeech.correction.training.lora import CorrectionTrainOptions, train_correction

    data = _dataset(tmp_path / "data")
    opts = lambda out: CorrectionTrainOptions(  # noqa: E731
        data_dir=str(data), out_dir=str(out), llm=tiny_chat_llm, steps=4, batch_size=2,
        checkpoint_every=2, log_every=1, lr=1e-2)
    whole = train_correction(opts(tmp_path / "whole"))
    assert whole["steps"] == 4 and whole["base"] == tiny_chat_llm

    class Killed(Exception):
        pass

    def kill_at_3(step, steps, loss):
        if step == 3:
            raise Killed
    with pytest.raises(Killed):
        train_correction(opts(tmp_path / "broken"), kill_at_3)
    assert (tmp_path / "broken" / "checkpoint" / "state.json").is_file()
    train_correction(opts(tmp_path / "broken"))
    a = load_file(str(tmp_path / "whole" / "adapter_model.safetensors"))
    b = load_file(str(tmp_path / "broken" / "adapter_model.safetensors"))
    assert a.keys() == b.keys() and all(bool((a[k] == b[k]).all()) for k in a)
    assert not (tmp_path / "broken" / "checkpoint").exists()


def test_an_adapter_is_merged_into_a_copy_and_checked_before_use(tiny_chat_llm, tmp_path):
    import torch

    from longspeech.correction.training.lora import CorrectionTrainOptions, train_correction
    from longspeech.llm import load_llm
    from longspeech.llm.adapters import MANIFEST, load_with_adapter

    out = tmp_path / "adapter"
    train_correction(CorrectionTrainOptions(
        data_dir=str(_dataset(tmp_path / "data")), out_dir=str(out), llm=tiny_chat_llm,
        steps=2, batch_size=2, lr=5e-2))
    base = load_llm(tiny_chat_llm)
    before = {k: v.clone() for k, v in base.model.state_dict().items()}
    tuned = load_with_adapter(tiny_chat_llm, str(out))
    name = "model.layers.0.self_attn.q_proj.weight"
    assert not torch.equal(tuned.model.state_dict()[name], before[name])
    assert all(torch.equal(v, before[k]) for k, v in base.model.state_dict().items())
    with pytest.raises(ModelNotAvailableError, match="trained on LLM"):
        load_with_adapter.__wrapped__("smollm2", str(out))
    blob = out / "adapter_model.safetensors"
    blob.write_bytes(blob.read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(ModelIntegrityError, match="damaged or altered"):
        load_with_adapter.__wrapped__(tiny_chat_llm, str(out))
    (out / MANIFEST).unlink()
    with pytest.raises(ModelNotAvailableError, match="not a longspeech adapter"):
        load_with_adapter.__wrapped__(tiny_chat_llm, str(out))
