"""Glossary terms put in place of words that sound like them, where Whisper and the LLM agree.

Offering a term during the search (fusion/terms.py) needs Whisper to rank the term's first token
near its best; tiny.en often never does ("Dr. Akha" for Dr. Okafor, "Cowalksick" for
Kowalczyk), so the term is never offered. After the search, each run of one to four words
that sounds like a glossary term (the same letters after folding spellings of one sound,
compared with rapidfuzz) yields the text with the term in its place. Whisper scores it
against the chunk's audio (teacher-forced, summed over its tokens) and the LLM scores it
after the prompt, as the search scores hypotheses; the respelling is kept when it costs
Whisper at most `respell_margin` nats and the LLM gains more than Whisper loses (their
product of probabilities rises). Scored, never forced: a term the audio does not carry
costs Whisper more than the margin, or more than the LLM gains. Repeated while a respelling
is kept (one term a round).

The terms are the prompt's words that Whisper spells with several tokens (as offered to the
search) and its capitalised words after a sentence's first word (names Whisper knows whole).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from ..fusion.prefix import PrefixScorer
from ..fusion.terms import WORD
from ..fusion.tree import Node
from ..fusion.whisper import WhisperAsr, WhisperSteps

MAX_SPAN_WORDS = 4
MAX_OFFERS = 8        # the most alike candidates scored per round
# Spellings folded to one letter before comparing how words sound (English spelling).
_FOLDS = (("ph", "f"), ("ck", "k"), ("kh", "k"), ("gh", "g"), ("sch", "sk"), ("sh", "s"),
          ("ch", "k"), ("cz", "s"), ("tz", "s"), ("x", "ks"), ("q", "k"), ("c", "k"),
          ("z", "s"), ("y", "i"), ("w", "v"), ("j", "i"))
_LETTERS = re.compile(r"[^a-z]")
_EDGE = re.compile(r"^(\W*)(.*?)(\W*)$", re.S)


def sound_key(text: str) -> str:
    """Letters only, lower case, spellings of one sound folded, doubled letters single."""
    key = _LETTERS.sub("", text.lower())
    for a, b in _FOLDS:
        key = key.replace(a, b)
    return re.sub(r"(.)\1+", r"\1", key)


def sounds_alike(said: str, term: str) -> float:
    """0-1: how alike the two sound by their folded letters."""
    a, b = sound_key(said), sound_key(term)
    if not a or not b or not 0.5 <= len(a) / len(b) <= 1.6:
        return 0.0
    return fuzz.ratio(a, b) / 100.0


@dataclass(frozen=True)
class Respelling:
    said: str          # the words replaced
    term: str
    asr_change: float  # Whisper's summed log-likelihood, respelled minus as decoded (nats)
    llm_change: float  # the LLM's


def respell_terms(asr: WhisperAsr, prompt: str) -> tuple[str, ...]:
    """The prompt's words worth respelling to: several Whisper tokens, or capitalised and not
    first in their sentence."""
    out: dict[str, None] = {}
    for sentence in re.split(r"[.!?]\s+", prompt):
        for k, word in enumerate(WORD.findall(sentence)):
            if word.isdigit():
                continue
            if (k > 0 and word[0].isupper()) or len(asr.tokenizer.encode(" " + word)) >= 2:
                out[word] = None
    return tuple(out)


def candidates(text: str, terms: Sequence[str], similarity: float) -> list[tuple[str, str, str]]:
    """(respelled text, words replaced, term) for every run of words that sounds like a term
    at least `similarity` alike, the most alike first; runs holding a term already are left
    alone."""
    words = text.split()
    names = {t.lower() for t in terms}
    out = []
    for i in range(len(words)):
        for j in range(i + 1, min(len(words), i + MAX_SPAN_WORDS) + 1):
            span = words[i:j]
            bare = [_EDGE.match(w).group(2).lower() for w in span]   # type: ignore[union-attr]
            if any(b in names for b in bare):
                break
            said = " ".join(span)
            lead = _EDGE.match(span[0]).group(1)                      # type: ignore[union-attr]
            tail = _EDGE.match(span[-1]).group(3)                     # type: ignore[union-attr]
            owner = bare[-1].endswith(("'s", "’s"))
            for term in terms:
                alike = sounds_alike(said, term)
                if alike >= similarity:
                    for spelt in (term, term + bare[-1][-2:]) if owner else (term,):
                        new = " ".join(words[:i] + [lead + spelt + tail] + words[j:])
                        out.append((alike, (new, said, spelt)))
    out.sort(key=lambda o: -o[0])     # stable: the most alike first, then in text order
    return [c for _, c in out]


def _asr_logprobs(steps: WhisperSteps, texts: Sequence[list[int]]) -> list[float]:
    """Whisper's summed log-probability of each token sequence then the end of text: what the
    search already knows (its best tokens after each node), the rest in one decoder call over
    the chunk's token tree (shared beginnings are computed once)."""
    tree = steps.tree
    eot = steps.asr.eot
    steps_of = [list(zip([tree.root, *tree.path(ids)], [*ids, eot])) for ids in texts]
    need = {id(n): n for pairs in steps_of for n, t in pairs if steps.known(n, t) is None}
    rows = dict(zip(need, steps.logprobs(list(need.values())))) if need else {}

    def lp(n: Node, t: int) -> float:
        return float(rows[id(n)][t]) if id(n) in rows else steps.known(n, t)

    return [sum(lp(n, t) for n, t in pairs) for pairs in steps_of]


def respell(steps: WhisperSteps, tokens: list[int], terms: Sequence[str], scorer: PrefixScorer,
            margin: float, similarity: float) -> tuple[list[int], list[Respelling]]:
    """The chunk's tokens with the respellings kept: `steps` is the chunk's decoder,
    `scorer` reset to its LLM prompt."""
    asr = steps.asr
    done: list[Respelling] = []
    room = asr.max_len - steps.prefix_len - 1

    def content(ids: list[int]) -> bytes:
        return b"".join(asr.token_bytes[t] for t in ids)

    for _ in range(len(terms)):
        offers = []
        for new, said, term in candidates(asr.text(tokens).strip(), terms,
                                          similarity)[:MAX_OFFERS]:
            ids = list(asr.tokenizer.encode(" " + new))
            if len(ids) <= room:
                offers.append((ids, said, term))
        if not offers:
            break
        asr_lp = _asr_logprobs(steps, [tokens] + [ids for ids, _, _ in offers])
        # the LLM is asked only about the offers Whisper finds within the margin
        heard = [(o, a - asr_lp[0]) for o, a in zip(offers, asr_lp[1:])
                 if a - asr_lp[0] >= -margin]
        if not heard:
            break
        llm = scorer.score([content(tokens)] + [content(o[0]) for o, _ in heard])
        best = None
        for ((ids, said, term), da), ls in zip(heard, llm[1:]):
            dl = ls.logprob - llm[0].logprob
            gain = da + dl
            if gain > 0 and (best is None or gain > best[0]):
                best = (gain, ids, Respelling(said, term, round(da, 3), round(dl, 3)))
        if best is None:
            break
        tokens = best[1]
        done.append(best[2])
    return tokens, done
