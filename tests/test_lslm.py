"""Training the speech-language model's parts: CTC vocabulary and head, the projector with
dynamic compression, LoRA, checkpoints, and the shipped weights (package data)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from longspeech.compression import CompressionOptions, CTCDensityHead, DensityHeadConfig
from longspeech.compression.head import CONFIG_FILE, WEIGHTS_FILE
from longspeech.speechlm.training import facts, key_in_reply
from longspeech.speechlm.manifest import update_manifest
from longspeech.speechlm.training.ctc import batch_tensors, ctc_step, piece_embeddings
from longspeech.speechlm.training.data import SpeechDataOptions, Utterance, build_utterances
from longspeech.speechlm.training.lslm import (LoraOptions, lora_model, lslm_step,
                                                  save_lslm)
from longspeech.speechlm.training.vocab import ctc_text, encode, load_vocab, train_vocab
from longspeech.errors import ModelIntegrityError
from longspeech.speechlm.loading import load_speechlm, verify_files
from longspeech.speechlm.model import TRANSCRIBE, SpeechLM
from longspeech.speechlm import shipped_model_dir

SHIPPED = shipped_model_dir()


# -- vocabulary and facts ------------------------------------------------------------------

def test_ctc_text_keeps_spoken_words_only():
    assert ctc_text("Anna's bike, at Seven-Thirty!") == "anna's bike at seven thirty"


def test_vocab_is_deterministic_and_round_trips():
    texts = [f.sentence for f in facts(0, 200)]
    a, b = train_vocab(texts, 64), train_vocab(texts, 64)
    assert a == b
    sp = load_vocab(a)
    assert sp.GetPieceSize() == 64
    ids = encode(sp, "Anna works as a baker near the station.")
    assert sp.DecodeIds(ids) == "anna works as a baker near the station"


def test_facts_are_seeded_and_answers_are_in_the_sentence():
    first, again = facts(3, 30), facts(3, 30)
    assert first == again and len({f.sentence for f in first}) == 30
    for f in first:
        for qa in f.qas:
            assert key_in_reply(qa.key, f.sentence), (qa, f.sentence)
            assert key_in_reply(qa.key, qa.answer)


def test_key_matching_normalises_numbers_and_case():
    assert key_in_reply("nineteen eighty five", "She was born in 1985.")
    assert key_in_reply("seven thirty", "At 7:30.")
    assert key_in_reply("four hundred", "It costs $400.")
    assert key_in_reply("Anna", "anna did")
    assert not key_in_reply("seventeen", "It costs 1700 dollars.")
    assert not key_in_reply("Anna", "Hanna did")


# -- stage 1: the CTC density head ---------------------------------------------------------

def test_ctc_steps_reduce_loss_on_a_tiny_batch():
    torch.manual_seed(0)
    head = CTCDensityHead(DensityHeadConfig(d_enc=16, d_model=8, vocab_size=6))
    utts = [Utterance("x", "v", torch.randn(n, 16).numpy()) for n in (30, 24, 18)]
    targets = [[0, 1, 2, 3], [4, 5, 4], [2, 2, 1]]
    batch = batch_tensors(utts, targets)
    assert batch[0].shape == (3, 30, 16) and batch[1].tolist() == [30, 24, 18]
    assert batch[2].tolist() == [0, 1, 2, 3, 4, 5, 4, 2, 2, 1] and batch[3].tolist() == [4, 3, 3]
    params = list(head.parameters())
    optim = torch.optim.AdamW(params, lr=1e-2)
    losses = [ctc_step(head, optim, params, *batch) for _ in range(60)]
    assert losses[-1] < 0.3 * losses[0]


def test_piece_embeddings_average_the_llm_tokens(tiny_llm):
    sp = load_vocab(train_vocab([f.sentence for f in facts(1, 100)], 40))
    rows = piece_embeddings(sp, tiny_llm)
    emb = tiny_llm.model.get_input_embeddings().weight
    assert rows.shape == (40, emb.shape[1])
    i = next(k for k in range(40) if sp.IdToPiece(k).startswith("\u2581") and len(sp.IdToPiece(k)) > 2)
    ids = tiny_llm.tokenizer(sp.IdToPiece(i).replace("\u2581", " "),
                             add_special_tokens=False).input_ids
    assert torch.allclose(rows[i], emb[ids].mean(0))


# -- stage 2: projector (and LoRA) with compression ----------------------------------------

@pytest.fixture(scope="module")
def tiny_llm_dir(tmp_path_factory):
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from longspeech.llm import converted_dir

    tok = AutoTokenizer.from_pretrained(converted_dir("smollm2"))
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(
        vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=512,
        tie_word_embeddings=True, initializer_range=0.2, eos_token_id=tok.eos_token_id,
        pad_token_id=tok.eos_token_id))
    d = tmp_path_factory.mktemp("tiny-llm")
    model.save_pretrained(d)
    tok.save_pretrained(d)
    return d


@pytest.fixture(scope="module")
def tiny_llm(tiny_llm_dir):
    from longspeech.llm import load_llm

    return load_llm(str(tiny_llm_dir))


def make_slm(llm, lora: int = 0, seed: int = 0, layer_norm: nn.LayerNorm | None = None
             ) -> SpeechLM:
    torch.manual_seed(seed)
    head = CTCDensityHead(DensityHeadConfig(d_enc=384, d_model=32, vocab_size=12))
    lm = lora_model(llm.model, LoraOptions(r=lora)) if lora else None
    return SpeechLM(llm, layer_norm or nn.LayerNorm(384), nn.Linear(384, 32), head, lm=lm)


def states(seed: int, frames: tuple[int, ...] = (40, 33)) -> list[np.ndarray]:
    g = np.random.default_rng(seed)
    return [g.standard_normal((n, 384)).astype(np.float32) for n in frames]


def test_prompt_puts_speech_between_the_chat_text_and_labels_only_the_answer(tiny_llm):
    slm = make_slm(tiny_llm)
    p = slm.prompt(TRANSCRIBE)
    tok = tiny_llm.tokenizer
    assert tok.decode(list(p.prefix)).endswith("<|im_start|>user\n")
    assert tok.decode(list(p.suffix)) == (f"\n{TRANSCRIBE}<|im_end|>\n"
                                          "<|im_start|>assistant\n")
    speech = torch.randn(2, 7, 32)
    emb, mask, labels = slm.assemble(speech, torch.tensor([7, 5]), [TRANSCRIBE] * 2,
                                     ["Hello there.", "Hi."])
    start = len(p.prefix)
    assert torch.equal(emb[0, start:start + 7], speech[0])
    assert torch.equal(emb[1, start:start + 5], speech[1, :5])
    answer = tok("Hi.", add_special_tokens=False).input_ids + [tok.eos_token_id]
    row = labels[1][mask[1].bool()].tolist()
    assert row[-len(answer):] == answer and set(row[:-len(answer)]) == {-100}
    assert int(mask[1].sum()) == start + 5 + len(p.suffix) + len(answer)


def test_projector_steps_reduce_loss_with_compression_and_llm_stays_frozen(tiny_llm):
    slm = make_slm(tiny_llm)
    before = {k: v.clone() for k, v in slm.lm.state_dict().items()}
    params = [p for p in slm.parameters() if p.requires_grad]
    assert {id(p) for p in params} == {id(p) for p in slm.projector.parameters()}
    optim = torch.optim.AdamW(params, lr=1e-2)
    comp = CompressionOptions(method="fusion", schedule="pool")
    batch = (states(0), ["Transcribe the speech.", "Who sold it?"], ["Anna sold it.", "Anna."])
    losses = [lslm_step(slm, optim, params, *batch, 12, comp) for _ in range(40)]
    assert losses[-1] < 0.7 * losses[0], losses
    after = slm.lm.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_lora_steps_train_adapters_only(tiny_llm):
    slm = make_slm(tiny_llm, lora=4)
    names = {n for n, p in slm.named_parameters() if p.requires_grad}
    assert names and all("lora_" in n or n.startswith("projector.") for n in names)
    assert any("lora_" in n for n in names)
    base = tiny_llm.model.model.layers[0].self_attn.q_proj.weight.clone()
    params = [p for p in slm.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(params, lr=1e-2)
    comp = CompressionOptions(method="avgpool")
    losses = [lslm_step(slm, optim, params, states(1), ["Q?", "Q?"], ["Yes.", "No."], 25,
                        comp) for _ in range(40)]
    assert losses[-1] < 0.7 * losses[0], losses
    # the shared LLM (used by every other feature) is untouched
    assert torch.equal(tiny_llm.model.model.layers[0].self_attn.q_proj.weight, base)


@pytest.mark.parametrize("lora", [0, 4])
def test_checkpoint_round_trip_gives_the_same_loss(tiny_llm, tmp_path, lora):
    import copy

    from longspeech.encoders import EncoderOptions, WhisperStateEncoder

    # the encoder's own final LayerNorm: a saved model rebuilds it from the encoder
    encoder_ln = WhisperStateEncoder(EncoderOptions(pool=True, cache=False)).final_layer_norm
    slm = make_slm(tiny_llm, lora=lora, seed=1, layer_norm=copy.deepcopy(encoder_ln))
    params = [p for p in slm.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(params, lr=1e-2)
    comp = CompressionOptions(method="fusion", schedule="pool")
    batch = (states(2), ["Q one?", "Q two?"], ["One.", "Two."])
    for _ in range(3):
        lslm_step(slm, optim, params, *batch, 25, comp)
    slm.head.save(tmp_path)
    update_manifest(tmp_path, "ctc", {}, [WEIGHTS_FILE, CONFIG_FILE])
    shas = save_lslm(tmp_path, slm, {"note": "test"}, encoder_model="tiny.en", pool=True,
                     lora=LoraOptions(r=lora))
    assert set(shas) == ({"projector.safetensors", "lora.safetensors"} if lora
                         else {"projector.safetensors"})
    loaded = load_speechlm(tmp_path)
    slm.eval()
    with torch.no_grad():
        want = slm.loss(*batch, 25, comp)
        got = loaded.model.loss(*batch, 25, comp)
    assert torch.allclose(want, got, atol=1e-5)
    assert loaded.encoder.options.pool and loaded.encoder.dim == 384
    # a changed weight file is refused
    (tmp_path / "projector.safetensors").write_bytes(
        (tmp_path / "projector.safetensors").read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(ModelIntegrityError, match="sha256"):
        load_speechlm(tmp_path)


# -- training data -------------------------------------------------------------------------

def test_packed_clips_are_cut_where_each_sentence_is():
    """A sentence's states cut from a packed clip match the same sentence encoded alone
    better than any other sentence does (the cut is in the right place)."""
    opts = SpeechDataOptions(sentences=3, facts=1, seed=5, voices=("flite:slt",), cache=False)
    packed = build_utterances(opts)
    alone = build_utterances(SpeechDataOptions(sentences=3, facts=1, seed=5,
                                               voices=("flite:slt",), packed=False, cache=False))
    assert [u.text for u in packed] == [u.text for u in alone]
    assert sum(bool(u.qas) for u in packed) == 1

    def profile(u: Utterance) -> np.ndarray:
        x = torch.nn.functional.adaptive_avg_pool1d(torch.from_numpy(u.states).T[None], 16)
        return x[0].T.reshape(-1).numpy()

    for i, p in enumerate(packed):
        assert abs(p.frames - alone[i].frames) <= 2
        sims = [float(np.corrcoef(profile(p), profile(a))[0, 1]) for a in alone]
        assert int(np.argmax(sims)) == i, sims

    # runs of sentences: the same clips, cut from the first sentence to the last
    both = build_utterances(SpeechDataOptions(sentences=3, facts=1, seed=5,
                                              voices=("flite:slt",), spans=(1, 4), cache=False))
    assert [u.text for u in both[:4]] == [u.text for u in packed]
    run = both[4:]
    assert len(run) == 1 and run[0].text == " ".join(u.text for u in packed)
    assert run[0].qas == tuple(q for u in packed for q in u.qas)
    assert np.array_equal(run[0].states[:5], packed[0].states[:5])
    assert run[0].frames > sum(u.frames for u in packed)     # the pauses are in it too


# -- the shipped weights -------------------------------------------------------------------

def test_shipped_weights_match_their_manifest():
    manifest = json.loads((SHIPPED / "lslm.json").read_text())
    verify_files(SHIPPED, manifest)
    assert set(manifest["files"]) >= {"density_head.safetensors", "density_head.json",
                                      "ctc_vocab.model", "projector.safetensors"}
    from safetensors.torch import load_file

    from longspeech.llm import EMBEDDED_LLMS

    cfg = json.loads((SHIPPED / "density_head.json").read_text())
    sp = load_vocab(SHIPPED)
    assert cfg["vocab_size"] == sp.GetPieceSize()
    assert (cfg["d_enc"], cfg["d_model"]) == (384, 576)
    proj = load_file(str(SHIPPED / "projector.safetensors"))
    assert proj["weight"].shape == (576, 384) and proj["bias"].shape == (576,)
    info = manifest["lslm"]
    assert info["encoder_model"] == "tiny.en" and info["pool"] is True
    assert info["llm"] == "smollm2" and info["llm_sha256"] == EMBEDDED_LLMS["smollm2"].sha256
    head = manifest["ctc"]
    assert head["metrics"]["ctc_greedy_wer"] < 0.5
    size = sum((SHIPPED / f).stat().st_size for f in manifest["files"])
    assert size < 8 * 2**20


def test_shipped_manifest_is_pinned_in_code(monkeypatch):
    """The shipped manifest vouches for every weight file; its own hash is fixed in code."""
    import longspeech.speechlm.loading as loading
    from longspeech.hashing import sha256_file
    from longspeech.speechlm.shipped import SHIPPED_MANIFEST_SHA256

    assert sha256_file(SHIPPED / "lslm.json") == SHIPPED_MANIFEST_SHA256
    monkeypatch.setattr(loading, "SHIPPED_MANIFEST_SHA256", "0" * 64)
    with pytest.raises(ModelIntegrityError, match="corrupt or altered"):
        loading.load_speechlm(SHIPPED)
