"""GFD: byte-prefix LLM probabilities checked against brute force, and fused decoding on speech."""

from __future__ import annotations

import io
import math

import pytest
import torch

from longspeech.asr import AsrOptions
from longspeech.asr.gfd_engine import GfdEngine, llm_prompt
from longspeech.fusion import (FusionOptions, LlmVocab, PrefixScorer, WhisperAsr,
                               fused_beam_search, plain_beam_search)
from longspeech.fusion.bytes import BYTE_LEVEL, SENTENCEPIECE, ByteTrie
from longspeech.fusion.prefix import combine_terms
from longspeech.fusion.tree import TreeCache
from longspeech.llm import LoadedLLM

from .speech import JFK, JFK_TEXT, espeak

CORPUS = ["The quick brown fox jumps over the lazy dog.", "Kubernetes clusters run in the cloud.",
          "Café crème brûlée, naïve résumé, smörgåsbord.", "ask not what your country can do",
          "日本語のテキスト"] * 20
TEMP, PENALTY, WINDOW = 1.7, 2.0, 4


def _tiny_llama(vocab_size: int, bos: int, seed: int):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=vocab_size, hidden_size=32, intermediate_size=64,
                      num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                      max_position_embeddings=1024, bos_token_id=bos)
    model = LlamaForCausalLM(cfg).eval()
    with torch.no_grad():
        model.lm_head.weight.mul_(15)   # peaky distributions: differences show up clearly
    return model


@pytest.fixture(scope="module")
def bpe_llm() -> LoadedLLM:
    """Byte-level BPE (GPT-2 style) trained here, with a random-weight Llama."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bt = ByteLevelBPETokenizer()
    bt.train_from_iterator(CORPUS, vocab_size=320, min_frequency=2, special_tokens=["<s>"],
                           show_progress=False)
    tok = PreTrainedTokenizerFast(tokenizer_object=bt._tokenizer, bos_token="<s>")
    return LoadedLLM(_tiny_llama(len(tok), tok.bos_token_id, 0), tok, "tiny-bpe", None, "",
                     tok.bos_token_id)


@pytest.fixture(scope="module")
def sp_llm(tmp_path_factory) -> LoadedLLM:
    """SentencePiece BPE with byte fallback trained here, with a random-weight Llama."""
    import sentencepiece as spm
    from transformers import LlamaTokenizer

    d = tmp_path_factory.mktemp("sp")
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(CORPUS), model_writer=buf,
                                   vocab_size=360, model_type="bpe", byte_fallback=True,
                                   character_coverage=1.0, unk_id=0, bos_id=1, eos_id=2,
                                   pad_id=-1, minloglevel=2)
    (d / "tokenizer.model").write_bytes(buf.getvalue())
    tok = LlamaTokenizer.from_pretrained(d)
    return LoadedLLM(_tiny_llama(len(tok), tok.bos_token_id, 1), tok, "tiny-sp", None, "",
                     tok.bos_token_id)


# -- brute force -------------------------------------------------------------------------
def _dists(llm: LoadedLLM, seq: list[int], n_prompt: int, penalize_prompt: bool,
           penalty: float = PENALTY):
    """Next-token log-probs at every position of seq: one plain forward, no cache, no tree."""
    from transformers import RepetitionPenaltyLogitsProcessor

    with torch.no_grad():
        logits = llm.model(torch.tensor([seq])).logits[0].float()
    proc = RepetitionPenaltyLogitsProcessor(penalty)
    out = []
    for i in range(len(seq)):
        lo = max(0 if penalize_prompt else n_prompt, i + 1 - WINDOW)
        ctx = seq[lo:i + 1]
        row = logits[i:i + 1]
        if ctx:
            row = proc(torch.tensor([ctx]), row.clone())
        out.append(torch.log_softmax(row[0] / TEMP, dim=-1))
    return out


def _seq_logprob(llm, prompt, toks, penalize_prompt, penalty=PENALTY):
    d = _dists(llm, prompt + toks, len(prompt), penalize_prompt, penalty)
    return sum(float(d[len(prompt) - 1 + j][t]) for j, t in enumerate(toks))


def brute_formula(llm, vocab, prompt, data, penalize_prompt=False):
    """The spec's sum, term by term: canonical tokens t_1..t_k, then ANY vocabulary token
    whose bytes strictly extend the rest (found by scanning the whole vocabulary), plus the
    full canonical tokenisation."""
    toks = vocab.tokenize_from_byte(data)
    terms = []
    for k in range(len(toks)):
        rest = vocab.bytes_of(toks[k:])
        d = _dists(llm, prompt + toks[:k], len(prompt), penalize_prompt)[-1]
        alts = [float(d[v]) for v, b in enumerate(vocab.token_bytes)
                if b and len(b) > len(rest) and b.startswith(rest)]
        if alts:
            terms.append(_seq_logprob(llm, prompt, toks[:k], penalize_prompt)
                         + float(torch.logsumexp(torch.tensor(alts, dtype=torch.float64), 0)))
    terms.append(_seq_logprob(llm, prompt, toks, penalize_prompt))
    return float(torch.logsumexp(torch.tensor(terms, dtype=torch.float64), 0)), len(terms)


def brute_all_tokenisations(llm, vocab, prompt, data):
    """log P(data is a prefix) summed over EVERY token sequence that spells it (no penalty)."""
    events = []

    def walk(toks: list[int], done: int) -> None:
        rest = data[done:]
        for v, b in enumerate(vocab.token_bytes):
            if not b:
                continue
            if len(b) < len(rest) and rest.startswith(b):
                walk(toks + [v], done + len(b))
            elif b.startswith(rest):          # spells the rest exactly, or ends inside v
                events.append(_seq_logprob(llm, prompt, toks + [v], False, penalty=1.0))

    walk([], 0)
    return float(torch.logsumexp(torch.tensor(events, dtype=torch.float64), 0))


def _scorer(llm, **kw):
    return PrefixScorer(llm, temperature=TEMP, repetition_penalty=PENALTY, penalty_window=WINDOW,
                        **kw)


CONTENTS = [b" lazy dog", " Café".encode(), " café".encode()[:-1], " résumé".encode(),
            b" the cloud", b"x", " 日本".encode(), " 日本".encode()[:-2]]


# -- tokenisation and the trie --------------------------------------------------------------
@pytest.mark.parametrize("which", ["bpe", "sp"])
def test_tokenize_from_byte_spells_exact_bytes(which, bpe_llm, sp_llm):
    llm = bpe_llm if which == "bpe" else sp_llm
    vocab = LlmVocab.from_tokenizer(llm.tokenizer)
    assert vocab.family == (BYTE_LEVEL if which == "bpe" else SENTENCEPIECE)
    for s in [" And so", "And so", "  two  spaces", " Café brûlée", " 日本語", "x"]:
        data = s.encode()
        ids = vocab.tokenize_from_byte(data)
        assert vocab.bytes_of(ids) == data, (s, llm.tokenizer.convert_ids_to_tokens(ids))
    # A multi-byte character cut after its first byte: text tokens, then one byte token.
    cut = " naï".encode()[:-1]
    ids = vocab.tokenize_from_byte(cut)
    assert vocab.bytes_of(ids) == cut and vocab.token_bytes[ids[-1]] == b"\xc3"
    # ...and the tokens that complete it are among the strict extensions of that byte.
    ext = set(vocab.trie.extensions(b"\xc3").tolist())
    assert ext and all(vocab.token_bytes[i].startswith(b"\xc3") and len(vocab.token_bytes[i]) > 1
                       for i in ext)


def test_sentencepiece_pieces_map_to_bytes(sp_llm):
    vocab = LlmVocab.from_tokenizer(sp_llm.tokenizer)
    tok = sp_llm.tokenizer
    assert vocab.token_bytes[tok.convert_tokens_to_ids("<0xE6>")] == b"\xe6"
    assert vocab.token_bytes[tok.convert_tokens_to_ids("\u2581the")] == b" the"
    assert vocab.token_bytes[tok.bos_token_id] is None
    # The dummy prefix SentencePiece adds in front of text is not part of the bytes.
    assert vocab.bytes_of(vocab.tokenize_from_byte(b"And")) == b"And"


def test_trie_strict_extensions_match_a_scan():
    tb = [b"a", b"ab", b"abc", b"abd", b"b", None, b"ab", b"\xff", b"\xff\x01", b"ac"]
    trie = ByteTrie(tb)

    def scan(p):
        return sorted(i for i, b in enumerate(tb) if b and len(b) > len(p) and b.startswith(p))

    for p in [b"a", b"ab", b"abc", b"b", b"\xff", b"", b"z", b"ac"]:
        assert sorted(trie.extensions(p).tolist()) == scan(p), p
    assert sorted(trie.extensions(b"ab").tolist()) == [2, 3]   # "ab" itself is not strict


def test_whisper_tokens_as_bytes():
    asr = WhisperAsr.load("tiny.en")
    tok = asr.processor.tokenizer
    for text in [" Café naïve résumé", " 日本", " And so my fellow Americans"]:
        ids = tok.encode(text, add_special_tokens=False)
        assert b"".join(asr.token_bytes[i] for i in ids) == text.encode()
    assert asr.token_bytes[asr.eot] == b"" and asr.token_bytes[asr.tokenizer.sot] == b""


# -- the byte-prefix probability ------------------------------------------------------------
@pytest.mark.parametrize("which", ["bpe", "sp"])
@pytest.mark.parametrize("prompt", ["", "The lazy"])
def test_prefix_logprob_equals_brute_force(which, prompt, bpe_llm, sp_llm):
    llm = bpe_llm if which == "bpe" else sp_llm
    scorer = _scorer(llm)
    scorer.reset(prompt)
    ids = scorer.prompt_ids(prompt)
    assert (len(ids) == 1) == (prompt == "")     # "" exercises the one-token prompt
    for data in CONTENTS:
        got = scorer.score([data])[0]
        want, n_terms = brute_formula(llm, scorer.vocab, ids, data)
        assert got.logprob == pytest.approx(want, abs=1e-4), data
        assert len(got.terms) == n_terms
        assert got.n_tokens == len(scorer.vocab.tokenize_from_byte(data))


def test_penalty_over_prompt_when_asked(bpe_llm):
    scorer = _scorer(bpe_llm, penalize_prompt=True)
    scorer.reset("the lazy dog")
    ids = scorer.prompt_ids("the lazy dog")
    for s in [" lazy dog", " the"]:
        want, _ = brute_formula(bpe_llm, scorer.vocab, ids, s.encode(), penalize_prompt=True)
        assert scorer.score([s.encode()])[0].logprob == pytest.approx(want, abs=1e-4)


@pytest.mark.parametrize("which", ["bpe", "sp"])
def test_formula_against_every_tokenisation(which, bpe_llm, sp_llm):
    """A byte with one spelling: the formula's events are all the ways to write it, so the
    sums are equal ("c" in byte-level BPE; in SentencePiece a byte that has no piece of its
    own, since "c" is also spelled by the fallback piece <0x63>). Longer strings: the formula
    leaves out non-canonical splits, so it is a lower bound of the full sum."""
    llm = bpe_llm if which == "bpe" else sp_llm
    scorer = PrefixScorer(llm, temperature=TEMP, repetition_penalty=1.0)
    scorer.reset("")
    ids = scorer.prompt_ids("")
    byte = b"c" if which == "bpe" else b"Z"
    assert sum(b == byte for b in scorer.vocab.token_bytes) == 1
    one = scorer.score([byte])[0].logprob
    assert one == pytest.approx(brute_all_tokenisations(llm, scorer.vocab, ids, byte), abs=1e-4)
    for data in [b" caf", " é".encode()[:-1]]:
        got = scorer.score([data])[0].logprob
        full = brute_all_tokenisations(llm, scorer.vocab, ids, data)
        assert full - 2.0 < got <= full + 1e-6


def test_batched_growing_hypotheses_match_fresh_scoring(bpe_llm):
    """Beams grow a few bytes per step and share prefixes; scoring them together through the
    cached token tree gives what scoring each alone, from scratch, gives."""
    scorer = _scorer(bpe_llm)
    scorer.reset("The lazy")
    a, b = " the quick brown fox", " the quiet cloud"
    for n in range(1, len(b) + 1):
        batch = [a[:n].encode(), b[:n].encode(), (a[:n] + "é").encode()[:-1]]
        got = scorer.score(batch)
        for data, g in zip(batch, got):
            fresh = _scorer(bpe_llm)
            fresh.reset("The lazy")
            assert g.logprob == pytest.approx(fresh.score([data])[0].logprob, abs=1e-4)
    assert scorer.tree.forwards <= len(b) + 1      # one model call per step


def test_next_prompt_reuses_the_cached_prefix(bpe_llm):
    scorer = _scorer(bpe_llm, prompt_block=2)
    scorer.reset("The lazy dog")
    scorer.score([b" jumps over", b" runs"])
    scorer.reset("The lazy dog jumps over the")      # the next chunk: the transcript grew
    shared = len(scorer.prompt_ids("The lazy dog"))
    assert scorer.tree.reused_tokens == shared - shared % 2 > 0      # whole blocks of 2
    fresh = _scorer(bpe_llm)
    fresh.reset("The lazy dog jumps over the")
    for data in [b" quick brown", " café".encode()[:-1]]:
        assert scorer.score([data])[0].logprob == pytest.approx(
            fresh.score([data])[0].logprob, abs=1e-4)
    scorer.reset("The lazy dog jumps over the")      # the same prompt: nothing computed
    assert scorer.tree.forwards == 0 and scorer.tree.computed_tokens == 0
    for data in [b" quick brown", b" lazy cat"]:
        assert scorer.score([data])[0].logprob == pytest.approx(
            fresh.score([data])[0].logprob, abs=1e-4)


def test_scores_do_not_depend_on_the_prompts_read_before():
    """A chunk's scores are a function of its prompt alone: read fresh, after a prompt it
    extends (the previous chunk's) or after an unrelated one (another recording's), SmolLM2's
    int8 scores are the same to the bit. Reusing the cache at any token instead of at block
    boundaries moved such scores by tenths of a nat."""
    from longspeech.llm import load_llm

    llm = load_llm("smollm2")
    before = ("Glossary: Kubernetes, PostgreSQL, Siobhan. Siobhan opened the meeting and asked "
              "whether the staging cluster was ready")
    prompt = before + " for the database migration before the release on Friday."
    hyps = [b" We deployed the service on Kubernetes last week.",
            b" The customer data is stored in PostgreSQL."]
    scorer = PrefixScorer(llm, int8_steps=True, prompt_block=8)
    scorer.reset(prompt)
    want = [s.logprob for s in scorer.score(hyps)]
    for earlier in (before, "Something else entirely."):
        scorer.reset(earlier)
        scorer.score(hyps)
        scorer.reset(prompt)
        assert [s.logprob for s in scorer.score(hyps)] == want
    assert scorer.tree.reused_tokens == 0          # the unrelated prompt shares no block


def test_tree_logits_equal_full_forward(bpe_llm):
    model = bpe_llm.model

    def step(ids, pos, mask, cache):
        out = model(input_ids=ids, position_ids=pos, attention_mask=mask, past_key_values=cache,
                    use_cache=True)
        return out.logits[0], out.past_key_values

    prompt = [bpe_llm.doc_start_id, 5, 9]
    tree = TreeCache(step, prompt)
    paths = [[3, 4, 5], [3, 7], [8, 8, 8, 8], [3, 4, 6]]
    nodes = [tree.path(p)[-1] for p in paths]
    first = tree.compute(nodes[:2])
    second = tree.compute(nodes[2:] + [nodes[0]])   # nodes[0] again: a duplicate entry
    for p, node in zip(paths, nodes):
        with torch.no_grad():
            ref = model(torch.tensor([prompt + p])).logits[0, -1]
        got = second.get(id(node), first.get(id(node)))
        assert torch.allclose(got, ref, atol=1e-4)


def test_length_normaliser_by_hand():
    # best term last (full tokenisation) or second to last: n_adj = n
    assert combine_terms([-3.0, -2.0, -1.0], 5) == (pytest.approx(
        math.log(math.exp(-3) + math.exp(-2) + math.exp(-1))), 5)
    assert combine_terms([-3.0, -1.0, -2.0], 5)[1] == 5
    # best term two places earlier: one token fewer explains the bytes
    assert combine_terms([-1.0, -5.0, -6.0], 5)[1] == 4
    assert combine_terms([0.0], 0) == (0.0, 0)


def test_llm_prompt_tail():
    assert llm_prompt("Terms: etcd.", "", 4000) == "Terms: etcd."
    assert llm_prompt("Terms.", "one two", 4000) == "Terms. one two"
    # 18 characters, at most 8 kept: the cut (10) rounds up to a multiple of 2, then moves
    # on to the next word start.
    assert llm_prompt("", "one two three four", 8) == "four"
    text = "alpha beta gamma delta epsilon zeta eta theta iota kappa"
    tails = [llm_prompt("", text[:n], 20) for n in range(20, len(text) + 1)]
    assert all(len(t) <= 20 for t in tails)
    # the start moves in steps, so most consecutive prompts extend the previous one
    assert sum(b.startswith(a) for a, b in zip(tails, tails[1:])) >= len(tails) * 0.6


# -- fused decoding on speech ---------------------------------------------------------------
@pytest.fixture(scope="module")
def asr() -> WhisperAsr:
    return WhisperAsr.load("tiny.en")


def _gfd(asr: WhisperAsr, llm: LoadedLLM | None = None, **fusion) -> GfdEngine:
    """The gfd engine over an already loaded Whisper (and LLM)."""
    return GfdEngine(AsrOptions(engine="gfd", fusion=FusionOptions(**fusion)), asr=asr, llm=llm)


def test_r0_is_plain_beam_search_and_matches_transformers(asr, bpe_llm):
    from transformers.modeling_outputs import BaseModelOutput

    from longspeech.audio import load
    from longspeech.eval import normalize

    enc = asr.encode([load(JFK)])
    prefix = asr.prefix()
    plain = plain_beam_search(asr, enc, prefix)
    scorer = PrefixScorer(bpe_llm)
    scorer.reset("The following is a transcription of a spoken sentence:")
    fused = fused_beam_search(asr, enc, prefix, scorer, FusionOptions(weight=0.0))
    assert fused.tokens == plain.tokens
    # the LLM scored in one call per step where its scores could change the survivors
    assert 1 <= fused.llm_calls <= fused.steps + 1
    assert normalize(plain.text) == normalize(JFK_TEXT)
    with torch.inference_mode():
        ref = asr.model.generate(encoder_outputs=BaseModelOutput(last_hidden_state=enc),
                                 num_beams=5, do_sample=False, return_timestamps=False)
    assert asr.text(ref[0].tolist()).strip() == plain.text.strip()


@pytest.mark.slow
def test_prompt_naming_the_term_fixes_it(tmp_path, asr):
    """tiny.en hears espeak's "Kubernetes" as "Cubernetes"; SmolLM2 told the term fixes it."""
    from longspeech.audio import load

    wav = espeak("We deployed the service on Kubernetes last week.", tmp_path / "k8s.wav")
    x = load(wav)
    plain = _gfd(asr, weight=0.0).decode(x).text
    gfd = _gfd(asr, weight=0.2)
    assert "Cubernetes" in plain
    assert "Cubernetes" in gfd.decode(x, prompt="").text
    fixed = gfd.decode(x, prompt="Glossary: Kubernetes.").text
    assert fixed.strip() == "We deployed the service on Kubernetes last week."


def test_long_form_words_times_and_context(tmp_path, asr, bpe_llm):
    """Two chunks: the second is decoded with the first one's text as the LLM's context."""
    import numpy as np
    import soundfile as sf

    from longspeech.audio import load
    from longspeech.eval import normalize
    from longspeech.pipelines.transcribe import TranscribeOptions, transcribe_file

    x = load(JFK)
    gap = 20.0                                   # too far apart to share a 30 s chunk
    sf.write(tmp_path / "twice.wav", np.concatenate([x, np.zeros(int(16000 * gap), np.float32), x]),
             16000)
    t = _gfd(asr, bpe_llm, weight=0.2, prompt="A speech.")
    # One chunk per batch: the second chunk's context crosses from the first batch.
    opts = TranscribeOptions(asr=AsrOptions(engine="gfd", batch_size=1), min_gap=None)
    segs = transcribe_file(tmp_path / "twice.wav", t, opts).segments
    first = " ".join(s.text for s in segs if s.chunk_index == 0)
    assert normalize(first) == normalize(JFK_TEXT)
    assert {s.chunk_index for s in segs} == {0, 1}
    # What the LLM read before the second chunk: the prompt, then the first chunk's text.
    seen = bpe_llm.tokenizer.decode(t.scorer.tree.prompt[1:])
    assert seen == "A speech. " + first
    words = [w for s in segs for w in s.words]
    assert [w.start for w in words] == sorted(w.start for w in words)
    second = len(x) / 16000 + gap
    assert all(w.start >= second - 0.5 for s in segs if s.chunk_index == 1 for w in s.words)
    assert all(w.end <= second for s in segs if s.chunk_index == 0 for w in s.words)


def test_gfd_engine_decodes_the_language_it_is_given(tmp_path):
    """GFD is an engine like the others: --language reaches it (Spanish speech, the
    multilingual base model), and the transcript records the language and the engine."""
    import json
    import subprocess
    import sys

    from longspeech.eval import word_error_rate

    text = "El tren sale de la estación a las ocho de la mañana."
    wav = espeak(text, tmp_path / "es.wav", voice="es", rate=140)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "longspeech.cli", "transcribe", str(wav),
                           "-o", str(out), "-f", "json", "--fusion", "gfd", "--model", "base",
                           "--language", "es", "--runner", "local"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((out / "es.json").read_text())
    assert data["language"] == "es"
    assert data["provenance"]["asr"]["engine"] == "gfd"
    assert data["provenance"]["options"]["asr"]["fusion"]["weight"] == 0.2
    hyp = " ".join(s["text"] for s in data["segments"])
    assert word_error_rate(text, hyp, english=False) < 0.35, hyp
    assert "estación" in hyp and "mañana" in hyp


def test_int8_steps_score_hypotheses_as_float32_does():
    """The int8 copy reads only the steps after a float32 prompt and keeps outlier channels in
    float: per-token scores of SmolLM2 move by hundredths of a nat and the ranking holds."""
    from longspeech.llm import load_llm

    llm = load_llm("smollm2")
    prompt = ("Glossary of names and terms in this meeting: Kubernetes, PostgreSQL, Siobhan. "
              "Siobhan opened the meeting and asked about the database migration.")
    hyps = [b" We deployed the service on Kubernetes last week.",
            b" We deployed the service on Cubernetes last week.",
            b" The customer data is stored in PostgreSQL.",
            b" The customer data is stored in Postgres QL."]
    scores = {}
    for int8 in (False, True):
        scorer = PrefixScorer(llm, int8_steps=int8)
        scorer.reset(prompt)
        scores[int8] = [s.logprob / s.n_adj for s in scorer.score(hyps)]
    assert max(abs(a - b) for a, b in zip(scores[False], scores[True])) < 0.1
    for s in scores.values():
        assert s[0] > s[1] and s[2] > s[3]


# -- fusion that respects the acoustics --------------------------------------------------------
def test_glossary_terms_are_the_prompts_rare_words(asr):
    from longspeech.fusion.terms import glossary_terms

    terms = glossary_terms(asr, "Glossary: Kubernetes, the meeting, Siobhan's team; etcd 2024.")
    words = [t.text for t in terms]
    assert "Kubernetes" in words and "Siobhan's" in words and "etcd" in words
    assert "the" not in words and "meeting" not in words and "2024" not in words
    k8s = terms[words.index("Kubernetes")]
    assert asr.text(list(k8s.tokens)) == " Kubernetes" and len(k8s.tokens) >= 2


def test_a_confident_acoustic_choice_is_never_overruled(asr, bpe_llm):
    """An LLM that knows nothing (random weights) given almost all the weight garbles clean
    speech in the paper's fusion; with the acoustic margin it can only choose among tokens
    Whisper finds nearly as likely, and the words stay right."""
    from longspeech.audio import load
    from longspeech.eval import normalize

    x = load(JFK)
    paper = _gfd(asr, bpe_llm, weight=0.9, acoustic_margin=None, guard=None).decode(x)
    assert normalize(paper.text) != normalize(JFK_TEXT)
    gated = _gfd(asr, bpe_llm, weight=0.9, acoustic_margin=0.1, guard=None).decode(x)
    assert normalize(gated.text) == normalize(JFK_TEXT)
    # and the LLM was asked only where its scores could change the survivors
    assert gated.llm_calls < paper.llm_calls


def test_the_guard_keeps_the_plain_hypothesis_and_says_so(tmp_path, asr, bpe_llm):
    """The same garbling LLM, no margin, with the segment guard: Whisper alone finds the
    fused text far less likely than the plain search's, so the plain text is kept, and the
    transcript's segments and provenance record which decoder made them."""
    from longspeech.audio import load
    from longspeech.eval import normalize
    from longspeech.pipelines.transcribe import TranscribeOptions, transcribe_file

    engine = _gfd(asr, bpe_llm, weight=0.9, acoustic_margin=None, guard=0.2)
    res = engine.decode(load(JFK))
    assert res.guarded and normalize(res.text) == normalize(JFK_TEXT)
    tr = transcribe_file(JFK, engine, TranscribeOptions(asr=AsrOptions(engine="gfd")))
    assert {s.decoder for s in tr.segments} == {"plain"}
    assert tr.provenance["asr"]["segments_by_decoder"] == {"plain": len(tr.segments)}
    # a guard that tolerates everything keeps the fused text
    assert not _gfd(asr, bpe_llm, weight=0.9, acoustic_margin=None,
                    guard=100.0).decode(load(JFK)).guarded


def test_the_guards_plain_search_runs_beside_the_fused_one(asr, bpe_llm):
    """The garbling LLM leads the fused search away from the plain one. Run one after the
    other, the plain search needs decoder calls of its own; side by side, each step of both
    is one call, and each finds what it finds alone."""
    from longspeech.audio import load
    from longspeech.fusion.beam import fused_search, plain_search, run_searches
    from longspeech.fusion.whisper import WhisperSteps

    enc = asr.encode([load(JFK)])
    prefix = asr.prefix()
    opts = FusionOptions(weight=0.9, acoustic_margin=None)
    scorer = PrefixScorer(bpe_llm)
    prompt = "The following is a transcription of a spoken sentence:"
    apart = WhisperSteps(asr, enc, prefix)
    scorer.reset(prompt)
    fused = fused_beam_search(asr, enc, prefix, scorer, opts, steps=apart)
    plain = plain_beam_search(asr, enc, prefix, steps=apart)
    assert fused.tokens != plain.tokens
    together = WhisperSteps(asr, enc, prefix)
    scorer.reset(prompt)
    fused2, plain2 = run_searches(together, [fused_search(asr, together, scorer, opts),
                                             plain_search(asr, together)])
    assert (fused2.tokens, plain2.tokens) == (fused.tokens, plain.tokens)
    assert fused2.asr_score == pytest.approx(fused.asr_score, abs=1e-4)
    assert plain2.asr_score == pytest.approx(plain.asr_score, abs=1e-4)
    assert together.tree.forwards == max(fused.steps, plain.steps) + 1   # + the prompt
    assert apart.tree.forwards > together.tree.forwards


def test_a_search_stops_at_the_text_its_audio_can_hold(asr):
    """A chunk's duration caps its text (12 tokens a second + 16): told the 11-second JFK
    clip lasted half a second, the search stops at the cap and says it ran away; told its
    real length, it ends at EOT with the text it finds without a cap."""
    from longspeech.audio import load
    from longspeech.fusion.whisper import WhisperSteps, text_token_limit

    x = load(JFK)
    enc = asr.encode([x])
    prefix = asr.prefix()
    free = plain_beam_search(asr, enc, prefix)
    real = WhisperSteps(asr, enc, prefix, seconds=len(x) / 16000)
    res = plain_beam_search(asr, enc, prefix, steps=real)
    assert res.tokens == free.tokens and not real.ran_away(res.beams[0].tokens)
    short = WhisperSteps(asr, enc, prefix, seconds=0.5)
    assert short.limit == len(prefix) + text_token_limit(0.5) == len(prefix) + 22
    cut = plain_beam_search(asr, enc, prefix, steps=short)
    assert len(cut.beams[0].tokens) == 23 and short.ran_away(cut.beams[0].tokens)
    assert cut.tokens == free.tokens[:23]


def test_a_search_that_runs_away_is_decoded_by_the_fallback(tmp_path, asr, monkeypatch):
    """Where the search reaches the duration's cap (a loop, in practice), the chunk is
    decoded again by the transformers engine with its fallback, and the segments say so.
    Here a cap of 16 tokens for any duration stands in for the loop."""
    from longspeech.eval import normalize
    from longspeech.fusion import whisper
    from longspeech.pipelines.transcribe import TranscribeOptions, transcribe_file

    monkeypatch.setattr(whisper, "MAX_TOKEN_RATE", 0.0)
    tr = transcribe_file(JFK, _gfd(asr, weight=0.0),
                         TranscribeOptions(asr=AsrOptions(engine="gfd")))
    assert {s.decoder for s in tr.segments} == {"fallback"}
    assert normalize(" ".join(s.text for s in tr.segments)) == normalize(JFK_TEXT)


def test_a_glossary_term_whisper_never_ranks_is_offered_and_scored(tmp_path, asr):
    """tiny.en hears espeak's "Kubernetes" as "Cubernetes" and never ranks " Kub" among its
    top-5; offered from the glossary, the term is scored by Whisper and SmolLM2 and wins."""
    from longspeech.audio import load
    from longspeech.llm import load_llm

    x = load(espeak("We deployed the service on Kubernetes last week.", tmp_path / "k.wav"))
    llm = load_llm("smollm2")
    glossary = "Glossary: Kubernetes, Grafana, Siobhan."
    assert "Cubernetes" in _gfd(asr, weight=0.0).decode(x).text
    offered = _gfd(asr, llm, prompt=glossary).decode(x)       # the defaults
    assert offered.text.strip() == "We deployed the service on Kubernetes last week."
    assert offered.beams[0].offered and not offered.guarded
    # with no glossary, nothing is offered and the text stays as Whisper heard it
    assert "Cubernetes" in _gfd(asr, llm).decode(x).text


def test_words_that_sound_like_a_term_are_respelling_candidates(asr):
    """Sound keys fold spellings of one sound; runs of words become the term with their
    punctuation kept; words holding a term already are never replaced."""
    from longspeech.asr.respell import candidates, respell_terms, sound_key, sounds_alike

    assert sound_key("Cowalksick") == "kovalksik" and sound_key("Kowalczyk") == "kovalsik"
    assert sounds_alike("Cowalksick", "Kowalczyk") > 0.9
    assert sounds_alike("the", "Tbilisi") == 0.0          # lengths too far apart
    found = candidates("Dr. Akha for moved it to Balesi.", ["Okafor", "Tbilisi"], 0.6)
    assert ("Dr. Okafor moved it to Balesi.", "Akha for", "Okafor") in found
    assert ("Dr. Akha for moved it Tbilisi.", "to Balesi.", "Tbilisi") in found
    assert ("Dr. Okafor moved it to Balesi.", "Dr. Akha for", "Okafor") not in found
    assert ("Ask Siobhan's team", "Shivon's", "Siobhan's") in candidates(
        "Ask Shivon's team", ["Siobhan"], 0.6)
    assert not candidates("Okafor moved it.", ["Okafor"], 0.6)
    # several Whisper tokens, or capitalised after a sentence's first word
    terms = respell_terms(asr, "Glossary: Kubernetes, Redis, Siobhan. Ask the team.")
    assert {"Kubernetes", "Redis", "Siobhan"} <= set(terms)
    assert "Ask" not in terms and "team" not in terms


def test_a_misheard_term_is_respelled_only_where_the_audio_carries_it(tmp_path, asr):
    """tiny.en hears espeak's "Prometheus sends" as "Promete this"; the glossary's term is
    put in its place because Whisper finds it about as likely and the LLM far likelier. A
    glossary term that only resembles what was said ("Kitchener" for "the kitchen") costs
    Whisper more than the LLM gains, and the text stays as heard."""
    from longspeech.audio import load
    from longspeech.llm import load_llm

    llm = load_llm("smollm2")
    glossary = "Glossary: Kubernetes, Grafana, Prometheus, Kitchener."
    x = load(espeak("Prometheus sends an alert when the disk is full.", tmp_path / "p.wav"))
    heard = _gfd(asr, llm, prompt=glossary, respell_margin=None).decode(x)
    assert "Prometheus" not in heard.text and not heard.respelled
    fixed = _gfd(asr, llm, prompt=glossary).decode(x)       # the defaults
    assert fixed.text.split()[0] == "Prometheus"
    assert [r.term for r in fixed.respelled] == ["Prometheus"]
    assert fixed.respelled[0].asr_change > -15 and fixed.respelled[0].llm_change > 0
    y = load(espeak("We moved the meeting to the kitchen on Tuesday.", tmp_path / "k.wav"))
    kept = _gfd(asr, llm, prompt=glossary).decode(y)
    assert "kitchen" in kept.text and not kept.respelled
